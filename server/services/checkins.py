"""Check-ins: validated, scored and stored exactly once; voided, never edited."""
from dataclasses import dataclass
from datetime import timezone
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql

from server.clinical.instruments import get_instrument
from server.clinical.scoring import score_answers, validate_answers
from server.clock import utcnow
from server.config import setting
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.extensions import db
from server.models import CheckIn
from server.services import audit, events, schedules
from server.services.bulk import on_postgresql
from server.services.exactly_once import insert_ignoring_duplicates, reserve_sequence, reserving
from server.services.pagination import paginate
from server.services.treatments import context_for

MAX_CLOCK_SKEW_SECONDS = 300
CONTENT_FIELDS = ("instrument", "answers", "completed_at", "notes")
# What prepare() gives, and the patient and sequence number: the columns a post inserts.
INSERTED_COLUMNS = (
    "id", "patient_id", "seq", "instrument", "instrument_version", "answers", "notes",
    "completed_at", "received_at", "score", "subscores", "scorable", "band",
)
# What the one-statement post reads back of the row it inserted, and completing() needs.
RETURNED_COLUMNS = ("pk", "seq", "patient_id", "instrument", "completed_at", "scorable")


@dataclass
class Receipt:
    """What became of one submitted check-in."""

    id: object
    status: str  # created | duplicate | conflict | invalid
    checkin: CheckIn | None = None
    errors: dict | None = None


def _invalid(errors):
    return Invalid("The check-in has invalid fields.", {"json": errors})


def prepare(item, odi_max_missing, now):
    """Validate and score one submitted check-in; returns the row values."""
    instrument = get_instrument(item["instrument"])
    if instrument is None:
        raise _invalid({"instrument": ["Unknown instrument."]})
    errors = validate_answers(instrument, item["answers"])
    if errors:
        raise _invalid({"answers": errors})
    if (item["completed_at"] - now).total_seconds() > MAX_CLOCK_SKEW_SECONDS:
        raise _invalid({"completed_at": ["Must not be more than 5 minutes in the future."]})
    score = score_answers(instrument, item["answers"], odi_max_missing=odi_max_missing)
    return {
        "id": item["id"],
        "instrument": instrument.code,
        "instrument_version": instrument.version,
        "answers": item["answers"],
        "notes": item.get("notes"),
        # In UTC, as the database gives it back, so a replay answers the same body.
        "completed_at": item["completed_at"].astimezone(timezone.utc),
        "received_at": now,
        "score": score.score,
        "subscores": score.subscores,
        "scorable": score.scorable,
        "band": score.band,
    }


def _same_content(stored, values):
    return all(getattr(stored, field) == values[field] for field in CONTENT_FIELDS)


def _stored(patient_id, ids):
    rows = db.session.scalars(
        select(CheckIn).where(CheckIn.patient_id == patient_id, CheckIn.id.in_(ids))
    ).all()
    return {row.id: row for row in rows}


def store(patient, items):
    """Store submitted check-ins once each; one bad item never rejects the others.

    An item is a loaded check-in, or a Receipt already found invalid by the caller.
    """
    now = utcnow()
    odi_max_missing = setting("ODI_MAX_MISSING_SECTIONS")
    receipts, pending = [], []
    for item in items:
        if isinstance(item, Receipt):
            receipts.append(item)
            continue
        try:
            values = prepare(item, odi_max_missing, now)
        except DomainError as exc:
            receipts.append(Receipt(item["id"], "invalid", errors=exc.errors))
            continue
        receipt = Receipt(item["id"], "created")
        receipts.append(receipt)
        pending.append((receipt, values))
    if pending:
        first_seq = reserve_sequence(patient.id, len(pending))
        rows = [
            {**values, "patient_id": patient.id, "seq": first_seq + n}
            for n, (_, values) in enumerate(pending)
        ]
        table = CheckIn.__table__
        inserted = dict(
            db.session.execute(
                insert_ignoring_duplicates(table, table.c.id, table.c.pk), rows
            ).all()
        )
        missing = [row["id"] for row in rows if row["id"] not in inserted]
        stored = _stored(patient.id, missing) if missing else {}
        for (receipt, values), row in zip(pending, rows):
            if values["id"] in inserted:
                # Built from the values just inserted, saving a read back.
                stored[values["id"]] = CheckIn(**row, pk=inserted.pop(values["id"]))
                receipt.checkin = stored[values["id"]]
            else:
                _settle(receipt, values, stored[values["id"]])
        created = [o.checkin for o in receipts if o.status == "created"]
        if created:
            events.checkins_stored.send(patient, checkins=created)
    return receipts


def _settle(receipt, values, stored):
    """A check-in whose id was already stored: the same one again, or a conflict."""
    if _same_content(stored, values):
        receipt.status, receipt.checkin = "duplicate", stored
    else:
        receipt.status, receipt.checkin = "conflict", None


