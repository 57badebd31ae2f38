"""How a demo patient's back fares after each treatment, and the check-ins that show it."""
import math
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.clinical.instruments import ODI_SECTIONS
from server.clinical.protocols import TimePoint, get_protocol
from server.clock import utcnow

FIRST_TREATMENTS = (
    ("cell_therapy", "bone_marrow"),
    ("prp", None),
    ("cell_therapy", "adipose"),
    ("epidural_steroid", None),
    ("physical_therapy", None),
    ("surgery", None),
    ("cell_therapy", "bone_marrow"),
    ("prp", None),
)
# Share of the baseline score gone at the end of follow-up; negative means worse.
RESPONSES = {
    "responder": (0.50, 0.75),
    "partial": (0.20, 0.35),
    "non_responder": (-0.05, 0.10),
    "worsened": (-0.60, -0.35),
}
RESPONSE_CYCLE = ("responder", "partial", "non_responder", "responder", "worsened")
LEVELS = (["L4-L5"], ["L5-S1"], ["L4-L5", "L5-S1"], ["L3-L4"])
ACTIVITIES = ("walking the dog", "gardening", "sitting at work", "lifting a child", "cycling")
DIARY_NOTES = ("bad night", "after gardening", "long drive", "good day", None, None, None)
SECTION_KEYS = [key for key, _ in ODI_SECTIONS]
BASELINE = TimePoint("baseline", 0, -14, 0, ("nrs_pain", "odi"))


class Course:
    """One patient's year: treatments, how the back responds, and the check-ins that show it."""

    def __init__(self, rng, index, zone, today):
        self.rng, self.index = rng, index
        self.zone = ZoneInfo(zone)
        self.today = today
        self.baseline_odi = rng.uniform(28, 62)
        self.baseline_back = rng.randint(5, 9)
        self.baseline_leg = rng.randint(2, 9)
        self.miss_rate = 0.35 if index % 7 == 3 else 0.08
        self.noisy_diary = index % 6 == 1
        self.psfs_activities = rng.sample(ACTIVITIES, 2) if index % 4 == 1 else None
        self.items = []

    def plan_treatments(self):
        """(kind, cell source, performed on, protocol, share of the baseline gone) per treatment."""
        rng, index = self.rng, self.index
        kind, source = FIRST_TREATMENTS[index % len(FIRST_TREATMENTS)]
        response = RESPONSE_CYCLE[index % len(RESPONSE_CYCLE)]
        first_on = self.today - timedelta(days=rng.randint(35, 380))
        protocol = "pain-diary" if index % 8 == 6 else "spine-standard"
        plan = [(kind, source, first_on, protocol, rng.uniform(*RESPONSES[response]))]
        # Some who do not respond to a non-surgical treatment are operated on within a year.
        days_since = (self.today - first_on).days
        if (
            kind != "surgery"
            and response in ("non_responder", "worsened")
            and index % 2 == 0
            and days_since > 140
        ):
            surgery_on = first_on + timedelta(days=rng.randint(100, min(330, days_since - 20)))
            share = rng.uniform(*RESPONSES["responder"])
            plan.append(("surgery", None, surgery_on, "spine-standard", share))
        return plan

    def level(self, plan, day):
        """The patient's true ODI percent, back and leg pain on a calendar day."""
        odi, back, leg = self.baseline_odi, self.baseline_back, self.baseline_leg
        for n, (_, _, performed_on, _, share) in enumerate(plan):
            if day < performed_on:
                break
            ends = plan[n + 1][2] if n + 1 < len(plan) else day
            since = (min(day, ends) - performed_on).days
            gone = share * (1 - math.exp(-since / 45))
            odi, back, leg = (value * (1 - gone) for value in (odi, back, leg))
        return min(odi, 96), min(back, 10), min(leg, 10)

    def instant(self, day):
        """A daytime moment of a local calendar day, as an aware UTC instant."""
        local = datetime.combine(day, time(self.rng.randint(8, 19), self.rng.randint(0, 59)))
        return local.replace(tzinfo=self.zone).astimezone(ZoneInfo("UTC"))

    def add(self, instrument, answers, day, notes=None):
        """Queue a check-in completed on a local day, unless that moment has not come yet."""
        completed_at = self.instant(day)
        if completed_at < utcnow() - timedelta(hours=1):
            self.items.append(
                {
                    "id": uuid.UUID(int=self.rng.getrandbits(128), version=4),
                    "instrument": instrument,
                    "answers": answers,
                    "completed_at": completed_at,
                    "notes": notes,
                }
            )

    def visits(self, plan):
        """Check-ins at each treatment's protocol time points, until the next treatment."""
        for n, (_, _, performed_on, protocol_code, _) in enumerate(plan):
            ends = plan[n + 1][2] if n + 1 < len(plan) else self.today + timedelta(days=1)
            points = get_protocol(protocol_code).time_points
            if points[0].label != "baseline":
                points = (BASELINE, *points)
            for point in points:
                early, late = (point.day - point.opens) // 2, (point.closes - point.day) // 2
                day = performed_on + timedelta(days=point.day + self.rng.randint(-early, late))
                skipped = point.label != "baseline" and self.rng.random() < self.miss_rate
                if day < ends and not skipped:
                    self.visit(plan, day, point)

    def visit(self, plan, day, point):
        """The questionnaires of one time point, answered as the patient is that day."""
        odi, back, leg = self.level(plan, day)
        rng = self.rng
        for instrument in point.instruments:
            if instrument == "nrs_pain":
                self.add(
                    "nrs_pain", {"back": _noisy(rng, back, 0.8), "leg": _noisy(rng, leg, 0.8)}, day
                )
            elif instrument == "odi":
                self.add("odi", _odi_answers(rng, odi), day)
            elif instrument == "rmdq":
                ticked = rng.sample(range(1, 25), _noisy(rng, odi * 0.22, 1.5, top=24))
                self.add("rmdq", {f"item_{n}": True for n in sorted(ticked)}, day)
            elif instrument == "pgic":
                improvement = 1 - odi / self.baseline_odi
                change = 4 - round(improvement * 5) + rng.choice((-1, 0, 0, 1))
                self.add("pgic", {"change": max(1, min(7, change))}, day)
        if self.psfs_activities and point.label in ("baseline", "3m", "12m"):
            improvement = 1 - odi / self.baseline_odi
            answers = {}
            for n, name in enumerate(self.psfs_activities, start=1):
                answers[f"activity_{n}"] = _noisy(rng, 3 + 6 * improvement, 0.8)
                answers[f"activity_{n}_name"] = name
            self.add("psfs", answers, day)

    def diary(self, plan):
        """Pain entries between visits: a noisy series for the first four months."""
        performed_on = plan[0][2]
        day = performed_on + timedelta(days=self.rng.randint(1, 5))
        while day < min(performed_on + timedelta(days=120), self.today):
            _, back, leg = self.level(plan, day)
            answers = {"back": _noisy(self.rng, back, 1.8), "leg": _noisy(self.rng, leg, 1.8)}
            self.add("nrs_pain", answers, day, notes=self.rng.choice(DIARY_NOTES))
            day += timedelta(days=self.rng.randint(3, 10))


def _noisy(rng, value, spread, top=10):
    """An integer answer near value, within 0..top."""
    return max(0, min(top, round(value + rng.gauss(0, spread))))


def _odi_answers(rng, percent):
    """Ten section answers whose total matches the percent, with a realistic uneven profile."""
    total = _noisy(rng, percent / 2, 1.2, top=50)
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
