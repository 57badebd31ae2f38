"""What an attacker tries: timing, stale hashes, unsafe production settings, floods, headers,
cross-origin calls, a withdrawn patient's device, and secrets read straight from the tables."""
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from server import create_app
from server.config import ConfigError
from server.extensions import db, limiter
from server.models import AuditEvent, Organization, Patient, User
from tests.builders import (
    CHECKINS,
    PASSWORD,
    TEST_SETTINGS,
    email_of,
    enroll_device,
    fresh_enrollment_code,
    make_organization,
    make_patient,
    make_staff,
    new_checkin,
)

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/api/v1/auth/login"
ENROLL = "/api/v1/auth/enroll"
ME = "/api/v1/me"


def sign_in(client, email, password, ip="10.0.0.1"):
    return client.post(
        LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


# Sign-in timing and rehashing


def test_sign_in_takes_as_long_for_an_unknown_email_as_for_a_wrong_password(app, client, world):
    # A cost high enough that hashing, not the request around it, dominates each sign-in.
    app.config.update(
        PASSWORD_HASH_TIME_COST=1, PASSWORD_HASH_MEMORY_KIB=32768, LOGIN_FAILURE_LIMIT="1000/minute"
    )
    with app.app_context():
        user = make_staff(db.session.get(Organization, world.ids["home"]))
        db.session.commit()
        known = user.email
    paths = {"unknown": "nobody@example.test", "known": known}
    for email in paths.values():  # warm up: the dummy hash is computed once per cost
        sign_in(client, email, "wrong password")
    timings = {name: [] for name in paths}
    for round_ in range(20):  # alternate which path goes first, so drift hits both alike
        for name, email in sorted(paths.items(), reverse=round_ % 2 == 1):
            # CPU time of this process (the hasher's threads included): the work each path
            # does, which is what leaks; wall time on a shared 2-core host mostly measures
            # the neighbours.
            started = time.process_time()
            assert sign_in(client, email, "wrong password").status_code == 401
            timings[name].append(time.process_time() - started)
    ratio = statistics.median(timings["unknown"]) / statistics.median(timings["known"])
    assert 0.8 <= ratio <= 1.25, (ratio, timings)


def test_a_password_hashed_at_an_old_cost_is_rehashed_at_sign_in(app, client, world):
    email = email_of(app, world.ids["admin"])

    def stored_hash():
        with app.app_context():
            return db.session.scalar(select(User.password_hash).where(User.email == email))

    old = stored_hash()
    assert "m=1024" in old
    app.config["PASSWORD_HASH_MEMORY_KIB"] = 2048
    assert sign_in(client, email, "wrong password").status_code == 401
    assert stored_hash() == old  # a failed sign-in proves nothing: no rehash
    assert sign_in(client, email, PASSWORD).status_code == 200
    new = stored_hash()
    assert "m=2048" in new and new != old
    assert sign_in(client, email, PASSWORD).status_code == 200
    assert stored_hash() == new  # at the current cost already: left alone


# Production refuses unsafe settings, each unless its own setting allows it

SAFE_PRODUCTION = {
    "BACKTRACK_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
}
UNSAFE = {
    "debug": ({"FLASK_DEBUG": "1"}, "ALLOW_DEBUG"),
    "short secret key": ({"SECRET_KEY": "too-short"}, "ALLOW_WEAK_SECRET_KEY"),
    "sqlite": ({"DATABASE_URL": "sqlite:////tmp/backtrack-never-opened.sqlite3"}, "ALLOW_SQLITE"),
    "memory rate limits": ({"RATELIMIT_STORAGE_URI": "memory://"}, "ALLOW_MEMORY_RATE_LIMITS"),
}


@pytest.fixture
def environment(monkeypatch):
    """Set the process environment for create_app(), starting from no Backtrack settings."""
    for name in ("FLASK_DEBUG", *SAFE_PRODUCTION, *(allow for _, allow in UNSAFE.values())):
        monkeypatch.delenv(name, raising=False)

    def set_environment(values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_environment


def test_production_starts_with_safe_settings(environment):
    environment(SAFE_PRODUCTION)
    assert create_app().config["ENV_NAME"] == "production"


@pytest.mark.parametrize("unsafe", UNSAFE, ids=list(UNSAFE))
def test_production_refuses_an_unsafe_setting(environment, unsafe):
    change, allowance = UNSAFE[unsafe]
    environment({**SAFE_PRODUCTION, **change})
    with pytest.raises(ConfigError, match=f"set {allowance}=1"):
        create_app()


@pytest.mark.parametrize("unsafe", UNSAFE, ids=list(UNSAFE))
def test_production_starts_with_an_unsafe_setting_its_own_setting_allows(environment, unsafe):
    change, allowance = UNSAFE[unsafe]
    environment({**SAFE_PRODUCTION, **change, allowance: "1"})
    assert create_app().config["ENV_NAME"] == "production"


def test_production_refuses_a_missing_secret_key(environment, monkeypatch):
    environment(SAFE_PRODUCTION)
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY is missing"):
        create_app()


def test_the_production_command_line_stops_with_the_reasons():
    environment = {
        "PATH": "/usr/bin:/bin",
        **SAFE_PRODUCTION,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SECRET_KEY": "",
    }
    flask = str(Path(sys.executable).with_name("flask"))
    result = subprocess.run(
        [flask, "--app", "wsgi", "jobs", "list"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "ALLOW_MEMORY_RATE_LIMITS" in result.stderr and "ALLOW_WEAK_SECRET_KEY" in result.stderr


# Rate limits


def test_failed_enrollments_are_limited_per_code_across_addresses(app, client):
    app.config["ENROLL_FAILURE_LIMIT"] = "3 per minute"
    statuses = [
        client.post(
            ENROLL,
            json={"code": "ACDE-FGHJ", "device_label": "phone"},
            environ_base={"REMOTE_ADDR": f"10.0.1.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert statuses == [422, 422, 422, 429]


def test_check_in_posts_are_limited_per_device_token(app, client, world):
    app.config["CHECKIN_RATE_LIMIT"] = "3 per minute"
    statuses = [
        client.post(CHECKINS, json=new_checkin(), headers=world.headers["patient_a"]).status_code
        for _ in range(3)
    ]
    batch = client.post(
        f"{CHECKINS}/batch", json={"checkins": [new_checkin()]}, headers=world.headers["patient_a"]
    )
    other = client.post(CHECKINS, json=new_checkin(), headers=world.headers["patient_b"])
    assert statuses == [201] * 3
    assert batch.status_code == 429 and "Retry-After" in batch.headers
    assert other.status_code == 201


def test_rate_limit_keys_hold_no_raw_token_or_code(app, client, world):
    code = "ACDE-FGHJ"
    client.post(ENROLL, json={"code": code, "device_label": "phone"})
    client.post(CHECKINS, json=new_checkin(), headers=world.headers["patient_a"])
    token = world.headers["patient_a"]["Authorization"].split()[1]
    with app.app_context():
        keys = list(limiter.storage.storage)  # the in-memory counters the tests run with
    assert any("checkins" in key for key in keys) and any("enroll" in key for key in keys), keys
    assert not [key for key in keys if token in key or code in key or code.replace("-", "") in key]


# Headers and cross-origin access


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/nothing-here", "/healthz", "/clinic/login", "/api/openapi.json"]
)
def test_every_response_carries_the_security_headers(client, world, path):
    response = client.get(path, headers=world.headers["patient_a"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_static_files_may_be_cached_and_https_answers_carry_hsts(client):
    response = client.get("/clinic/static/clinic.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")
    secure = client.get("/healthz", base_url="https://backtrack.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_cross_origin_access_by_default(client):
    response = client.get("/api/openapi.json", headers={"Origin": "https://app.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cross_origin_access_only_for_the_configured_origins():
    app = create_app(
        {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://", "CORS_ORIGINS": ["https://app.example"]}
    )
    client = app.test_client()
    preflight = client.options(
        "/api/v1/me/checkins",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = client.get("/api/openapi.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


# A withdrawn patient's devices


def test_withdrawing_a_patient_revokes_their_device_tokens_audited(app, client, world):
    patient_id = world.ids["patient_a"]
    response = client.patch(
        f"/api/v1/patients/{patient_id}",
        json={"status": "withdrawn"},
        headers=world.headers["clinician_on_team"],
    )
    assert response.status_code == 200
    assert client.get(ME, headers=world.headers["patient_a"]).status_code == 401
    assert client.get(ME, headers=world.headers["patient_b"]).status_code == 200
    with app.app_context():
        actions = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_id).where(AuditEvent.patient_id == patient_id)
        ).all()
    assert ("devices.revoke", world.ids["clinician_on_team"]) in actions
    # Re-activated, the patient needs a new enrollment: revoked tokens stay revoked.
    client.patch(
        f"/api/v1/patients/{patient_id}",
        json={"status": "active"},
        headers=world.headers["clinician_on_team"],
    )
    assert client.get(ME, headers=world.headers["patient_a"]).status_code == 401


def test_a_device_token_is_checked_against_the_patients_status_on_every_request(app, client):
    with app.app_context():
        patient = make_patient(make_organization())
        headers = enroll_device(app, patient)
        db.session.commit()
        patient_id = patient.id
    assert client.get(ME, headers=headers).status_code == 200
    with app.app_context():  # withdrawn behind the services' back: no revocation ran
        db.session.execute(update(Patient).where(Patient.id == patient_id).values(status="withdrawn"))
        db.session.commit()
    assert client.get(ME, headers=headers).status_code == 401


# Secrets at rest


def test_no_table_holds_a_raw_token_code_or_password(app, client, world):
    secrets = [PASSWORD]
    secrets += [headers["Authorization"].split()[1] for headers in world.headers.values() if headers]
    login = sign_in(client, email_of(app, world.ids["admin"]), PASSWORD)
    secrets.append(login.json["access_token"])
    code = fresh_enrollment_code(app, world.ids["clinician_on_team"], world.ids["patient_a"])
    secrets += [code, code.replace("-", "")]
    enrolled = client.post(ENROLL, json={"code": code, "device_label": "phone"})
    secrets.append(enrolled.json["access_token"])
    page = client.post("/clinic/login", data={"email": email_of(app, world.ids["admin"]), "password": PASSWORD})
    assert page.status_code in (302, 400)  # signed in, or stopped by CSRF: either way no secret kept
    with app.app_context():
        stored = [
            repr(value)
            for table in db.metadata.sorted_tables
            for row in db.session.execute(table.select()).all()
            for value in row
        ]
    assert len(stored) > 50
    text = "\n".join(stored)
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked
