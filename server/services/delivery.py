"""The outbox sender: claim due reminders in batches, send each, record what happened.

On PostgreSQL claims use SELECT ... FOR UPDATE SKIP LOCKED, so any number of senders
share the outbox and each reminder goes out once. SQLite has no row locks: run a
single scheduler there. A claim is a lease: rows a killed sender left in "sending"
are taken over once the lease has run out.
"""
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select, update

from server.channels import CHANNELS, DeliveryError, reminder_message
from server.clinical.reminders import earliest_send
from server.config import setting
from server.extensions import db
from server.models import FollowUp, Notification, Patient
from server.models.schedules import CLAIMABLE_STATES
from server.services.bulk import id_in, update_rows
from server.services.notifications import REMINDER_COLUMNS, preferences_of, record_states

log = logging.getLogger(__name__)
NOTIFICATIONS = Notification.__table__


def worker_name():
    """Who holds a claim: host, process and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def retry_delay(attempts):
    """Exponential backoff after the given number of failed attempts, capped."""
    seconds = setting("DELIVERY_BACKOFF_SECONDS") * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, setting("DELIVERY_BACKOFF_MAX_SECONDS")))


def _claim(now, worker):
    due = (
        select(NOTIFICATIONS.c.id)
        .where(NOTIFICATIONS.c.state.in_(CLAIMABLE_STATES), NOTIFICATIONS.c.next_attempt_at <= now)
        .order_by(NOTIFICATIONS.c.next_attempt_at)
        .limit(setting("DELIVERY_BATCH_SIZE"))
        .with_for_update(skip_locked=True)
    )
    ids = db.session.scalars(
        update(NOTIFICATIONS)
        .where(NOTIFICATIONS.c.id.in_(due))
        .values(
            state="sending",
            claimed_by=worker,
            attempts=NOTIFICATIONS.c.attempts + 1,
            next_attempt_at=now + timedelta(seconds=setting("DELIVERY_LEASE_SECONDS")),
        )
        .returning(NOTIFICATIONS.c.id)
    ).all()
    record_states(ids, "sending", now)
    db.session.commit()
    return ids


def _claimed_rows(ids):
    patients, follow_ups = Patient.__table__, FollowUp.__table__
    return db.session.execute(
        select(
            NOTIFICATIONS.c.id,
            NOTIFICATIONS.c.channel,
            NOTIFICATIONS.c.attempts,
            follow_ups.c.status.label("follow_up_status"),
            follow_ups.c.opens_at,
            follow_ups.c.closes_at,
            patients.c.status.label("patient_status"),
            *REMINDER_COLUMNS,
        )
        .join(follow_ups, follow_ups.c.id == NOTIFICATIONS.c.follow_up_id)
        .join(patients, patients.c.id == NOTIFICATIONS.c.patient_id)
        .where(id_in(NOTIFICATIONS.c.id, ids))
        .order_by(NOTIFICATIONS.c.id)
    ).all()


def _is_moot(row, now):
    """Completed, cancelled, withdrawn, or outside the time point's (possibly moved) window."""
    return (
        row.follow_up_status != "active"
        or row.patient_status != "active"
        or not row.opens_at <= now < row.closes_at
    )


def _send_batch(rows, clock, deadline):
    """Send each claimed row; returns outcomes grouped by kind."""
    outcomes = defaultdict(list)
    for row in rows:
        now = clock()
        if now >= deadline:
            outcomes["release"].append({"id": row.id, "next_attempt_at": now})
            continue
        if _is_moot(row, now):
            outcomes["cancelled"].append(row.id)
            continue
        allowed = earliest_send(now, preferences_of(row))
        if allowed > now:
            outcomes["release"].append({"id": row.id, "next_attempt_at": allowed})
            continue
        message = reminder_message(row.id, row.contact_email, row.push_token)
        try:
            CHANNELS[row.channel](message)
        except DeliveryError as exc:
            log.warning("reminder %s via %s failed: %s", row.id, row.channel, exc)
            dead = row.attempts >= setting("DELIVERY_MAX_ATTEMPTS")
            outcomes["dead" if dead else "failed"].append(
                {
                    "id": row.id,
                    "last_error": str(exc)[:1000],
                    "next_attempt_at": now + retry_delay(row.attempts),
                }
            )
            continue
        outcomes["sent"].append(row.id)
    return outcomes


def _mine(worker):
    return (NOTIFICATIONS.c.claimed_by == worker, NOTIFICATIONS.c.state == "sending")


def _finish(ids, state, worker, now, **values):
    """Move rows this worker still holds to a final state; returns the ids moved."""
    if not ids:
        return []
    moved = db.session.scalars(
        update(NOTIFICATIONS)
        .where(id_in(NOTIFICATIONS.c.id, ids), *_mine(worker))
        .values(state=state, claimed_by=None, **values)
        .returning(NOTIFICATIONS.c.id)
    ).all()
    record_states(moved, state, now)
    return moved


def _reschedule(items, state, worker, now, **values):
    """Give rows back for a later attempt, each at its own time."""
    update_rows(NOTIFICATIONS, items, *_mine(worker), state=state, claimed_by=None, **values)
    record_states([item["id"] for item in items], state, now)


def _record(outcomes, worker, now):
    counts = {}
    counts["sent"] = len(_finish(outcomes["sent"], "sent", worker, now, sent_at=now, last_error=None))
    counts["cancelled"] = len(_finish(outcomes["cancelled"], "cancelled", worker, now))
    _reschedule(outcomes["failed"], "failed", worker, now)
    _reschedule(outcomes["dead"], "dead", worker, now)
    # Not attempted (quiet hours, or the lease ran short): the claim does not count.
    _reschedule(
        outcomes["release"], "pending", worker, now, attempts=NOTIFICATIONS.c.attempts - 1
    )
    db.session.commit()
    counts.update(
        failed=len(outcomes["failed"]), dead=len(outcomes["dead"]), deferred=len(outcomes["release"])
    )
    return counts


def deliver_due(now, worker=None):
    """Send every reminder due by now; returns how many ended in each state.

    Time runs on from `now` as the run takes real time, so leases stay honest when
    an operator runs the job "as of" another instant.
    """
    worker = worker or worker_name()
    started = time.monotonic()

    def clock():
        return now + timedelta(seconds=time.monotonic() - started)

    totals = defaultdict(int)
    while True:
        claimed_at = clock()
        ids = _claim(claimed_at, worker)
        if not ids:
            break
        deadline = claimed_at + timedelta(seconds=setting("DELIVERY_LEASE_SECONDS") / 2)
        outcomes = _send_batch(_claimed_rows(ids), clock, deadline)
        for state, count in _record(outcomes, worker, clock()).items():
            totals[state] += count
        if len(ids) < setting("DELIVERY_BATCH_SIZE"):
            break
    return dict(totals)
