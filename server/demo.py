"""Demo data: a clinic whose 40 patients were followed for up to a year after their treatments."""
import math
import random
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.clinical.instruments import ODI_SECTIONS
from server.clinical.protocols import TimePoint, get_protocol
from server.clinical.reminders import local_date
from server.clock import utcnow
from server.extensions import db
from server.models import Organization
from server.services import adverse_events, checkins, patients, staff, treatments
from server.services.auth import Principal

DEMO_ORGANIZATION = "Backtrack Demo Clinic"
DEMO_TIMEZONE = "Europe/Berlin"
# Published on purpose: the demo refuses to run in production.
DEMO_STAFF = (
    ("admin@demo.backtrack.test", "demo-admin-pass", "admin", "Ada Admin"),
    ("clinician@demo.backtrack.test", "demo-clinician-pass", "clinician", "Chris Clinician"),
)
SEED = 20240501
PATIENT_COUNT = 40

FIRST_NAMES = (
    "Alex Sam Robin Jo Kim Maria Jonas Lena Mehmet Sofia Paul Anna Luca Emma Noah Mia Ben Hannah"
    " Elias Clara"
).split()
LAST_NAMES = (
    "Example Sample Test Placeholder Mock Becker Schulz Novak Yilmaz Rossi Fischer Weber Hoffmann"
    " Koch Richter Wolf Klein Braun"
).split()
CONDITIONS = (
    "degenerative_disc_disease herniated_disc spinal_stenosis muscle_ligament_strain osteoarthritis"
    " injury_trauma age_related unknown"
).split()
TIMEZONES = ("Europe/Berlin",) * 6 + ("Europe/London", "Europe/Vienna", "America/New_York")
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


def _demo_patients(rng):
    """The demo patients: (external id, name, birth year, sex, condition, time zone)."""
    return tuple(
        (
            f"DEMO-{n:03d}",
            f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n * 7) % len(LAST_NAMES)]}",
            rng.randint(1945, 1995),
            ("female", "male")[n % 2] if n % 13 else "other",
            CONDITIONS[n % len(CONDITIONS)],
            TIMEZONES[n % len(TIMEZONES)],
        )
        for n in range(1, PATIENT_COUNT + 1)
    )


DEMO_PATIENTS = _demo_patients(random.Random(SEED))


def _credentials():
    return [f"  {role:<9} {email}  password: {password}" for email, password, role, _ in DEMO_STAFF]


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


def _seed_patient(rng, principal, index, row):
    external_id, name, birth_year, sex, condition, zone = row
    patient = patients.create_patient(
        principal,
        {
            "external_id": external_id,
            "display_name": name,
            "birth_year": birth_year,
            "sex": sex,
            "condition": condition,
            "timezone": zone,
            "reminder_time": time(9, 0),
            "quiet_hours": {"start": time(21, 0), "end": time(8, 0)},
        },
    )
    course = Course(rng, index, zone, local_date(utcnow(), zone))
    plan = course.plan_treatments()
    saved = [
        treatments.create_treatment(
            principal,
            patient,
            {
                "kind": kind,
                "performed_on": performed_on,
                "protocol": protocol,
                "details": {
                    "cell_source": source,
                    "target_levels": rng.choice(LEVELS) if kind != "physical_therapy" else [],
                    "notes": None,
                },
            },
        )
        for kind, source, performed_on, protocol, _ in plan
    ]
    course.visits(plan)
    if course.noisy_diary:
        course.diary(plan)
    return patient, saved, sorted(course.items, key=lambda item: item["completed_at"])


def _drop_two_odi_sections(items):
    """Leave two sections out of the first follow-up ODI: stored, but not scorable."""
    odi = [item for item in items if item["instrument"] == "odi"]
    answers = odi[1]["answers"] if len(odi) > 1 else odi[0]["answers"]
    for key in ("lifting", "sex_life"):
        answers.pop(key, None)


def _store(patient, items):
    """Store a patient's check-ins through the service, as the app would; returns how many."""
    receipts = checkins.submit_batch(Principal.of_patient(patient), items)
    refused = [receipt for receipt in receipts if receipt.status != "created"]
    if refused:
        raise RuntimeError(f"demo check-in refused for {patient.external_id}: {refused[0]}")
    return len(receipts)


def _adverse_events(rng, seeded):
    """A mild, a moderate and a severe adverse event after cell therapy and PRP."""
    reports = (
        ("cell_therapy", 2, "mild", "Soreness at the bone-marrow harvest site for a few days."),
        ("prp", 1, "moderate", "Flare of back pain after the injection, eased within a week."),
        ("cell_therapy", 6, "severe", "Fever and severe back pain; admitted, suspected discitis."),
    )
    used = set()
    for kind, after_days, severity, description in reports:
        patient, treatment = next(
            (patient, treatment)
            for patient, saved in seeded
            for treatment in saved
            if treatment.kind == kind and patient.id not in used
        )
        used.add(patient.id)
        adverse_events.report(
            Principal.of_patient(patient),
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "onset_on": treatment.performed_on + timedelta(days=after_days),
                "description": description,
                "severity": severity,
                "treatment_id": treatment.id,
            },
        )
    return len(reports)


def seed_demo():
    """Create the demo clinic once; returns the lines to print."""
    existing = db.session.scalar(select(Organization).where(Organization.name == DEMO_ORGANIZATION))
    if existing is not None:
        return ["Demo data already present. Sign in with:", *_credentials()]
    rng = random.Random(SEED)
    organization = staff.organization_named(DEMO_ORGANIZATION, DEMO_TIMEZONE)
    users = [
        staff.create_user(organization, email, password, role, name)
        for email, password, role, name in DEMO_STAFF
    ]
    principal = Principal.of_user(users[1])
    seeded, stored = [], 0
    for index, row in enumerate(DEMO_PATIENTS):
        patient, saved, items = _seed_patient(rng, principal, index, row)
        if index == 3:
            _drop_two_odi_sections(items)
        stored += _store(patient, items)
        seeded.append((patient, saved))
    events = _adverse_events(rng, seeded)
    db.session.commit()
    treated = sum(len(saved) for _, saved in seeded)
    return [
        f"Seeded {DEMO_ORGANIZATION} with {len(seeded)} patients, {treated} treatments, "
        f"{stored} check-ins and {events} adverse events. Sign in with:",
        *_credentials(),
    ]
