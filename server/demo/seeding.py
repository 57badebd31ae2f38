"""Seeding the demo clinic through the same services as the API, once."""
import random
import secrets
import uuid
from datetime import time, timedelta

from sqlalchemy import select

from server.clinical.reminders import local_date
from server.clock import utcnow
from server.demo.course import LEVELS, Course
from server.demo.people import (
    DEMO_COLLEAGUES,
    DEMO_ORGANIZATION,
    DEMO_PATIENTS,
    DEMO_STAFF,
    DEMO_TIMEZONE,
    SEED,
)
from server.extensions import db
from server.models import Organization
from server.services import adverse_events, checkins, patients, staff, treatments
from server.services.auth import Principal


def _credentials():
    return [f"  {role:<9} {email}  password: {password}" for email, password, role, _ in DEMO_STAFF]


def _create_staff(organization):
    """The published admin and clinician, then the clinician's colleagues; returns clinicians."""
    users = [
        staff.create_user(organization, email, password, role, name)
        for email, password, role, name in DEMO_STAFF
    ]
    colleagues = [
        staff.create_user(organization, email, secrets.token_urlsafe(18), "clinician", name)
        for email, name in DEMO_COLLEAGUES
    ]
    return [user for user in users if user.role == "clinician"] + colleagues


def _seed_patient(rng, clinicians, index, row):
    external_id, name, birth_year, sex, condition, zone, team = row
    care_team = [clinicians[n] for n in team]
    principal = Principal.of_user(care_team[0])
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
            "care_team": [member.id for member in care_team[1:]],
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
    clinicians = _create_staff(organization)
    seeded, stored = [], 0
    for index, row in enumerate(DEMO_PATIENTS):
        patient, saved, items = _seed_patient(rng, clinicians, index, row)
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
