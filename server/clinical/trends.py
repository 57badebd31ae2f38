"""A patient's trends after each treatment, computed from plain data."""
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .instruments import INSTRUMENTS, Instrument
from .outcomes import (
    RELIABLE_CHANGE_Z,
    change_status,
    immpact_pain_band,
    is_reliable_change,
    ls_slope,
    pct_change,
    reliable_change_index,
    s_diff,
)
from .protocols import PROTOCOLS, Protocol

# A baseline is the latest value from this many days before the treatment up to its day.
BASELINE_DAYS = 30
# Treatments recorded without a protocol are read against the spine-standard time points.
DEFAULT_PROTOCOL = "spine-standard"
PAIN_INSTRUMENTS = ("nrs_pain", "vas_pain")


@dataclass(frozen=True)
class Measure:
    """A score followed over time: an instrument's primary score or one of its subscores."""

    instrument: str
    subscore: str | None = None

    @property
    def definition(self) -> Instrument:
        """The instrument this measure comes from."""
        return INSTRUMENTS[self.instrument]

    @property
    def score_name(self) -> str:
        """The subscore key, or the instrument's primary score name."""
        return self.subscore or self.definition.score_name

    @property
    def is_pain(self) -> bool:
        """Pain intensity, for which the IMMPACT bands apply."""
        return self.instrument in PAIN_INSTRUMENTS

    def value_of(self, reading: "Reading") -> float | None:
        """This measure's value in a reading, or None."""
        if self.subscore is None:
            return reading.score
        return reading.subscores.get(self.subscore)


MEASURES = (
    Measure("nrs_pain"),
    Measure("nrs_pain", "leg"),
    Measure("odi"),
    Measure("rmdq"),
    Measure("psfs"),
    Measure("vas_pain"),
)
# Each instrument's measures, with their place in MEASURES.
MEASURE_INDEX: dict[str, tuple[tuple[int, Measure], ...]] = {
    code: tuple((n, m) for n, m in enumerate(MEASURES) if m.instrument == code)
    for code in {m.instrument for m in MEASURES}
}


def find_measure(instrument: str, score_name: str | None = None) -> Measure | None:
    """The measure of this instrument with this score name (its primary one by default)."""
    for _, measure in MEASURE_INDEX.get(instrument, ()):
        if (score_name or measure.definition.score_name) == measure.score_name:
            return measure
    return None


class TreatmentFacts(NamedTuple):
    """What the trends need to know about a treatment."""

    id: int
    kind: str
    performed_on: date
    protocol: str | None = None


class Reading(NamedTuple):
    """A stored check-in, as the trends read it (a tuple: a recompute builds many)."""

    instrument: str
    completed_at: datetime
    score: float | None
    subscores: dict
    scorable: bool = True
    voided: bool = False


class Point(NamedTuple):
    """One value of a measure, placed in days from a treatment."""

    at: datetime
    days: int
    value: float


@dataclass
class MeasureTrend:
    """One measure after one treatment: baseline, time points, latest, change and slope."""

    measure: Measure
    baseline: Point | None
    latest: Point | None
    timepoints: dict[str, Point | None]
    series: list[Point]
    n_points: int
    slope_per_30d: float | None = None
    slope_se: float | None = None
    change: float | None = None
    pct_change: float | None = None
    status: str | None = None
    rci: float | None = None
    reliable_change: bool | None = None
    immpact_band: str | None = None


@dataclass
class TreatmentTrend:
    """The trends of every measure with data around one treatment."""

    treatment: TreatmentFacts
    measures: list[MeasureTrend]


def compare(measure: Measure, baseline: float, followup: float) -> dict:
    """Change, percent change, MIC status, reliable change and (pain only) IMMPACT band."""
    instrument = measure.definition
    rci = reliable_change_index(instrument, baseline, followup)
    return {
        "change": followup - baseline,
        "pct_change": pct_change(baseline, followup),
        "status": change_status(instrument, baseline, followup),
        "rci": rci,
        "reliable_change": is_reliable_change(rci),
        "immpact_band": immpact_pain_band(baseline, followup) if measure.is_pain else None,
    }


def change_zones(measure: Measure, baseline: float) -> dict:
    """Around a baseline: no important change (within the MIC) and measurement error.

    The error zone is baseline ± 1.96 · S_diff (Jacobson & Truax 1991), None without an SEM;
    the MIC zone is None without a MIC.
    """
    instrument = measure.definition
    zones = {"no_important_change": None, "measurement_error": None}
    if instrument.mic is not None:
        zones["no_important_change"] = (baseline - instrument.mic, baseline + instrument.mic)
    if instrument.sem is not None:
        half = RELIABLE_CHANGE_Z * s_diff(instrument.sem)
        zones["measurement_error"] = (baseline - half, baseline + half)
    return zones


