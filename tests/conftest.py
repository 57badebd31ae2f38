"""Fixtures: an app per test on SQLite and, when configured, on PostgreSQL."""
import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from server import create_app
from server.extensions import db, limiter

# Builders assert too: have pytest explain their failures as it does the tests'.
pytest.register_assert_rewrite("tests.builders", "tests.processes")
from tests.builders import TEST_SETTINGS, World, empty_tables  # noqa: E402
from tests.contract import ContractClient  # noqa: E402

POSTGRES_URL = os.environ.get("BACKTRACK_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _reset_postgres(url):
    """Drop everything in the test database so migrations start from nothing."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as exc:
        pytest.fail(f"BACKTRACK_TEST_DATABASE_URL is set but unreachable: {exc}", pytrace=False)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database for the whole session, per backend."""
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    else:
        url = POSTGRES_URL
        _reset_postgres(url)
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def _shared_app(database_url):
    """One app per backend for the session: building an app per test costs more than most tests."""
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    app.test_client_class = ContractClient
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_shared_app):
    """The backend's app with its settings restored and its tables emptied after the test."""
    settings = dict(_shared_app.config)
    with _shared_app.app_context():
        limiter.reset()
    yield _shared_app
    _shared_app.config.clear()
    _shared_app.config.update(settings)
    with _shared_app.app_context():
        db.session.remove()
        empty_tables()


@pytest.fixture(scope="module")
def demo_app(_shared_app):
    """The backend's app with the demo seeded once for a whole module, as seeding takes
    seconds; yields (app, the lines the seeding printed). The module's tests only read it."""
    from server.demo import seed_demo

    with _shared_app.app_context():
        limiter.reset()
        lines = seed_demo()
    yield _shared_app, lines
    with _shared_app.app_context():
        db.session.remove()
        empty_tables()


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def world(app, client):
    """Two organizations with staff, patients and signed-in callers."""
    return World.build(app, client)


@pytest.fixture
def clock():
    """Pin the app's clock; tests move it with clock.set(...)."""
    from server import clock as app_clock

    yield app_clock
    app_clock.set_now(None)


@pytest.fixture(scope="session")
def throwaway_postgres():
    """A PostgreSQL server of the session's own, for tests that restart or load it.

    Never the shared server: initdb into a temporary folder and a port of its own.
    """
    from tests.processes import ThrowawayPostgres, postgres_binaries

    binaries = postgres_binaries()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL's server binaries (initdb) for the fault tests")
        pytest.skip("PostgreSQL's server binaries (initdb) are not installed")
    server = ThrowawayPostgres(binaries)
    yield server
    server.close()
