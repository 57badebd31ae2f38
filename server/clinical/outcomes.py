"""Change rules and summary statistics for per-patient trends and cohorts, as pure functions."""
import bisect
import math
import statistics
from collections.abc import Sequence

from .instruments import Instrument

# Policy (clinical.md): improved when past the MIC 'or' ('and') past the relative threshold.
MIC_RULE = "or"

# Jacobson & Truax 1991 (J Consult Clin Psychol 59:12-19): |RC| > 1.96.
RELIABLE_CHANGE_Z = 1.96

# Dworkin et al. 2008 (J Pain 9:105-121): >= 50% substantial, >= 30% moderate; 10-20% is
# minimally important, so the minimal band starts at the lower edge, 10%.
IMMPACT_BANDS = ((0.50, "substantial"), (0.30, "moderate"), (0.10, "minimal"))


def change_status(
    instrument: Instrument, baseline: float, followup: float, *, rule: str = MIC_RULE
) -> str | None:
    """'improved', 'unchanged' or 'worsened' by the MIC rule; None without a MIC."""
    if rule not in ("or", "and"):
        raise ValueError(f"Unknown MIC rule: {rule!r}")
    if instrument.mic is None:
        return None
    lower_is_better = instrument.direction == "lower"
    improvement = baseline - followup if lower_is_better else followup - baseline
    if -improvement >= instrument.mic:
        return "worsened"
    past_mic = improvement >= instrument.mic
    # Ostelo et al. 2008 (Spine 33:90-94): 30% improvement from baseline, lower-is-better only.
    if lower_is_better and instrument.mic_percent is not None and baseline > 0:
        past_percent = _reduction(baseline, followup) >= instrument.mic_percent
        improved = past_mic or past_percent if rule == "or" else past_mic and past_percent
    else:
        improved = past_mic
    return "improved" if improved else "unchanged"


def s_diff(sem: float) -> float:
    """The standard error of a difference of two measurements (Jacobson & Truax 1991)."""
    return math.sqrt(2) * sem


def reliable_change_index(instrument: Instrument, baseline: float, followup: float) -> float | None:
    """(followup - baseline) / S_diff (Jacobson & Truax 1991); None without an SEM."""
    if instrument.sem is None:
        return None
    return (followup - baseline) / s_diff(instrument.sem)


def is_reliable_change(rci: float | None) -> bool | None:
    """Whether a reliable change index is beyond measurement error; None when it is None."""
    return None if rci is None else abs(rci) > RELIABLE_CHANGE_Z


def pct_change(baseline: float, followup: float) -> float | None:
    """The change in percent of baseline (negative for a decrease); None when baseline is 0."""
    return None if baseline == 0 else 100 * (followup - baseline) / baseline


def immpact_pain_band(baseline: float, followup: float) -> str | None:
    """The IMMPACT band of a pain reduction (Dworkin et al. 2008); None when baseline is 0."""
    if baseline == 0:
        return None
    reduction = _reduction(baseline, followup)
    return next((band for edge, band in IMMPACT_BANDS if reduction >= edge), "none")


def _reduction(baseline: float, followup: float) -> float:
    """The reduction as a fraction of baseline; a division keeps 3/10 equal to 0.3 exactly."""
    return (baseline - followup) / baseline


def ls_slope(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares slope per 30 days and its standard error, from (days, value) points."""
    n = len(points)
    if n < 3:
        return None
    # Lists, not generators: the same sums in the same order; fsum / n is what fmean does.
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mean_x = math.fsum(xs) / n
    mean_y = math.fsum(ys) / n
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    sxx = sum([d**2 for d in dx])
    if sxx == 0:
        return None
    slope = sum([a * b for a, b in zip(dx, dy)]) / sxx
    sse = sum([(b - slope * a) ** 2 for a, b in zip(dx, dy)])
    se = math.sqrt(sse / (n - 2) / sxx)
    return 30 * slope, 30 * se


def wilson_interval(
    successes: int, n: int, z: float = 1.959964
) -> tuple[float, float, float] | tuple[None, None, None]:
    """The proportion and its Wilson score interval (Wilson 1927); Nones when n is 0."""
    if n == 0:
        return None, None, None
    p = successes / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    return p, centre - half_width, centre + half_width


def response_sd(sd_change: float, s_diff: float | None) -> float | None:
    """The spread of true individual responses, net of measurement error (Atkinson & Batterham)."""
    if s_diff is None:
        return None
    return math.sqrt(max(0.0, sd_change**2 - s_diff**2))


def summarize(values: Sequence[float]) -> dict[str, float | None]:
    """Mean, sample SD, median, inclusive quartiles, min and max; None where undefined."""
    if not values:
        return dict.fromkeys(("mean", "sd", "median", "q1", "q3", "min", "max"))
    if len(values) == 1:
        q1 = q3 = values[0]
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    mean = statistics.fmean(values)
    return {
        "mean": mean,
        "sd": _sample_sd(values, mean) if len(values) > 1 else None,
        "median": statistics.median(values),
        "q1": q1,
        "q3": q3,
        "min": min(values),
        "max": max(values),
    }


def _sample_sd(values: Sequence[float], mean: float) -> float:
    """Sample standard deviation in floats (statistics.stdev's exact fractions are slow)."""
    return math.sqrt(math.fsum((x - mean) ** 2 for x in values) / (len(values) - 1))


# Policy (issue 13): a reference distribution needs this many comparable patients, else no band.
MIN_REFERENCE_PATIENTS = 10
REFERENCE_PERCENTILES = (10, 25, 50, 75, 90)


def reference_percentiles(ordered: Sequence[float]) -> dict[str, float]:
    """The 10th, 25th, 50th, 75th and 90th percentiles of sorted values, by the inclusive method
    (clinical.md; statistics.quantiles(method="inclusive") interpolates the same way)."""
    last = len(ordered) - 1
    found = {}
    for p in REFERENCE_PERCENTILES:
        position = last * p / 100
        low = math.floor(position)
        high = min(low + 1, last)
        found[f"p{p}"] = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return found


def percentile_rank(value: float, ordered: Sequence[float]) -> float:
    """100 · (count below + half the count equal) / n among sorted values: the mid-rank
    definition (clinical.md)."""
    below = bisect.bisect_left(ordered, value)
    equal = bisect.bisect_right(ordered, value) - below
    return 100 * (below + 0.5 * equal) / len(ordered)
