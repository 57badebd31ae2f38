"""Follow-up schedules: a treatment's protocol on the patient's calendar, completed by check-ins."""
from datetime import timedelta

from sqlalchemy import and_, bindparam, case, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql

from server.clinical.protocols import get_protocol
from server.clinical.reminders import day_start
from server.clock import utcnow
from server.config import setting
from server.extensions import db
from server.models import Assessment, CheckIn, FollowUp, Patient, Treatment
from server.services import notifications

PENDING = ("scheduled", "open")
# A check-in answered inside the window completes the assessment, even when it syncs late.
COMPLETABLE = ("scheduled", "open", "missed")
# The open assessments whose windows a batch of check-ins can fall in. Built once: it runs
# on every check-in post, and building it cost more than running it.
ANSWERABLE = select(Assessment).where(
    Assessment.patient_id == bindparam("patient_id"),
    Assessment.instrument.in_(bindparam("instruments", expanding=True)),
    Assessment.status.in_(COMPLETABLE),
    Assessment.opens_at <= bindparam("last"),
    Assessment.closes_at > bindparam("first"),
)


def window_status(opens_at, closes_at, now):
    """scheduled, open or missed: where now falls against a window."""
    return "scheduled" if now < opens_at else "open" if now < closes_at else "missed"


def status_at(assessment, now):
    """An assessment's status as of now, whether or not the hourly job has stored it yet."""
    if assessment.status in PENDING:
        return window_status(assessment.opens_at, assessment.closes_at, now)
    return assessment.status


def status_column(now):
    """status_at as SQL, for filtering."""
    return case(
        (
            Assessment.status.in_(PENDING),
            case(
                (Assessment.opens_at > now, literal("scheduled")),
                (Assessment.closes_at > now, literal("open")),
                else_=literal("missed"),
            ),
        ),
        else_=Assessment.status,
    )


def _instants(time_point, treated_on, zone):
    opens_on, due_on, closes_on = time_point.dates(treated_on)
    return {
        "opens_on": opens_on,
        "closes_on": closes_on,
        "opens_at": day_start(opens_on, zone),
        "due_at": day_start(due_on + timedelta(days=1), zone),
        "closes_at": day_start(closes_on + timedelta(days=1), zone),
    }


def _follow_ups_of(treatment_id):
    return db.session.scalars(select(FollowUp).where(FollowUp.treatment_id == treatment_id)).all()


def _assessments_of(follow_up_ids):
    if not follow_up_ids:
        return []
    return db.session.scalars(
        select(Assessment).where(Assessment.follow_up_id.in_(follow_up_ids)).order_by(Assessment.id)
    ).all()


def _set_window(follow_up, window):
    follow_up.opens_on, follow_up.closes_on = window["opens_on"], window["closes_on"]
    follow_up.opens_at, follow_up.closes_at = window["opens_at"], window["closes_at"]
    follow_up.status = "active"


def _place(follow_up, assessments, time_point, window, patient, now):
    """Move a follow-up and its assessments not yet completed to the window."""
    _set_window(follow_up, window)
    have = {assessment.instrument: assessment for assessment in assessments}
    for instrument in time_point.instruments:
        assessment = have.get(instrument)
        if assessment is None:
            assessment = Assessment(
                follow_up_id=follow_up.id, patient_id=patient.id, instrument=instrument
            )
            db.session.add(assessment)
        if assessment.status != "completed":
            assessment.opens_at, assessment.closes_at = window["opens_at"], window["closes_at"]
            assessment.due_at = window["due_at"]
            assessment.status = window_status(window["opens_at"], window["closes_at"], now)
    for assessment in assessments:
        if assessment.instrument not in time_point.instruments and assessment.status in COMPLETABLE:
            assessment.status = "cancelled"


def _cancel(follow_up, assessments):
    if follow_up.status != "completed":
        follow_up.status = "cancelled"
    follow_up.next_reminder_at = None
    for assessment in assessments:
        if assessment.status in COMPLETABLE:
            assessment.status = "cancelled"


