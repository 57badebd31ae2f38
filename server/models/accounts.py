"""Organizations, staff users, patients and their care teams."""
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.clock import utcnow
from server.extensions import db
from server.models.types import UTCDateTime

STAFF_ROLES = ("admin", "clinician")
PATIENT_STATUSES = ("active", "withdrawn")

care_team = Table(
    "care_team",
    db.metadata,
    Column("patient_id", ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # A clinician's patients, without reading every care team.
    Index("ix_care_team_user_patient", "user_id", "patient_id"),
)


class Organization(db.Model):
    """A clinic; every user and patient belongs to exactly one."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # FHIR export: names are left out unless the organization turns them on; patients are
    # identified by external id under this system (None: one derived from FHIR_BASE_URL).
    fhir_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fhir_pseudonym_system: Mapped[str | None] = mapped_column(String(255))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class User(db.Model):
    """A staff member (admin or clinician) who signs in with email and password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    organization: Mapped[Organization] = relationship()


class Patient(db.Model):
    """A person tracked by one organization, with a care team of clinicians."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("organization_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(16))
    condition: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    reminder_time = mapped_column(Time, nullable=False)
    quiet_start = mapped_column(Time, nullable=True)
    quiet_end = mapped_column(Time, nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    push_token: Mapped[str | None] = mapped_column(String(4096))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Last value of the patient's check-in change sequence; bumped under the row lock.
    checkin_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=false())
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    organization: Mapped[Organization] = relationship()
    care_team: Mapped[list[User]] = relationship(secondary=care_team, order_by=User.id)
    # In date order: each treatment anchors its own follow-up and trends.
    treatments: Mapped[list["Treatment"]] = relationship(  # noqa: F821
        order_by="[Treatment.performed_on, Treatment.id]", viewonly=True
    )
