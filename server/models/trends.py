"""Computed trends, kept per treatment and measure, and which patients need recomputing."""
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.types import UTCDateTime

RELIABLE_CURRENT = "current AND reliable_change IS TRUE"


class Trend(db.Model):
    """One measure after one treatment, as last computed from the patient's check-ins."""

    __tablename__ = "trends"
    __table_args__ = (
        UniqueConstraint("treatment_id", "instrument", "score_name"),
        # The worklist's flags: a clinician's worsening or improving patients, by index only.
        Index(
            "ix_trends_reliable_status",
            "status",
            "patient_id",
            postgresql_where=text(RELIABLE_CURRENT),
            sqlite_where=text(RELIABLE_CURRENT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"))
    # The patient's most recent treatment: the worklist flags look at it only.
    current: Mapped[bool] = mapped_column(Boolean)
    instrument: Mapped[str] = mapped_column(String(32))
    score_name: Mapped[str] = mapped_column(String(32))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_at = mapped_column(UTCDateTime, nullable=True)
    latest_value: Mapped[float | None] = mapped_column(Float)
    latest_at = mapped_column(UTCDateTime, nullable=True)
    latest_days: Mapped[int | None] = mapped_column(Integer)
    change: Mapped[float | None] = mapped_column(Float)
    pct_change: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(16))
    rci: Mapped[float | None] = mapped_column(Float)
    reliable_change: Mapped[bool | None] = mapped_column(Boolean)
    immpact_band: Mapped[str | None] = mapped_column(String(16))
    slope_per_30d: Mapped[float | None] = mapped_column(Float)
    slope_se: Mapped[float | None] = mapped_column(Float)
    n_points: Mapped[int] = mapped_column(Integer)
    # {label: [value, days_from_treatment] or null}, per the treatment's protocol.
    # JSONB on PostgreSQL: the cohort reads one time point per row out of it in SQL.
    timepoints: Mapped[dict] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    # When these values were computed: a recompute that finds the same ones keeps the rows.
    computed_at = mapped_column(UTCDateTime, nullable=False)


class TrendState(db.Model):
    """Whether a patient's trends are stale, and when they were last computed."""

    __tablename__ = "trend_state"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    stale: Mapped[bool] = mapped_column(Boolean, index=True)
    computed_at = mapped_column(UTCDateTime, nullable=True)
    # The patient's check-in change sequence the trends were computed from: a newer
    # check-in or void makes them stale without a write on the check-in's path.
    computed_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A digest of the trend rows last stored: a recompute computing the same writes none.
    # Clear it after changing trend rows by hand, so that the next recompute rewrites them.
    digest: Mapped[bytes | None] = mapped_column(LargeBinary)
