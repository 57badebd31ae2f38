"""Liveness and readiness probes for load balancers and orchestrators."""
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from schemas.health import HealthSchema, ReadinessSchema
from server.api.blueprint import Blueprint
from server.api.contract import public, without_database
from server.api.guards import limit_public
from server.extensions import db

blp = Blueprint("health", __name__, description="Probes")


def migration_heads():
    """The revision ids the migration scripts end at, read once per process."""
    if "migration_heads" not in current_app.extensions:
        config = current_app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["migration_heads"] = heads
    return current_app.extensions["migration_heads"]


@blp.route("/healthz", methods=["GET"])
@blp.doc(operationId="getHealth")
@public
@limit_public
@without_database
@blp.response(200, HealthSchema)
def healthz():
    """The process answers."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.doc(operationId="getReadiness")
@public
@limit_public
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, schema=ReadinessSchema, description="Not ready: `reason` says why.")
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
