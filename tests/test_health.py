"""Liveness and readiness probes."""
from sqlalchemy import text

from server import create_app
from server.extensions import db
from tests.conftest import TEST_SETTINGS


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_when_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"


def test_readyz_is_503_on_an_unmigrated_database(tmp_path):
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.db"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "migrations are not at head"


def test_readyz_is_503_when_the_schema_is_behind(app, client):
    with app.app_context():
        head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        db.session.commit()
    try:
        assert client.get("/readyz").status_code == 503
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()


def test_readyz_is_503_when_the_database_is_unreachable():
    app = create_app(
        {
            **TEST_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "database unreachable"
