"""The append-only audit trail."""
from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.types import UTCDateTime

# Who acted: a staff role, a patient's device, or nobody signed in (a failed sign-in).
ACTOR_ROLES = ("admin", "clinician", "patient", "anonymous")
AUDIT_OUTCOMES = ("success", "failure", "denied")


class AuditEvent(db.Model):
    """One access to patient data, sign-in, enrollment or revocation."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_at", "organization_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    actor_id: Mapped[int | None]
    actor_role: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditTrailIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session, flush_context, instances):
    """Audit events are only ever inserted."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditTrailIsAppendOnly("audit events cannot be changed or deleted")
