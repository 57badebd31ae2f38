"""How a demo patient's back fares after each treatment, and the check-ins that show it.

Plain data and a seeded random source: nothing here touches the database. The response
figures are illustrative, chosen so that the clinician pages show the spread between
treatments and between patients; they are not clinical claims about any treatment.
"""
import math
import uuid
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from server.clinical.instruments import ODI_SECTIONS
from server.clinical.protocols import TimePoint, get_protocol
from server.clock import utcnow


class Profile(NamedTuple):
    """How patients fare after one kind of treatment (illustrative figures)."""

    mix: tuple[float, float, float, float]  # shares of RESPONSES, in their order
    onset_days: float  # time constant of the change after the treatment
    fades_days: float | None  # time constant of the benefit wearing off; None: it lasts
    baseline_odi: tuple[int, int]  # ODI percent range before treatment


# Share of the baseline score gone once the treatment has taken effect; negative means worse.
RESPONSES = {
    "responder": (0.50, 0.80),
    "partial": (0.20, 0.40),
    "non_responder": (-0.10, 0.12),
    "worsened": (-0.60, -0.30),
}
FAILED = ("non_responder", "worsened")
# Illustrative, not clinical claims: cell therapy and PRP spread widely and act slowly,
# surgery helps most, quickly; a steroid injection helps soon and wears off within months;
# physical therapy helps moderately.
PROFILES = {
    "cell_therapy": Profile((0.35, 0.15, 0.32, 0.18), 75, None, (30, 60)),
    "prp": Profile((0.30, 0.20, 0.35, 0.15), 45, None, (25, 55)),
    "epidural_steroid": Profile((0.45, 0.25, 0.25, 0.05), 5, 70, (35, 65)),
    "medication": Profile((0.10, 0.25, 0.55, 0.10), 14, None, (20, 45)),
    "physical_therapy": Profile((0.18, 0.32, 0.40, 0.10), 50, None, (22, 50)),
    "surgery": Profile((0.65, 0.17, 0.10, 0.08), 21, None, (40, 70)),
    "other": Profile((0.20, 0.20, 0.45, 0.15), 30, None, (25, 55)),
}
# What a patient tries next when a non-surgical treatment failed or wore off.
CONSERVATIVE = ("physical_therapy", "epidural_steroid", "prp")
# First treatments happen over the two years before today.
FIRST_TREATED_DAYS_AGO = (14, 790)
UNLEVELLED = ("physical_therapy", "medication")
LEVELS = (["L4-L5"], ["L5-S1"], ["L4-L5", "L5-S1"], ["L3-L4"], ["L3-L4", "L4-L5"])
NOTES = {
    "medication": ("NSAID for six weeks", "Duloxetine", "Paracetamol and a short NSAID course"),
    "physical_therapy": ("Twelve sessions, home exercises", "Back school, eight weeks"),
    "surgery": ("Microdiscectomy", "Decompression", "Fusion, one level", "Fusion, two levels"),
    "other": ("Radiofrequency denervation of the facet joints", "Acupuncture, ten sessions"),
}
ACTIVITIES = ("walking the dog", "gardening", "sitting at work", "lifting a child", "cycling")
DIARY_NOTES = ("bad night", "after gardening", "long drive", "good day", None, None, None)
SECTION_KEYS = [key for key, _ in ODI_SECTIONS]
BASELINE = TimePoint("baseline", 0, -14, 0, ("nrs_pain", "odi"))
UTC = ZoneInfo("UTC")


class Step(NamedTuple):
    """One treatment of the course and how this patient responds to it."""

    kind: str
    cell_source: str | None
    performed_on: date
    protocol: str
    target_levels: list
    notes: str | None
    response: str
    share: float  # of the score at the treatment, gone once it has taken effect
    onset_days: float
    fades_days: float | None


