"""The baseline: a bare Flask + Flask-SQLAlchemy endpoint that parses JSON and inserts one row.

With BARE_WITH_AUTH_AUDIT=1 it also looks the bearer token up and writes one audit row, in
plain SQL: the database work the real endpoint cannot avoid, without its Python layers.
"""
import hashlib
import os
import uuid
from datetime import datetime, timezone

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, create_engine, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import server  # noqa: F401  the same SQLite pragmas (WAL, busy timeout) as the real app


class Base(DeclarativeBase):
    """Declarative base for the one bare table."""


db = SQLAlchemy(model_class=Base)


class BareRow(db.Model):
    """One posted body."""

    __tablename__ = "bench_bare_rows"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    body: Mapped[dict] = mapped_column(JSON)


def create_table(url):
    """Create the bare table once, before any worker starts."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite://")
db.init_app(app)
WITH_AUTH_AUDIT = os.environ.get("BARE_WITH_AUTH_AUDIT") == "1"
TOKEN_PATIENT = text(
    "SELECT patient_id FROM access_tokens WHERE token_hash = :token_hash AND revoked_at IS NULL"
)
AUDIT = text(
    "INSERT INTO audit_events (at, organization_id, actor_id, actor_role, patient_id, action,"
    " outcome) VALUES (:at, NULL, :patient_id, 'patient', :patient_id, 'checkin.create',"
    " 'success')"
)


@app.post("/api/v1/me/checkins")
def insert_one():
    """Parse the JSON body and insert it as one row (after the token lookup, if asked)."""
    if WITH_AUTH_AUDIT:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        patient_id = db.session.execute(
            TOKEN_PATIENT, {"token_hash": hashlib.sha256(token.encode()).hexdigest()}
        ).scalar_one()
    body = request.get_json()
    db.session.add(BareRow(id=uuid.UUID(body["id"]), body=body))
    if WITH_AUTH_AUDIT:
        db.session.flush()
        db.session.execute(AUDIT, {"at": datetime.now(timezone.utc), "patient_id": patient_id})
    db.session.commit()
    return {"id": body["id"]}, 201
