"""Check-ins: validated, scored and stored exactly once; voided, never edited."""
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import select

from server.clinical.instruments import get_instrument
from server.clinical.scoring import score_answers, validate_answers
from server.clock import utcnow
from server.config import setting
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.extensions import db
from server.models import CheckIn
from server.services import audit, events
from server.services.exactly_once import insert_ignoring_duplicates, reserve_sequence
from server.services.pagination import paginate
from server.services.treatments import context_for

MAX_CLOCK_SKEW_SECONDS = 300
CONTENT_FIELDS = ("instrument", "answers", "completed_at", "notes")


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
                continue
            receipt.checkin = stored[values["id"]]
            if not _same_content(receipt.checkin, values):
                receipt.status, receipt.checkin = "conflict", None
            else:
                receipt.status = "duplicate"
        created = [o.checkin for o in receipts if o.status == "created"]
        if created:
            events.checkins_stored.send(patient, checkins=created)
    return receipts


def submit_one(principal, item):
    """Store one check-in; returns (check-in, created?) or raises Invalid/Conflict."""
    receipt = store(principal.patient, [item])[0]
    if receipt.status == "invalid":
        raise Invalid("The check-in has invalid fields.", receipt.errors)
    if receipt.status == "conflict":
        raise Conflict("A different check-in with this id was already stored.")
    if receipt.status == "created":
        audit.record(principal, "checkin.create", patient_id=principal.patient.id)
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
