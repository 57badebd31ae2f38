"""Operator commands: `users create` and `demo`."""
from sqlalchemy import func, select

from server import create_app
from server.demo import DEMO_COLLEAGUES, DEMO_PATIENTS, DEMO_STAFF
from server.extensions import db
from server.models import Organization, Patient, User
from tests.builders import TEST_SETTINGS

GOOD_PASSWORD = "a long enough password"


def create_user(app, *options, email="ops@example.test", password=GOOD_PASSWORD):
    args = ["users", "create", email, "--role", "admin", "--organization", "Nordklinik"]
    return app.test_cli_runner().invoke(
        args=[*args, *options, "--password-stdin"], input=f"{password}\n"
    )


def counts(app):
    """How many organizations, staff users and patients there are."""
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Organization, User, Patient)
        )


def test_users_create_makes_the_organization_when_missing(app, client):
    result = create_user(app, "--timezone", "Europe/Oslo", "--name", "Olga Ops")
    assert result.exit_code == 0, result.output
    assert "created admin ops@example.test" in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.organization.name, user.organization.timezone) == ("Nordklinik", "Europe/Oslo")
        assert (user.role, user.name) == ("admin", "Olga Ops")
    login = {"email": "ops@example.test", "password": GOOD_PASSWORD}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200


def test_users_create_joins_an_existing_organization(app):
    assert create_user(app).exit_code == 0
    assert create_user(app, email="second@example.test").exit_code == 0
    assert counts(app) == (1, 2, 0)


def test_users_create_rejects_bad_timezone_short_password_or_bad_email_and_creates_nothing(app):
    attempts = [
        ("IANA time zone", ["--timezone", "Mars/Olympus"], {}),
        ("at least 12 characters", [], {"password": "too short"}),
        ("not an email address", [], {"email": "not-an-email"}),
    ]
    for complaint, options, overrides in attempts:
        result = create_user(app, *options, **overrides)
        assert (result.exit_code, complaint in result.output) == (2, True), result.output
    assert counts(app) == (0, 0, 0)


def test_users_create_refuses_a_taken_email(app):
    create_user(app)
    result = create_user(app, email="OPS@example.test")
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_demo_seeds_once_and_prints_working_credentials(app, client):
    first = app.test_cli_runner().invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for email, password, _, _ in DEMO_STAFF:
        assert f"{email}  password: {password}" in first.output
        login = {"email": email, "password": password}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
    demo_counts = (1, len(DEMO_STAFF) + len(DEMO_COLLEAGUES), len(DEMO_PATIENTS))
    assert counts(app) == demo_counts
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0
    assert "already present" in again.output
    assert counts(app) == demo_counts


def test_demo_refuses_to_run_in_production():
    app = create_app(
        {
            **TEST_SETTINGS,
            "ENV_NAME": "production",
            "SECRET_KEY": "s" * 32,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "not for production" in result.output
