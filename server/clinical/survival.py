"""Time to an event (surgery, a serious adverse event) after a treatment: the Kaplan–Meier estimate.

Kaplan & Meier 1958 (J Am Stat Assoc 53:457-81), Greenwood's variance, and the log-log 95%
interval (Kalbfleisch & Prentice), as ../shared/reference/clinical.md gives them.
"""
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

Z_95 = 1.96
# The time points survival is reported at, in days from the treatment (6, 12 and 24 months).
REPORT_DAYS = {"6m": 182, "12m": 365, "24m": 730}


@dataclass(frozen=True)
class Step:
    """The estimate just after one distinct time at which something happened."""

    time: float
    at_risk: int  # subjects still followed just before `time`
    events: int
    censored: int
    survival: float
    se: float | None  # Greenwood's standard error
    ci_low: float | None
    ci_high: float | None


def _interval(survival: float, greenwood_sum: float) -> tuple[float | None, float | None]:
    """The log-log 95% interval: S^exp(±1.96·sqrt(v)), v = sum / (ln S)^2."""
    if survival <= 0.0:
        return 0.0, 0.0
    if survival >= 1.0:
        return 1.0, 1.0
    if math.isinf(greenwood_sum):
        return None, None
    half = Z_95 * math.sqrt(greenwood_sum / math.log(survival) ** 2)
    return survival ** math.exp(half), survival ** math.exp(-half)


def kaplan_meier(observations: Sequence[tuple[float, bool]]) -> list[Step]:
    """Steps of the estimate from (time, event happened?) pairs; False means censored then.

    A subject censored at the same time as an event is still at risk at that event.
    """
    events = Counter(time for time, happened in observations if happened)
    censored = Counter(time for time, happened in observations if not happened)
    at_risk = len(observations)
    survival, greenwood_sum, steps = 1.0, 0.0, []
    for time in sorted(events.keys() | censored.keys()):
        deaths = events[time]
        if deaths:
            survival *= 1 - deaths / at_risk
            remaining = at_risk - deaths
            greenwood_sum += math.inf if remaining == 0 else deaths / (at_risk * remaining)
        se = None if math.isinf(greenwood_sum) else survival * math.sqrt(greenwood_sum)
        steps.append(
            Step(time, at_risk, deaths, censored[time], survival, se, *_interval(survival, greenwood_sum))
        )
        at_risk -= deaths + censored[time]
    return steps


def estimate_at(steps: Sequence[Step], time: float) -> dict:
    """The estimate at a time with its interval, and how many were still at risk then.

    Past the longest follow-up the estimate is unknown (None), unless it had already reached 0.
    """
    at_risk = next((step.at_risk for step in steps if step.time >= time), 0)
    last = None
    for step in steps:
        if step.time > time:
            break
        last = step
    if last is None:
        survival, low, high = (1.0, 1.0, 1.0) if steps else (None, None, None)
    elif at_risk == 0 and last.survival > 0 and time > steps[-1].time:
        survival, low, high = None, None, None
    else:
        survival, low, high = last.survival, last.ci_low, last.ci_high
    return {"survival": survival, "ci_low": low, "ci_high": high, "at_risk": at_risk}


def observation(
    treated_on: date, event_dates: Sequence[date], last_contact: date | None, event: str
) -> tuple[int, bool]:
    """(days, event happened?) for one treatment: the first event after it, else censored.

    A surgery counts when it follows the treatment; an adverse event from the treatment's day.
    Without an event the treatment is censored at the last contact (clinical.md, "Analytics").
    """
    if event == "surgery":
        after = [day for day in event_dates if day > treated_on]
    else:
        after = [day for day in event_dates if day >= treated_on]
    if after:
        return (after[0] - treated_on).days, True
    return max(0, (last_contact - treated_on).days) if last_contact else 0, False