class Course:
    """One patient's treatments, how the back responds, and the check-ins that show it.

    Everything is drawn from the patient's own random source relative to today, so a run on
    another day gives the same course shifted in time; what lies after today is left out.
    """

    def __init__(self, rng, row, today):
        self.rng, self.today = rng, today
        self.zone = ZoneInfo(row.timezone)
        profile = PROFILES[row.kind]
        self.baseline = (
            rng.uniform(*profile.baseline_odi),
            rng.randint(5, 9),
            rng.randint(2, 9),
        )
        self.miss_rate = rng.choices((0.05, 0.15, 0.4), (60, 25, 15))[0]
        self.noise = rng.choice((1.0, 1.0, 1.0, 1.8))  # some patients answer less steadily
        self.noisy_diary = rng.random() < 0.17
        self.psfs_activities = rng.sample(ACTIVITIES, 2) if rng.random() < 0.25 else None
        self.may_report = rng.random() < 0.3  # eligible for one of the adverse events
        first_on = today - timedelta(days=rng.randint(*FIRST_TREATED_DAYS_AGO))
        # Some stop answering (lost to follow-up), a few of them withdraw from the study.
        stops = rng.random()
        self.stops_on = first_on + timedelta(days=rng.randint(45, 500)) if stops < 0.1 else date.max
        self.withdraws = stops < 0.03 and self.stops_on <= today
        self.steps = self._plan(row.kind, row.cell_source, first_on)
        self.items = []

    def _step(self, kind, source, performed_on):
        rng, profile = self.rng, PROFILES[kind]
        response = rng.choices(tuple(RESPONSES), profile.mix)[0]
        diary = kind not in ("surgery", "cell_therapy") and rng.random() < 0.15
        return Step(
            kind=kind,
            cell_source=source,
            performed_on=performed_on,
            protocol="pain-diary" if diary else "spine-standard",
            target_levels=[] if kind in UNLEVELLED else list(rng.choice(LEVELS)),
            notes=rng.choice(NOTES.get(kind, (None,))),
            response=response,
            share=rng.uniform(*RESPONSES[response]),
            onset_days=profile.onset_days * rng.uniform(0.6, 1.6),
            fades_days=profile.fades_days,
        )

    def _plan(self, kind, source, first_on):
        """The treatments: the first, then surgery or another try when one failed or wore off."""
        rng = self.rng
        steps = [self._step(kind, source, first_on)]
        while len(steps) < 3 and steps[-1].kind != "surgery":
            last, draw = steps[-1], rng.random()
            failed = last.response in FAILED
            wore_off = last.fades_days is not None and not failed
            if failed and draw < 0.35:
                after, kind = rng.randint(120, 420), "surgery"
            elif (failed and draw < 0.6) or (wore_off and draw < 0.4):
                after = rng.randint(90, 240)
                kind = rng.choice(CONSERVATIVE) if failed else last.kind
            else:
                break
            steps.append(self._step(kind, None, last.performed_on + timedelta(days=after)))
        # Nothing after today, nor after the patient stopped answering.
        return [step for step in steps if step.performed_on <= min(self.today, self.stops_on)]

    def level(self, day):
        """The patient's true ODI percent, back and leg pain on a calendar day."""
        odi, back, leg = self.baseline
        for n, step in enumerate(self.steps):
            if day < step.performed_on:
                break
            ends = self.steps[n + 1].performed_on if n + 1 < len(self.steps) else day
            since = (min(day, ends) - step.performed_on).days
            gone = step.share * (1 - math.exp(-since / step.onset_days))
            if step.fades_days:
                gone *= math.exp(-since / step.fades_days)
            odi, back, leg = (value * (1 - gone) for value in (odi, back, leg))
        return min(odi, 96), min(back, 10), min(leg, 10)

    def checkins(self):
        """Every check-in of the course that has happened, in time order."""
        self._visits()
        if self.noisy_diary:
            self._diary()
        return sorted(self.items, key=lambda item: item["completed_at"])

    def new_id(self):
        """A random UUID from the patient's random source."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _instant(self, day):
        """A daytime moment of a local calendar day, as an aware UTC instant."""
        local = datetime.combine(day, time(self.rng.randint(8, 19), self.rng.randint(0, 59)))
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def _add(self, instrument, answers, day, notes=None):
        """Queue a check-in completed on a local day, unless that moment has not come yet."""
        completed_at = self._instant(day)
        if day < self.stops_on and completed_at < utcnow() - timedelta(hours=1):
            self.items.append(
                {
                    "id": self.new_id(),
                    "instrument": instrument,
                    "answers": answers,
                    "completed_at": completed_at,
                    "notes": notes,
                }
            )

    def _visits(self):
        """Check-ins at each treatment's protocol time points, until the next treatment."""
        for n, step in enumerate(self.steps):
            ends = self.steps[n + 1].performed_on if n + 1 < len(self.steps) else date.max
            points = get_protocol(step.protocol).time_points
            if points[0].label != "baseline":
                points = (BASELINE, *points)
            for point in points:
                early, late = (point.day - point.opens) // 2, (point.closes - point.day) // 2
                day = step.performed_on + timedelta(days=point.day + self.rng.randint(-early, late))
                skipped = point.label != "baseline" and self.rng.random() < self.miss_rate
                if day < ends and day <= self.today and not skipped:
                    self._visit(day, point)

    def _visit(self, day, point):
        """The questionnaires of one time point, answered as the patient is that day."""
        odi, back, leg = self.level(day)
        rng, noise = self.rng, self.noise
        improvement = 1 - odi / self.baseline[0]
        for instrument in point.instruments:
            if instrument == "nrs_pain":
                answers = {"back": _noisy(rng, back, noise), "leg": _noisy(rng, leg, noise)}
                self._add("nrs_pain", answers, day)
            elif instrument == "odi":
                self._add("odi", _odi_answers(rng, odi, noise), day)
            elif instrument == "rmdq":
                ticked = rng.sample(range(1, 25), _noisy(rng, odi * 0.22, 1.5 * noise, top=24))
                self._add("rmdq", {f"item_{n}": True for n in sorted(ticked)}, day)
            elif instrument == "pgic":
                change = 4 - round(improvement * 5) + rng.choice((-1, 0, 0, 1))
                self._add("pgic", {"change": max(1, min(7, change))}, day)
        if self.psfs_activities and point.label in ("baseline", "3m", "12m"):
            answers = {}
            for n, name in enumerate(self.psfs_activities, start=1):
                answers[f"activity_{n}"] = _noisy(rng, 3 + 6 * improvement, 0.8 * noise)
                answers[f"activity_{n}_name"] = name
            self._add("psfs", answers, day)

    def _diary(self):
        """Pain entries between visits: a noisy series for the first four months."""
        performed_on = self.steps[0].performed_on
        day = performed_on + timedelta(days=self.rng.randint(1, 5))
        while day < min(performed_on + timedelta(days=120), self.today + timedelta(days=1)):
            _, back, leg = self.level(day)
            answers = {"back": _noisy(self.rng, back, 1.8), "leg": _noisy(self.rng, leg, 1.8)}
            self._add("nrs_pain", answers, day, notes=self.rng.choice(DIARY_NOTES))
            day += timedelta(days=self.rng.randint(3, 10))


def _noisy(rng, value, spread, top=10):
    """An integer answer near value, within 0..top."""
    return max(0, min(top, round(value + rng.gauss(0, spread))))


def _odi_answers(rng, percent, noise):
    """Ten section answers whose total matches the percent, with a realistic uneven profile."""
    total = _noisy(rng, percent / 2, 1.6 * noise, top=50)
    points = [total // 10] * 10
    for n in rng.sample(range(10), total % 10):
        points[n] += 1
    for _ in range(6):
        give, take = rng.sample(range(10), 2)
        if points[give] > 0 and points[take] < 5:
            points[give] -= 1
            points[take] += 1
    answers = dict(zip(SECTION_KEYS, points))
    # Sex life is the section patients most often leave out.
    if rng.random() < 0.1:
        del answers["sex_life"]
    return answers
