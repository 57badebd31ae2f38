"""The baseline: a bare Flask + Flask-SQLAlchemy endpoint that parses JSON and inserts one row."""
import os
import uuid

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, create_engine
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


@app.post("/api/v1/me/checkins")
def insert_one():
    """Parse the JSON body and insert it as one row."""
    body = request.get_json()
    db.session.add(BareRow(id=uuid.UUID(body["id"]), body=body))
    db.session.commit()
    return {"id": body["id"]}, 201
