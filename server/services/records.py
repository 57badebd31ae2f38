"""Storing what the app sends exactly once: shared by check-ins and adverse events."""
from sqlalchemy import update

from server.extensions import db
from server.models import Patient
from server.services.bulk import dialect_insert


def insert_ignoring_duplicates(model):
    """An INSERT that skips rows whose unique key is already stored."""
    return dialect_insert(model).on_conflict_do_nothing()


def reserve_sequence(patient_id, count):
    """Lock the patient's row and reserve `count` change-sequence numbers; returns the first.

    The row lock is held until commit, so a patient's changes commit in sequence
    order and an incremental pull never skips one that commits late.
    """
    patients = Patient.__table__
    last = db.session.execute(
        update(patients)
        .where(patients.c.id == patient_id)
        .values(checkin_seq=patients.c.checkin_seq + count)
        .returning(patients.c.checkin_seq)
    ).scalar_one()
    return last - count + 1