def protocol_of(treatment: TreatmentFacts) -> Protocol:
    """The treatment's follow-up protocol, or the default one."""
    return PROTOCOLS.get(treatment.protocol or DEFAULT_PROTOCOL) or PROTOCOLS[DEFAULT_PROTOCOL]


def _dated_values(readings, timezone):
    """Per measure, in MEASURES order: (instant, local day ordinal, value) of the scorable,
    non-voided readings, in time order."""
    zone = ZoneInfo(timezone)
    values = [[] for _ in MEASURES]
    for reading in sorted(readings, key=attrgetter("completed_at")):
        if reading.voided or not reading.scorable:
            continue
        day = reading.completed_at.astimezone(zone).toordinal()
        for index, measure in MEASURE_INDEX.get(reading.instrument, ()):
            value = measure.value_of(reading)
            if value is not None:
                values[index].append((reading.completed_at, day, float(value)))
    return values


def _closest(points, time_point):
    """The point inside the time point's window closest to its day; ties go to the later one."""
    best, best_distance = None, None
    for point in points:  # in time order, so `<=` lets the later of two equals win
        if time_point.opens <= point.days <= time_point.closes:
            distance = abs(point.days - time_point.day)
            if best is None or distance <= best_distance:
                best, best_distance = point, distance
    return best


def _around(dated, anchor, follow_up_ends):
    """The points of the baseline window, and those of the follow-up until it ends."""
    before, after = [], []
    for at, day, value in dated:
        days = day - anchor
        if -BASELINE_DAYS <= days <= 0:
            before.append(Point(at, days, value))
        elif days > 0 and (follow_up_ends is None or day < follow_up_ends):
            after.append(Point(at, days, value))
    return before, after


def _follow_ups(treatments):
    """Each treatment in date order with its anchor day and the day its follow-up ends."""
    ordered = sorted(treatments, key=lambda t: (t.performed_on, t.id))
    for index, treatment in enumerate(ordered):
        later = ordered[index + 1] if index + 1 < len(ordered) else None
        follow_up_ends = later.performed_on.toordinal() - BASELINE_DAYS if later else None
        yield treatment, treatment.performed_on.toordinal(), follow_up_ends


def _measure_trend(measure, dated, anchor, follow_up_ends, protocol):
    """The trend of one measure after a treatment on day ordinal `anchor`, or None without data."""
    before, after = _around(dated, anchor, follow_up_ends)
    if not before and not after:
        return None
    baseline = before[-1] if before else None
    latest = after[-1] if after else None
    slope = ls_slope([(point.days, point.value) for point in after]) or (None, None)
    return MeasureTrend(
        measure=measure,
        baseline=baseline,
        latest=latest,
        timepoints={
            tp.label: _closest(before if tp.day <= 0 else after, tp) for tp in protocol.time_points
        },
        series=before + after,
        n_points=len(after),
        slope_per_30d=slope[0],
        slope_se=slope[1],
        **(compare(measure, baseline.value, latest.value) if baseline and latest else {}),
    )


def patient_trends(
    treatments: list[TreatmentFacts], readings: list[Reading], timezone: str
) -> list[TreatmentTrend]:
    """Every treatment's trends; a later treatment's baseline window ends the earlier follow-up."""
    values = _dated_values(readings, timezone)
    result = []
    for treatment, anchor, follow_up_ends in _follow_ups(treatments):
        protocol = protocol_of(treatment)
        measures = [
            trend
            for measure, dated in zip(MEASURES, values)
            if dated and (trend := _measure_trend(measure, dated, anchor, follow_up_ends, protocol))
        ]
        result.append(TreatmentTrend(treatment, measures))
    return result


def follow_up_values(
    readings: list[Reading], treatments: list[TreatmentFacts], timezone: str
) -> dict[int, dict[str, float | None]]:
    """Per treatment, a score that is no trend measure (the PGIC anchor) at each follow-up time
    point and as its latest value ("latest"), placed by the same windows as the trends."""
    zone = ZoneInfo(timezone)
    dated = [
        (r.completed_at, r.completed_at.astimezone(zone).toordinal(), float(r.score))
        for r in sorted(readings, key=attrgetter("completed_at"))
        if not r.voided and r.scorable and r.score is not None
    ]
    found = {}
    for treatment, anchor, follow_up_ends in _follow_ups(treatments):
        _, after = _around(dated, anchor, follow_up_ends)
        points = {
            tp.label: _closest(after, tp) for tp in protocol_of(treatment).time_points if tp.day > 0
        }
        points["latest"] = after[-1] if after else None
        found[treatment.id] = {label: point and point.value for label, point in points.items()}
    return found