@cache
def _store_one_statement():
    """On PostgreSQL, one statement: reserve a sequence number, insert the check-in unless its
    id is stored, audit it and complete the assessments it answers (schedules.completing).

    Returns the new row's pk, seq and completed follow-up ids; no row when the id was stored.
    The values are bound as checkin_<column>: an UPDATE would take a parameter named like
    one of its table's columns as a value to set.
    """
    table = CheckIn.__table__
    bound = {
        name: bindparam(f"checkin_{name}", type_=table.c[name].type) for name in INSERTED_COLUMNS
    }
    # A CTE gets no onupdate default: the patient's updated_at is set as of now explicitly.
    reserved = reserving(bound["patient_id"]).values(updated_at=bound["received_at"])
    reserved = reserved.cte("reserved")
    names = [column.name for column in table.c if column.name in INSERTED_COLUMNS]
    row = select(*[reserved.c.checkin_seq if name == "seq" else bound[name] for name in names])
    inserted = (
        postgresql.insert(table).from_select(names, row).on_conflict_do_nothing()
        .returning(*[table.c[name] for name in RETURNED_COLUMNS])
        .cte("inserted")
    )
    audited = audit.insert_per_row(inserted).cte("audited")
    completed = schedules.completing(inserted).cte("completed")
    follow_up_ids = select(func.array_agg(completed.c.follow_up_id)).scalar_subquery()
    return select(inserted.c.pk, inserted.c.seq, follow_up_ids).add_cte(audited)


def _store_one(principal, item):
    """store() and the audit event for one check-in, as one statement on PostgreSQL."""
    patient = principal.patient
    now = utcnow()
    try:
        values = prepare(item, setting("ODI_MAX_MISSING_SECTIONS"), now)
    except DomainError as exc:
        return Receipt(item["id"], "invalid", errors=exc.errors)
    params = {f"checkin_{name}": value for name, value in values.items()}
    params |= {"checkin_patient_id": patient.id, "count": 1}
    params |= audit.bound(audit.event(principal, "checkin.create", patient_id=patient.id))
    inserted = db.session.execute(_store_one_statement(), params).first()
    receipt = Receipt(item["id"], "created")
    if inserted is None:
        _settle(receipt, values, _stored(patient.id, [values["id"]])[values["id"]])
        return receipt
    pk, seq, follow_up_ids = inserted
    receipt.checkin = CheckIn(**values, patient_id=patient.id, seq=seq, pk=pk)
    events.checkins_stored.send(patient, checkins=[receipt.checkin], completed=follow_up_ids or [])
    return receipt


def submit_one(principal, item):
    """Store one check-in; returns (check-in, created?) or raises Invalid/Conflict."""
    if on_postgresql():
        receipt = _store_one(principal, item)
    else:
        receipt = store(principal.patient, [item])[0]
        if receipt.status == "created":
            audit.record(principal, "checkin.create", patient_id=principal.patient.id)
    if receipt.status == "invalid":
        raise Invalid("The check-in has invalid fields.", receipt.errors)
    if receipt.status == "conflict":
        raise Conflict("A different check-in with this id was already stored.")
    return with_context(principal.patient, [receipt.checkin])[0], receipt.status == "created"


def submit_batch(principal, items):
    """Store a batch; returns one receipt per item, in order."""
    receipts = store(principal.patient, items)
    created = sum(receipt.status == "created" for receipt in receipts)
    if created:
        audit.record(principal, "checkin.create_batch", patient_id=principal.patient.id)
    return receipts


def with_context(patient, checkins):
    """Attach each check-in's place relative to the patient's treatments."""
    for checkin in checkins:
        checkin.context = context_for(checkin.completed_at, patient.timezone, patient.treatments)
    return checkins


def changes_since(patient, since, limit):
    """Up to `limit` check-ins changed after cursor `since`, in the order stored; and if more follow."""
    rows = db.session.scalars(
        select(CheckIn)
        .where(CheckIn.patient_id == patient.id, CheckIn.seq > since)
        .order_by(CheckIn.seq)
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    next_cursor = page[-1].seq if page else since
    return {
        "items": with_context(patient, page),
        "next_cursor": next_cursor,
        "has_more": len(rows) > limit,
    }


def void(principal, checkin_id, reason):
    """Mark a check-in entered in error; it stays stored and leaves views and trends."""
    patient = principal.patient
    checkin = db.session.scalar(
        select(CheckIn).where(CheckIn.patient_id == patient.id, CheckIn.id == checkin_id)
    )
    if checkin is None:
        raise NotFound("Check-in not found.")
    if checkin.voided_at is None:
        checkin.seq = reserve_sequence(patient.id, 1)
        checkin.voided_at = utcnow()
        checkin.void_reason = reason
        events.checkin_voided.send(patient, checkin=checkin)
        audit.record(principal, "checkin.void", patient_id=patient.id)
    return with_context(patient, [checkin])[0]


def list_for_staff(patient, args):
    """One page of a patient's check-ins for staff (voided ones only on request)."""
    query = select(CheckIn).where(CheckIn.patient_id == patient.id)
    if args.get("instrument"):
        query = query.where(CheckIn.instrument == args["instrument"])
    if args.get("from_"):
        query = query.where(CheckIn.completed_at >= args["from_"])
    if args.get("to"):
        query = query.where(CheckIn.completed_at < args["to"])
    if not args.get("include_voided"):
        query = query.where(CheckIn.voided_at.is_(None))
    result = paginate(query, args["page"], args["per_page"], CheckIn.completed_at, CheckIn.seq)
    with_context(patient, result["items"])
    return result