def sync_treatment(treatment, patient, now):
    """Create or move a treatment's follow-ups to match its protocol, date and the patient's zone.

    Completed time points keep their windows and data; reminder sequence numbers
    already used stay used, so no reminder is ever sent twice.
    """
    protocol = get_protocol(treatment.protocol) if treatment.protocol else None
    wanted = {}
    if protocol is not None and patient.status == "active":
        wanted = {time_point.label: time_point for time_point in protocol.time_points}
    existing = {follow_up.time_point: follow_up for follow_up in _follow_ups_of(treatment.id)}
    windows = {
        label: _instants(time_point, treatment.performed_on, patient.timezone)
        for label, time_point in wanted.items()
    }
    for label in wanted.keys() - existing.keys():
        existing[label] = FollowUp(
            patient_id=patient.id, treatment_id=treatment.id, time_point=label, reminders_sent=0
        )
        _set_window(existing[label], windows[label])
        db.session.add(existing[label])
    db.session.flush()
    assessments = _assessments_of([follow_up.id for follow_up in existing.values()])
    for label, follow_up in existing.items():
        own = [a for a in assessments if a.follow_up_id == follow_up.id]
        if label not in wanted:
            _cancel(follow_up, own)
        elif follow_up.status != "completed":
            _place(follow_up, own, wanted[label], windows[label], patient, now)
    db.session.flush()
    touched = list(existing.values())
    _complete_from_stored(patient, _assessments_of([follow_up.id for follow_up in touched]))
    _refresh(touched, patient, now)


def _first_match(assessment, checkins):
    return next(
        (
            checkin
            for checkin in checkins
            if checkin.instrument == assessment.instrument
            and assessment.opens_at <= checkin.completed_at < assessment.closes_at
        ),
        None,
    )


def _complete(assessments, checkins):
    """Complete each assessment with the earliest usable check-in in its window."""
    usable = sorted(
        (c for c in checkins if c.voided_at is None and c.scorable), key=lambda c: c.completed_at
    )
    done = []
    for assessment in assessments:
        if assessment.status not in COMPLETABLE:
            continue
        checkin = _first_match(assessment, usable)
        if checkin is not None:
            assessment.status = "completed"
            assessment.checkin_pk = checkin.pk
            assessment.completed_at = checkin.completed_at
            done.append(assessment)
    return done


def _complete_from_stored(patient, assessments):
    open_ones = [a for a in assessments if a.status in COMPLETABLE]
    if not open_ones:
        return
    checkins = db.session.scalars(
        select(CheckIn).where(
            CheckIn.patient_id == patient.id,
            CheckIn.instrument.in_({a.instrument for a in open_ones}),
            CheckIn.voided_at.is_(None),
            CheckIn.completed_at >= min(a.opens_at for a in open_ones),
            CheckIn.completed_at < max(a.closes_at for a in open_ones),
        )
    ).all()
    _complete(open_ones, checkins)


def _refresh(follow_ups, patient, now):
    """Mark follow-ups completed (stopping reminders) or active again, then re-time reminders."""
    if not follow_ups:
        return
    assessments = _assessments_of([follow_up.id for follow_up in follow_ups])
    for follow_up in follow_ups:
        pending = any(
            a.follow_up_id == follow_up.id and a.status not in ("completed", "cancelled")
            for a in assessments
        )
        if follow_up.status == "active" and not pending:
            follow_up.status = "completed"
        elif follow_up.status == "completed" and pending:
            follow_up.status = "active"
    notifications.retime(follow_ups, patient, now)
    notifications.cancel_moot([f.id for f in follow_ups if f.status != "active"], now)


def _follow_ups_by_id(ids):
    if not ids:
        return []
    return db.session.scalars(select(FollowUp).where(FollowUp.id.in_(ids))).all()


def complete_with(patient, checkins, now):
    """Complete the patient's open assessments that these check-ins answer."""
    usable = [c for c in checkins if c.voided_at is None and c.scorable]
    if not usable:
        return
    candidates = db.session.scalars(
        ANSWERABLE,
        {
            "patient_id": patient.id,
            "instruments": sorted({checkin.instrument for checkin in usable}),
            "last": max(checkin.completed_at for checkin in usable),
            "first": min(checkin.completed_at for checkin in usable),
        },
    ).all()
    done = _complete(candidates, checkins)
    _refresh(_follow_ups_by_id({a.follow_up_id for a in done}), patient, now)


def completing(inserted):
    """complete_with for one check-in as SQL: an UPDATE completing the open assessments the
    row of `inserted` (a check-in just inserted) answers, returning their follow-up ids."""
    table = Assessment.__table__
    return (
        update(table)
        .where(
            table.c.patient_id == inserted.c.patient_id,
            table.c.instrument == inserted.c.instrument,
            # = ANY(ARRAY[...]): an IN list would be re-rendered on every execution.
            table.c.status == func.any(postgresql.array(COMPLETABLE)),
            table.c.opens_at <= inserted.c.completed_at,
            table.c.closes_at > inserted.c.completed_at,
            inserted.c.scorable,
        )
        .values(status="completed", checkin_pk=inserted.c.pk, completed_at=inserted.c.completed_at)
        .returning(table.c.follow_up_id)
    )


