"""Creating, changing and listing patients."""
from datetime import time

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from server.errors import Conflict, Invalid
from server.extensions import db
from server.models import Patient, User
from server.services import adverse_events, audit, events, schedules, trends
from server.services.access import visible_patients
from server.services.pagination import paginate

PROFILE_FIELDS = (
    "external_id",
    "display_name",
    "birth_year",
    "sex",
    "condition",
    "timezone",
    "reminder_time",
    "status",
)
PREFERENCE_FIELDS = ("timezone", "reminder_time")
DEFAULT_REMINDER_TIME = time(9, 0)


def _clinicians(principal, ids):
    ids = sorted(set(ids))
    found = db.session.scalars(
        select(User).where(
            User.id.in_(ids),
            User.organization_id == principal.organization_id,
            User.role == "clinician",
        )
    ).all()
    missing = sorted(set(ids) - {user.id for user in found})
    if missing:
        raise Invalid(
            "The care team must list clinicians of your organization.",
            {"json": {"care_team": [f"Unknown clinician id(s): {missing}."]}},
        )
    return sorted(found, key=lambda user: user.id)


def _apply_preferences(patient, data):
    for field in PREFERENCE_FIELDS:
        if field in data:
            setattr(patient, field, data[field])
    if "quiet_hours" in data:
        quiet = data["quiet_hours"]
        patient.quiet_start = quiet["start"] if quiet else None
        patient.quiet_end = quiet["end"] if quiet else None
    contact = data.get("contact") or {}
    if "email" in contact:
        patient.contact_email = contact["email"]
    if "push_token" in contact:
        patient.push_token = contact["push_token"]


def _apply(principal, patient, data):
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(patient, field, data[field])
    _apply_preferences(patient, data)
    if "care_team" in data:
        patient.care_team = _clinicians(principal, data["care_team"])


def _flush_or_conflict():
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "A patient with this external id already exists in your organization.",
            {"json": {"external_id": ["Already in use."]}},
        ) from exc


def create_patient(principal, data):
    """Create a patient in the caller's organization; a clinician joins its care team."""
    organization = principal.user.organization
    patient = Patient(
        organization_id=principal.organization_id,
        timezone=organization.timezone,
        reminder_time=DEFAULT_REMINDER_TIME,
        status="active",
    )
    data = dict(data)
    if principal.role == "clinician":
        data["care_team"] = list(data.get("care_team", [])) + [principal.user.id]
    data.setdefault("care_team", [])
    _apply(principal, patient, data)
    db.session.add(patient)
    _flush_or_conflict()
    audit.record(principal, "patient.create", patient_id=patient.id)
    return patient


def update_patient(principal, patient, data):
    """Change a patient's profile, preferences or care team (audited by the access check)."""
    _apply(principal, patient, data)
    _flush_or_conflict()
    events.patient_changed.send(patient, changed=set(data), principal=principal)
    return patient


def update_preferences(principal, data):
    """A patient changes their own time zone, reminder time, quiet hours or contact."""
    patient = principal.patient
    _apply_preferences(patient, data)
    db.session.flush()
    events.patient_changed.send(patient, changed=set(data), principal=principal)
    return patient


# Worklist flags: each a condition on Patient, named in the `flag` query argument.
FLAGS = {
    "adverse_event": adverse_events.has_serious_event,
    "worsening": trends.is_worsening,
    "improving": trends.is_improving,
    "overdue": schedules.is_overdue,
}


def matching(q):
    """A condition on Patient: the external id or the name contains q, ignoring case."""
    needle = q.lower()
    return or_(
        func.lower(Patient.external_id).contains(needle, autoescape=True),
        func.lower(Patient.display_name).contains(needle, autoescape=True),
    )


def list_patients(principal, page, per_page, q=None, flag=None):
    """One page of the patients the caller may see, audited per patient shown."""
    query = visible_patients(principal)
    if flag:
        # Flags read the stored trends: refresh the stale ones first, as the cohort does.
        trends.refresh_stale_among(query)
        query = query.where(FLAGS[flag]())
    if q:
        query = query.where(matching(q))
    result = paginate(query, page, per_page, Patient.id)
    audit.record_many(principal, "patient.list", [patient.id for patient in result["items"]])
    return result
