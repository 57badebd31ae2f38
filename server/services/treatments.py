"""Recording treatments and placing check-ins relative to them."""
from sqlalchemy import select

from server.clinical.reminders import local_date
from server.errors import Invalid, NotFound
from server.extensions import db
from server.models import Treatment
from server.services import access, events

FIELDS = ("kind", "performed_on", "protocol")
DETAIL_FIELDS = ("cell_source", "target_levels", "notes")


def _apply(treatment, data):
    """Set the given fields; returns the names of those whose value changed."""
    changed = set()
    for field in FIELDS:
        if field in data and getattr(treatment, field) != data[field]:
            changed.add(field)
            setattr(treatment, field, data[field])
    for field in DETAIL_FIELDS:
        if field in data.get("details", {}):
            setattr(treatment, field, data["details"][field])
    if treatment.cell_source and treatment.kind != "cell_therapy":
        raise Invalid(
            "A cell source only applies to cell therapy.",
            {"json": {"details": {"cell_source": ["Only for kind cell_therapy."]}}},
        )
    return changed


def create_treatment(principal, patient, data):
    """Record a treatment for a patient the caller may see (audited by the access check)."""
    treatment = Treatment(patient_id=patient.id, created_by_id=principal.user.id, target_levels=[])
    changed = _apply(treatment, data)
    db.session.add(treatment)
    db.session.flush()
    events.treatment_saved.send(treatment, created=True, changed=changed)
    return treatment


def treatment_for(principal, treatment_id, action):
    """A treatment of a patient the caller may see, else NotFound."""
    patient_id = db.session.scalar(
        select(Treatment.patient_id).where(Treatment.id == treatment_id)
    )
    if patient_id is None:
        raise NotFound("Treatment not found.")
    try:
        access.patient_for(principal, patient_id, action)
    except NotFound as exc:
        raise NotFound("Treatment not found.") from exc
    return db.session.get(Treatment, treatment_id)


def update_treatment(treatment, data):
    """Change a treatment (audited by the access check)."""
    changed = _apply(treatment, data)
    db.session.flush()
    events.treatment_saved.send(treatment, created=False, changed=changed)
    return treatment


def context_for(completed_at, timezone, treatments):
    """Where a check-in falls relative to each treatment, in the patient's local days."""
    day = local_date(completed_at, timezone)
    rows = []
    for treatment in treatments:
        days = (day - treatment.performed_on).days
        phase = "before" if days < 0 else "after" if days > 0 else "same_day"
        rows.append({"treatment_id": treatment.id, "days_from_treatment": days, "phase": phase})
    return rows
