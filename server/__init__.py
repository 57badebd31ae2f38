"""Backtrack: patient-reported outcomes after back-pain treatment."""
import logging
import os
import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from server import config as settings
from server import extensions, security, unit_of_work
from server.errors import register_error_handlers
from server.json_provider import OrjsonProvider

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")
# A pooled connection back from a request this recently is taken as alive: pinging it
# (pool_pre_ping) would add a round trip to every request under load. One that died meanwhile
# fails its request with a 503 and the pool reconnects; an idler one is pinged first.
PING_AFTER_IDLE_SECONDS = 1.0


class IdConverter(IntegerConverter):
    """A database id in the URL: a positive 32-bit integer, else the route does not match."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)

    @staticmethod
    def openapi_schema(converter):
        """How the id appears in the OpenAPI document."""
        return {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def create_app(config=None):
    """Build an app; config overrides settings read from the environment."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.json = OrjsonProvider(app)
    app.config.update(settings.from_environment(app.instance_path))
    app.config.update(config or {})
    os.makedirs(app.instance_path, exist_ok=True)
    settings.validate(app.config, app.instance_path)
    app.url_map.converters["id"] = IdConverter
    # First, so that its headers go on every response, even one the unit of work replaces.
    security.register(app)
    register_extensions(app)
    register_blueprints(app)
    register_receivers()
    register_commands(app)
    register_proxy(app)
    logging.basicConfig(level=logging.INFO)
    return app


def register_extensions(app):
    """Bind the unbound extensions to this app."""
    extensions.db.init_app(app)
    register_ping(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=MIGRATIONS_DIR, render_as_batch=True
    )
    extensions.limiter.init_app(app)
    from server.api.contract import ContractPlugin

    extensions.api.init_app(app, spec_kwargs={"extra_plugins": [ContractPlugin()]})
    extensions.api.register_converter(IdConverter, IdConverter.openapi_schema)
    register_error_handlers(app, extensions.api, unit_of_work.abandon)
    unit_of_work.register(app)


def register_ping(app):
    """Ping a pooled connection before use when it has been idle, replacing it if dead."""
    with app.app_context():
        engine = extensions.db.engine
    event.listen(engine, "checkin", _note_idle_since)
    event.listen(engine, "checkout", _ping_if_idle(engine.dialect))


def _note_idle_since(dbapi_connection, connection_record):
    connection_record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect):
    def ping(dbapi_connection, connection_record, connection_proxy):
        idle_since = connection_record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection failed its ping: {exc}") from exc

    return ping


def register_blueprints(app):
    """Mount the API resources, the plain endpoints and the clinician pages."""
    from server import web
    from server.api import API_BLUEPRINTS, PLAIN_BLUEPRINTS, checkins, docs

    for blueprint in API_BLUEPRINTS:
        extensions.api.register_blueprint(blueprint)
    docs.document(app, extensions.api.spec)
    checkins.document(extensions.api.spec)
    for blueprint in PLAIN_BLUEPRINTS:
        app.register_blueprint(blueprint)
    web.register(app)


def register_receivers():
    """Connect the services that react to domain events."""
    from server.services.events import connect_receivers

    connect_receivers()


def register_commands(app):
    """Add the operator commands to the flask CLI."""
    from jobs.cli import jobs_cli
    from server.cli import demo_command, organizations, users

    app.cli.add_command(users)
    app.cli.add_command(organizations)
    app.cli.add_command(demo_command)
    app.cli.add_command(jobs_cli)


def register_proxy(app):
    """Trust X-Forwarded-For from as many proxies as configured."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, a busy timeout and foreign keys on every SQLite connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
