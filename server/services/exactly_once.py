"""Storing what the app sends exactly once, in patient change-sequence order."""
from functools import cache

from sqlalchemy import bindparam, update

from server.extensions import db
from server.models import Patient
from server.services.bulk import dialect_insert, dialect_name

PATIENTS = Patient.__table__


def reserving(patient_id):
    """An UPDATE adding bound `count` to the patient's change sequence, returning its new end."""
    return (
        update(PATIENTS)
        .where(PATIENTS.c.id == patient_id)
        .values(checkin_seq=PATIENTS.c.checkin_seq + bindparam("count"))
        .returning(PATIENTS.c.checkin_seq)
    )


# Built once: it runs on every check-in post.
RESERVE_SEQUENCE = reserving(bindparam("patient_id"))


@cache
def _insert_ignoring_duplicates(table, dialect, returning):
    statement = dialect_insert(table, dialect).on_conflict_do_nothing()
    return statement.returning(*returning) if returning else statement


def insert_ignoring_duplicates(table, *returning):
    """An INSERT that skips rows whose unique key is already stored, returning these columns
    of the rows it inserts; built once per backend, the values go in as parameters."""
    return _insert_ignoring_duplicates(table, dialect_name(), returning)


def reserve_sequence(patient_id, count):
    """Lock the patient's row and reserve `count` change-sequence numbers; returns the first.

    The row lock is held until commit, so a patient's changes commit in sequence
    order and an incremental pull never skips one that commits late.
    """
    last = db.session.execute(
        RESERVE_SEQUENCE, {"patient_id": patient_id, "count": count}
    ).scalar_one()
    return last - count + 1
