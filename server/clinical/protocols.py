"""Follow-up protocols as data: time points, their windows and what is asked at each."""
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class TimePoint:
    """A follow-up visit: target day after treatment and its window, in days."""

    label: str
    day: int
    opens: int  # first day of the window, relative to the treatment
    closes: int  # last day of the window, relative to the treatment
    instruments: tuple[str, ...]

    def contains(self, days_from_treatment: int) -> bool:
        """True when the day falls inside the window."""
        return self.opens <= days_from_treatment <= self.closes

    def dates(self, treated_on: date) -> tuple[date, date, date]:
        """The window's first day, target day and last day for a treatment date."""
        return tuple(treated_on + timedelta(days=n) for n in (self.opens, self.day, self.closes))


@dataclass(frozen=True)
class Protocol:
    """A named follow-up schedule anchored on a treatment date."""

    code: str
    title: str
    time_points: tuple[TimePoint, ...]

    def time_point(self, label: str) -> TimePoint | None:
        """The time point with this label, or None."""
        return next((tp for tp in self.time_points if tp.label == label), None)


def _spine_standard() -> Protocol:
    # Windows are a policy (clinical.md: not standardised); time points after
    # ICHOM (Clement 2015) and cell-therapy trials, with 2 and 6 weeks added.
    points = [
        ("baseline", 0, 30, 0),
        ("2w", 14, 3, 3),
        ("6w", 42, 7, 7),
        ("3m", 91, 14, 14),
        ("6m", 182, 30, 30),
        ("12m", 365, 30, 30),
        ("24m", 730, 60, 60),
    ]
    rmdq_at = {"baseline", "3m", "12m"}
    return Protocol(
        code="spine-standard",
        title="Spine standard follow-up (baseline to 24 months)",
        time_points=tuple(
            TimePoint(
                label,
                day,
                day - before,
                day + after,
                ("nrs_pain", "odi")
                + (("rmdq",) if label in rmdq_at else ())
                + (("pgic",) if label != "baseline" else ()),
            )
            for label, day, before, after in points
        ),
    )


def _pain_diary() -> Protocol:
    # Weekly windows of +/-3 days never overlap.
    return Protocol(
        code="pain-diary",
        title="Weekly pain diary for 12 weeks",
        time_points=tuple(
            TimePoint(f"w{week}", 7 * week, 7 * week - 3, 7 * week + 3, ("nrs_pain",))
            for week in range(1, 13)
        ),
    )


PROTOCOLS: dict[str, Protocol] = {p.code: p for p in (_spine_standard(), _pain_diary())}


def get_protocol(code: str) -> Protocol | None:
    """The protocol with this code, or None."""
    return PROTOCOLS.get(code)


# Time point labels are unique across protocols, so a label alone gives its target day.
_TARGET_DAY = {tp.label: tp.day for p in PROTOCOLS.values() for tp in p.time_points}


def in_time_order(timepoints: dict) -> list[tuple]:
    """(label, value) pairs of a {label: value} mapping in follow-up order."""
    return sorted(timepoints.items(), key=lambda item: _TARGET_DAY.get(item[0], 0))
