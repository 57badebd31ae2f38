"""A patient's care as recorded: treatments, check-ins and adverse events."""
import uuid
from datetime import date

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.types import UTCDateTime


class Treatment(db.Model):
    """A treatment a patient received; each is its own anchor for follow-up and trends."""

    __tablename__ = "treatments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    performed_on: Mapped[date]
    cell_source: Mapped[str | None] = mapped_column(String(32))
    target_levels: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    protocol: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class CheckIn(db.Model):
    """One completed questionnaire, stored once per (patient, client id), never edited."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("patient_id", "id"),
        UniqueConstraint("patient_id", "seq"),
        Index("ix_checkins_patient_instrument_completed", "patient_id", "instrument", "completed_at"),
        # The cohort's anchors: the PGIC check-ins of many patients.
        Index(
            "ix_checkins_pgic",
            "patient_id",
            postgresql_where=text("instrument = 'pgic'"),
            sqlite_where=text("instrument = 'pgic'"),
        ),
    )

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    # The patient's change sequence: the order the server stored (or voided) it.
    seq: Mapped[int]
    instrument: Mapped[str] = mapped_column(String(32))
    instrument_version: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    completed_at = mapped_column(UTCDateTime, nullable=False)
    received_at = mapped_column(UTCDateTime, nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    subscores: Mapped[dict] = mapped_column(JSON)
    scorable: Mapped[bool] = mapped_column(Boolean)
    band: Mapped[str | None] = mapped_column(String(16))
    voided_at = mapped_column(UTCDateTime, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(Text)


class AdverseEvent(db.Model):
    """An adverse event the patient reported, stored once per (patient, client id)."""

    __tablename__ = "adverse_events"
    __table_args__ = (UniqueConstraint("patient_id", "id"),)

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    treatment_id: Mapped[int | None] = mapped_column(ForeignKey("treatments.id"))
    onset_on: Mapped[date]
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32))
    received_at = mapped_column(UTCDateTime, nullable=False)
