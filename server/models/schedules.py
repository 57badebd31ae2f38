"""Follow-up time points, their assessments and the reminder outbox."""
from datetime import date

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.types import UTCDateTime

ASSESSMENT_STATUSES = ("scheduled", "open", "completed", "missed", "cancelled")
# A reminder's states: waiting, claimed by a sender, delivered, to retry, given up, withdrawn.
NOTIFICATION_STATES = ("pending", "sending", "sent", "failed", "dead", "cancelled")
# States a sender may still claim: due ones, and "sending" ones whose lease ran out.
CLAIMABLE_STATES = ("pending", "failed", "sending")


class FollowUp(db.Model):
    """One time point of a treatment's protocol: its window and its reminder progress."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("treatment_id", "time_point"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id"))
    time_point: Mapped[str] = mapped_column(String(16))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    opens_at = mapped_column(UTCDateTime, nullable=False)
    closes_at = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Reminder sequence numbers used so far (1..3), and the local day of the last one.
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_on: Mapped[date | None]
    # When the planner creates the next reminder; None when none is due any more.
    next_reminder_at = mapped_column(UTCDateTime, nullable=True, index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Assessment(db.Model):
    """One instrument asked at one time point; a check-in in its window completes it."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("follow_up_id", "instrument"),
        Index("ix_assessments_patient_closes", "patient_id", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    instrument: Mapped[str] = mapped_column(String(32))
    # scheduled and open are refreshed by the hourly job; readers derive them from the window.
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    opens_at = mapped_column(UTCDateTime, nullable=False)
    due_at = mapped_column(UTCDateTime, nullable=False)
    closes_at = mapped_column(UTCDateTime, nullable=False)
    checkin_pk: Mapped[int | None] = mapped_column(ForeignKey("checkins.pk"))
    completed_at = mapped_column(UTCDateTime, nullable=True)


class Notification(db.Model):
    """One reminder in the outbox: exactly one row per (time point, sequence, channel)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("follow_up_id", "sequence", "channel"),
        # Never two reminders on one local day, whatever time points fall on it.
        UniqueConstraint("patient_id", "local_day"),
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            postgresql_where=text("state IN ('pending', 'failed', 'sending')"),
            sqlite_where=text("state IN ('pending', 'failed', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    sequence: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))
    scheduled_for = mapped_column(UTCDateTime, nullable=False)
    local_day: Mapped[date]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a sender may next take the row; while "sending", when its claim's lease runs out.
    next_attempt_at = mapped_column(UTCDateTime, nullable=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class NotificationEvent(db.Model):
    """A reminder's state history: one row per state it entered."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at = mapped_column(UTCDateTime, nullable=False)