def reopen_for(patient, checkin, now):
    """A voided check-in completes nothing: its assessments reopen unless another answers them."""
    assessments = db.session.scalars(
        select(Assessment).where(Assessment.checkin_pk == checkin.pk)
    ).all()
    for assessment in assessments:
        assessment.checkin_pk = None
        assessment.completed_at = None
        assessment.status = window_status(assessment.opens_at, assessment.closes_at, now)
    db.session.flush()
    _complete_from_stored(patient, assessments)
    _refresh(_follow_ups_by_id({a.follow_up_id for a in assessments}), patient, now)


def cancel_pending(patient, now):
    """A withdrawn patient: pending time points, assessments and reminders are cancelled."""
    db.session.execute(
        update(Assessment)
        .where(Assessment.patient_id == patient.id, Assessment.status.in_(PENDING))
        .values(status="cancelled")
        .execution_options(synchronize_session="fetch")
    )
    follow_up_ids = db.session.scalars(
        select(FollowUp.id).where(FollowUp.patient_id == patient.id, FollowUp.status == "active")
    ).all()
    db.session.execute(
        update(FollowUp)
        .where(FollowUp.id.in_(follow_up_ids))
        .values(status="cancelled", next_reminder_at=None)
        .execution_options(synchronize_session="fetch")
    )
    notifications.cancel_moot(follow_up_ids, now)


def resync_patient(patient, now):
    """Re-place every treatment's follow-ups, e.g. after a change of time zone or status."""
    for treatment in db.session.scalars(
        select(Treatment).where(Treatment.patient_id == patient.id).order_by(Treatment.id)
    ):
        sync_treatment(treatment, patient, now)


def expire_assessments(now):
    """Store the window status reached by now; closed windows stop planning reminders."""
    opened = db.session.execute(
        update(Assessment)
        .where(Assessment.status == "scheduled", Assessment.opens_at <= now, Assessment.closes_at > now)
        .values(status="open")
        .execution_options(synchronize_session=False)
    ).rowcount
    missed = db.session.execute(
        update(Assessment)
        .where(Assessment.status.in_(PENDING), Assessment.closes_at <= now)
        .values(status="missed")
        .execution_options(synchronize_session=False)
    ).rowcount
    closed = db.session.execute(
        update(FollowUp)
        .where(FollowUp.next_reminder_at.is_not(None), FollowUp.closes_at <= now)
        .values(next_reminder_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return {"opened": opened, "missed": missed, "reminders_stopped": closed}


def assessments_of(patient_id, status=None, now=None):
    """A patient's assessments in window order, optionally only those with a status as of now."""
    now = now or utcnow()
    query = (
        select(Assessment, FollowUp.time_point, FollowUp.treatment_id)
        .join(FollowUp, FollowUp.id == Assessment.follow_up_id)
        .where(Assessment.patient_id == patient_id)
        .order_by(Assessment.opens_at, FollowUp.treatment_id, Assessment.id)
    )
    if status:
        query = query.where(status_column(now) == status)
    rows = []
    for assessment, time_point, treatment_id in db.session.execute(query):
        assessment.time_point = time_point
        assessment.treatment_id = treatment_id
        assessment.current_status = status_at(assessment, now)
        rows.append(assessment)
    return rows


def is_overdue():
    """A condition on Patient: an assessment past its target day, or missed recently."""
    now = utcnow()
    since = now - timedelta(days=setting("OVERDUE_FLAG_DAYS"))
    return exists().where(
        Assessment.patient_id == Patient.id,
        Assessment.status.in_(COMPLETABLE),
        and_(Assessment.due_at <= now, Assessment.closes_at > since),
    )


def on_treatment_saved(treatment, created, changed):
    """A new treatment, or one with a new date or protocol, gets its follow-ups placed."""
    if created or changed & {"performed_on", "protocol"}:
        sync_treatment(treatment, db.session.get(Patient, treatment.patient_id), utcnow())


def on_checkins_stored(patient, checkins, completed=None):
    """New check-ins complete the assessments they answer; `completed` lists the follow-ups
    whose assessments the storing statement completed itself (see completing)."""
    if completed is None:
        complete_with(patient, checkins, utcnow())
    elif completed:
        _refresh(_follow_ups_by_id(set(completed)), patient, utcnow())


def on_checkin_voided(patient, checkin):
    """A voided check-in reopens what it completed."""
    reopen_for(patient, checkin, utcnow())


def on_patient_changed(patient, changed, principal=None):
    """Withdrawal cancels follow-up; a new zone, status or reminder time re-places it."""
    now = utcnow()
    if "status" in changed and patient.status != "active":
        cancel_pending(patient, now)
    elif changed & {"status", "timezone"}:
        resync_patient(patient, now)
    elif changed & {"reminder_time", "quiet_hours"}:
        notifications.retime_patient(patient, now)
