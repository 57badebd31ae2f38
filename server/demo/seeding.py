"""Seeding the demo clinic through the same services as the API, once."""
import random
import secrets
from collections import Counter
from datetime import time, timedelta

from sqlalchemy import select

from server.clinical.reminders import local_date
from server.clock import utcnow
from server.demo.course import Course
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

# Fictional reports, each given to one patient with such a treatment:
# (kind, cell source or None for any, days after the treatment, severity, description).
ADVERSE_EVENTS = (
    ("cell_therapy", "bone_marrow", 2, "mild", "Soreness at the bone-marrow harvest site."),
    ("cell_therapy", "adipose", 3, "mild", "Bruising and tenderness where the fat was taken."),
    ("prp", None, 1, "mild", "Pain at the injection site, settled with ice in two days."),
    ("epidural_steroid", None, 1, "mild", "Headache and facial flushing the day after."),
    ("medication", None, 10, "mild", "Upset stomach; switched to another medicine."),
    ("physical_therapy", None, 14, "mild", "Muscle soreness after the first sessions."),
    ("prp", None, 2, "moderate", "Flare of back pain after the injection, eased within a week."),
    ("epidural_steroid", None, 3, "moderate", "Raised blood sugar for several days."),
    ("cell_therapy", "umbilical", 5, "moderate", "Two weeks of worse back and leg pain."),
    ("surgery", None, 12, "moderate", "Superficial wound infection, treated with antibiotics."),
    ("cell_therapy", "bone_marrow", 6, "severe", "Fever and severe back pain; suspected discitis."),
    ("surgery", None, 0, "severe", "Dural tear during surgery; repaired, longer hospital stay."),
    ("cell_therapy", "allogeneic_other", 1, "severe", "Fever and rash; admitted to observe."),
    ("surgery", None, 9, "life_threatening", "Pulmonary embolism; treated in intensive care."),
    ("medication", None, 40, "life_threatening", "Bleeding stomach ulcer; needed a transfusion."),
)
# Patients seeded per transaction: one commit for all of them would hold a large session.
COMMIT_EVERY = 100


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


def _create_patient(principal, row, care_team):
    return patients.create_patient(
        principal,
        {
            "external_id": row.external_id,
            "display_name": row.name,
            "birth_year": row.birth_year,
            "sex": row.sex,
            "condition": row.condition,
            "timezone": row.timezone,
            "reminder_time": time(9, 0),
            "quiet_hours": {"start": time(21, 0), "end": time(8, 0)},
            "care_team": [member.id for member in care_team],
        },
    )


def _create_treatment(principal, patient, step):
    return treatments.create_treatment(
        principal,
        patient,
        {
            "kind": step.kind,
            "performed_on": step.performed_on,
            "protocol": step.protocol,
            "details": {
                "cell_source": step.cell_source,
                "target_levels": step.target_levels,
                "notes": step.notes,
            },
        },
    )


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


def _report_adverse_event(patient, course, saved, pending):
    """Report the first pending event that fits one of the patient's treatments; True if one did."""
    if not course.may_report:
        return False
    for step, treatment in zip(course.steps, saved):
        for report in pending:
            kind, source, after_days, severity, description = report
            onset_on = step.performed_on + timedelta(days=after_days)
            if (
                kind == step.kind
                and source in (None, step.cell_source)
                and onset_on <= course.today
                and onset_on < course.stops_on
            ):
                pending.remove(report)
                adverse_events.report(
                    Principal.of_patient(patient),
                    {
                        "id": course.new_id(),
                        "onset_on": onset_on,
                        "description": description,
                        "severity": severity,
                        "treatment_id": treatment.id,
                    },
                )
                return True
    return False


def _seed_patient(index, row, clinicians, pending, tally):
    """One patient, their treatments, check-ins, adverse event and withdrawal, if any."""
    care_team = [clinicians[n] for n in row.care_team]
    principal = Principal.of_user(care_team[0])
    patient = _create_patient(principal, row, care_team[1:])
    # Each patient draws from their own random source: one course never shifts another.
    course = Course(random.Random(SEED * 1000 + index), row, local_date(utcnow(), row.timezone))
    saved = [_create_treatment(principal, patient, step) for step in course.steps]
    items = course.checkins()
    if index == 3:
        _drop_two_odi_sections(items)
    tally["check-ins"] += _store(patient, items)
    tally["treatments"] += len(saved)
    if _report_adverse_event(patient, course, saved, pending):
        tally["adverse events"] += 1
    if course.withdraws:
        patients.update_patient(principal, patient, {"status": "withdrawn"})
        tally["withdrawn"] += 1


def seed_demo():
    """Create the demo clinic once; returns the lines to print."""
    existing = db.session.scalar(select(Organization).where(Organization.name == DEMO_ORGANIZATION))
    if existing is not None:
        return ["Demo data already present. Sign in with:", *_credentials()]
    organization = staff.organization_named(DEMO_ORGANIZATION, DEMO_TIMEZONE)
    clinicians = _create_staff(organization)
    pending, tally = list(ADVERSE_EVENTS), Counter()
    for index, row in enumerate(DEMO_PATIENTS):
        _seed_patient(index, row, clinicians, pending, tally)
        if (index + 1) % COMMIT_EVERY == 0:
            db.session.commit()
    db.session.commit()
    return [
        f"Seeded {DEMO_ORGANIZATION} with {len(DEMO_PATIENTS)} patients"
        f" ({tally['withdrawn']} withdrawn), {tally['treatments']} treatments,"
        f" {tally['check-ins']} check-ins and {tally['adverse events']} adverse events."
        " Sign in with:",
        *_credentials(),
    ]
