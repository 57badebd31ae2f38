"""Liveness and readiness probes."""
from sqlalchemy import text

from server import create_app
from server.extensions import db
from tests.builders import TEST_SETTINGS


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
        heads = db.session.scalars(text("SELECT version_num FROM alembic_version")).all()
        db.session.execute(text("DELETE FROM alembic_version"))
        db.session.execute(text("INSERT INTO alembic_version VALUES ('older')"))
        db.session.commit()
    try:
        assert client.get("/readyz").status_code == 503
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM alembic_version"))
            for head in heads:
                db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
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


def test_the_public_operations_share_one_rate_limit_per_client_address(app, client):
    app.config["PUBLIC_RATE_LIMIT"] = "4 per minute"
    paths = ["/healthz", "/readyz", "/api/openapi.json", "/api/docs", "/api/v1/fhir/metadata"]
    statuses = [client.get(path).status_code for path in paths]
    assert statuses == [200, 200, 200, 200, 429]
    refused = client.get("/healthz")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    elsewhere = client.get("/healthz", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 200
