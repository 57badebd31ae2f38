"""Adverse events the patient reports, stored exactly once."""
from sqlalchemy import exists, select

from server.clinical.reminders import local_date
from server.clock import utcnow
from server.errors import Conflict, Invalid
from server.extensions import db
from server.models import AdverseEvent, Patient, Treatment
from server.services import audit
from server.services.exactly_once import insert_ignoring_duplicates
from server.vocabulary import FLAGGING_SEVERITIES

CONTENT_FIELDS = ("onset_on", "description", "severity", "treatment_id")


def _check(patient, item):
    if item["onset_on"] > local_date(utcnow(), patient.timezone):
        raise Invalid(
            "The adverse event has invalid fields.",
            {"json": {"onset_on": ["Must not be in the future."]}},
        )
    treatment_id = item.get("treatment_id")
    if treatment_id is not None and not db.session.scalar(
        select(
            exists().where(Treatment.id == treatment_id, Treatment.patient_id == patient.id)
        )
    ):
        raise Invalid(
            "The adverse event has invalid fields.",
            {"json": {"treatment_id": ["Not one of your treatments."]}},
        )


def report(principal, item):
    """Store an adverse event once; returns (event, created?)."""
    patient = principal.patient
    _check(patient, item)
    values = {
        "id": item["id"],
        "patient_id": patient.id,
        "onset_on": item["onset_on"],
        "description": item["description"],
        "severity": item["severity"],
        "treatment_id": item.get("treatment_id"),
        "received_at": utcnow(),
    }
    created = db.session.scalar(
        insert_ignoring_duplicates(AdverseEvent.__table__, AdverseEvent.__table__.c.id), values
    )
    event = db.session.scalar(
        select(AdverseEvent).where(
            AdverseEvent.patient_id == patient.id, AdverseEvent.id == item["id"]
        )
    )
    if created is None and any(getattr(event, f) != values[f] for f in CONTENT_FIELDS):
        raise Conflict("A different adverse event with this id was already stored.")
    if created is not None:
        audit.record(principal, "adverse_event.create", patient_id=patient.id)
    return event, created is not None


def events_of(patient_id):
    """A patient's adverse events, newest onset first."""
    return db.session.scalars(
        select(AdverseEvent)
        .where(AdverseEvent.patient_id == patient_id)
        .order_by(AdverseEvent.onset_on.desc(), AdverseEvent.pk.desc())
    ).all()


def has_serious_event():
    """A condition on Patient: a severe or life-threatening adverse event was reported."""
    return exists().where(
        AdverseEvent.patient_id == Patient.id, AdverseEvent.severity.in_(FLAGGING_SEVERITIES)
    )
