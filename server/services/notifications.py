"""Planning reminders into the outbox, exactly once per (time point, sequence, channel)."""
from collections import defaultdict

from sqlalchemy import select, update

from server.clinical.reminders import (
    MAX_REMINDERS,
    Preferences,
    earliest_send,
    local_date,
    next_reminder,
)
from server.config import setting
from server.extensions import db
from server.models import FollowUp, Notification, NotificationEvent, Patient
from server.services.bulk import insert_rows, update_rows

PLAN_BATCH_SIZE = 1000
CANCELLABLE = ("pending", "failed")


# The patient columns reminders need: preferences and contact.
REMINDER_COLUMNS = tuple(
    Patient.__table__.c[name]
    for name in (
        "timezone", "reminder_time", "quiet_start", "quiet_end", "contact_email", "push_token"
    )
)


def preferences_of(patient):
    """A patient's (or a row's) reminder preferences as the pure reminder rules take them."""
    return Preferences(
        patient.timezone, patient.reminder_time, patient.quiet_start, patient.quiet_end
    )


def choose_channel(push_token, email):
    """Push when a gateway is configured, else email when SMTP is, else the default channel."""
    if push_token and setting("PUSH_GATEWAY_URL"):
        return "webhook"
    if email and setting("SMTP_HOST"):
        return "smtp"
    return setting("REMINDER_DEFAULT_CHANNEL")


def retime(follow_ups, patient, now):
    """Set each follow-up's next reminder from the patient's current preferences.

    A reminder already due stays due, so re-timing never loses a catch-up.
    """
    prefs = preferences_of(patient)
    for follow_up in follow_ups:
        if follow_up.status != "active" or patient.status != "active":
            follow_up.next_reminder_at = None
            continue
        not_before = now
        if follow_up.next_reminder_at is not None:
            not_before = min(now, follow_up.next_reminder_at)
        follow_up.next_reminder_at = next_reminder(
            follow_up.opens_on,
            follow_up.closes_at,
            follow_up.reminders_sent,
            follow_up.last_reminded_on,
            prefs,
            not_before,
        )


def retime_patient(patient, now):
    """Move the patient's next reminders to their new reminder time or quiet hours."""
    follow_ups = db.session.scalars(
        select(FollowUp).where(FollowUp.patient_id == patient.id, FollowUp.status == "active")
    ).all()
    retime(follow_ups, patient, now)


def record_states(ids, state, now):
    """Append one history entry per reminder."""
    insert_rows(
        NotificationEvent.__table__,
        [{"notification_id": id_, "state": state, "at": now} for id_ in ids],
    )


def cancel_moot(follow_up_ids, now):
    """Cancel the unsent reminders of time points that no longer need them."""
    if not follow_up_ids:
        return
    table = Notification.__table__
    ids = db.session.scalars(
        update(table)
        .where(table.c.follow_up_id.in_(follow_up_ids), table.c.state.in_(CANCELLABLE))
        .values(state="cancelled")
        .returning(table.c.id)
    ).all()
    record_states(ids, "cancelled", now)


def _due_batch(now, size):
    follow_ups, patients = FollowUp.__table__, Patient.__table__
    return db.session.execute(
        select(
            follow_ups.c.id,
            follow_ups.c.patient_id,
            follow_ups.c.opens_on,
            follow_ups.c.closes_at,
            follow_ups.c.reminders_sent,
            follow_ups.c.last_reminded_on,
            follow_ups.c.next_reminder_at,
            *REMINDER_COLUMNS,
        )
        .join(patients, patients.c.id == follow_ups.c.patient_id)
        .where(
            follow_ups.c.next_reminder_at <= now,
            follow_ups.c.status == "active",
            patients.c.status == "active",
        )
        .order_by(follow_ups.c.next_reminder_at)
        .limit(size)
        .with_for_update(skip_locked=True, of=follow_ups)
    ).all()


def _plan_one(row, now):
    """What one due follow-up becomes: (outbox row or None, new follow-up state)."""
    change = {
        "id": row.id,
        "reminders_sent": row.reminders_sent,
        "last_reminded_on": row.last_reminded_on,
    }
    if row.closes_at <= now or row.reminders_sent >= MAX_REMINDERS:
        return None, {**change, "next_reminder_at": None}
    prefs = preferences_of(row)
    today = local_date(now, row.timezone)
    if row.last_reminded_on is not None and row.last_reminded_on >= today:
        later = next_reminder(
            today, row.closes_at, row.reminders_sent, row.last_reminded_on, prefs, now
        )
        return None, {**change, "next_reminder_at": later}
    allowed = earliest_send(now, prefs)
    if allowed > now:
        # Came due while the scheduler was down, and now is in quiet hours: wait for their end.
        return None, {**change, "next_reminder_at": allowed if allowed < row.closes_at else None}
    sequence = row.reminders_sent + 1
    outbox = {
        "follow_up_id": row.id,
        "patient_id": row.patient_id,
        "sequence": sequence,
        "channel": choose_channel(row.push_token, row.contact_email),
        "scheduled_for": row.next_reminder_at,
        "local_day": today,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    following = next_reminder(row.opens_on, row.closes_at, sequence, today, prefs, now)
    return outbox, {
        "id": row.id,
        "reminders_sent": sequence,
        "last_reminded_on": today,
        "next_reminder_at": following,
    }


def plan_reminders(now):
    """Put every reminder due by now into the outbox; safe with any number of planners.

    Due follow-ups are locked with SKIP LOCKED (PostgreSQL) so planners share the work;
    the outbox's unique keys drop any duplicate that still gets through.
    """
    totals = defaultdict(int)
    while True:
        due = _due_batch(now, PLAN_BATCH_SIZE)
        if not due:
            break
        planned = [_plan_one(row, now) for row in due]
        outbox = [row for row, _ in planned if row is not None]
        ids = insert_rows(Notification.__table__, outbox, returning=Notification.__table__.c.id)
        record_states(ids, "pending", now)
        update_rows(FollowUp.__table__, [change for _, change in planned])
        db.session.commit()
        totals["planned"] += len(ids)
        totals["merged"] += len(outbox) - len(ids)
        totals["postponed"] += len(due) - len(outbox)
        if len(due) < PLAN_BATCH_SIZE:
            break
    return dict(totals)


def notifications_of(patient_id):
    """Every reminder of a patient with its state history, in planned order."""
    rows = db.session.execute(
        select(Notification, FollowUp.time_point)
        .join(FollowUp, FollowUp.id == Notification.follow_up_id)
        .where(Notification.patient_id == patient_id)
        .order_by(Notification.scheduled_for, Notification.id)
    ).all()
    history = defaultdict(list)
    if rows:
        for event in db.session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.notification_id.in_([n.id for n, _ in rows]))
            .order_by(NotificationEvent.at, NotificationEvent.id)
        ):
            history[event.notification_id].append({"state": event.state, "at": event.at})
    items = []
    for notification, time_point in rows:
        notification.time_point = time_point
        notification.history = history[notification.id]
        items.append(notification)
    return items
