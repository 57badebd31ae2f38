"""Liveness and readiness probes for load balancers and orchestrators."""
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.extensions import db

bp = Blueprint("health", __name__)


def migration_heads():
    """The revision ids the migration scripts end at, read once per process."""
    if "migration_heads" not in current_app.extensions:
        config = current_app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["migration_heads"] = heads
    return current_app.extensions["migration_heads"]


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database answers and its schema is at the newest migration."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        current_app.logger.exception("readiness check: database unreachable")
        return {"status": "unavailable", "reason": "database unreachable"}, 503
    if current != migration_heads():
        return {"status": "unavailable", "reason": "migrations are not at head"}, 503
    return {"status": "ready"}
