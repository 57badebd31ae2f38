"""Opaque access tokens and one-time enrollment codes, stored only as hashes."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.clock import utcnow
from server.extensions import db
from server.models.accounts import Patient, User
from server.models.types import UTCDateTime


class AccessToken(db.Model):
    """A bearer token: a staff session or a patient's enrolled device."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    device_label: Mapped[str | None] = mapped_column(String(100))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    revoked_at = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User | None] = relationship()
    patient: Mapped[Patient | None] = relationship()


class EnrollmentCode(db.Model):
    """A short one-time code a clinician hands a patient to enroll a device."""

    __tablename__ = "enrollment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)
