"""Who may see which patient: the one place the rule lives."""
from sqlalchemy import exists, select

from server.errors import NotFound
from server.extensions import db
from server.models import Patient, care_team
from server.services import audit


def visible_patients(principal):
    """A select of the patients the principal may see."""
    query = select(Patient).where(Patient.organization_id == principal.organization_id)
    if principal.role == "clinician":
        query = query.where(
            exists().where(
                care_team.c.patient_id == Patient.id,
                care_team.c.user_id == principal.user.id,
            )
        )
    elif principal.role == "patient":
        query = query.where(Patient.id == principal.patient.id)
    return query


def patient_for(principal, patient_id, action):
    """The patient if the principal may see them, else NotFound; audited either way, a denial
    even when the request's work is rolled back."""
    patient = db.session.scalar(visible_patients(principal).where(Patient.id == patient_id))
    if patient is None:
        denied = audit.event(principal, action, patient_id=patient_id, outcome="denied")
        raise NotFound("Patient not found.", audit=[denied])
    audit.record(principal, action, patient_id=patient.id)
    return patient
