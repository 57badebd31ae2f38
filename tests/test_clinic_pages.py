"""The clinician pages over HTTP: session, CSRF, headers, errors and audit (no browser)."""
import re

import pytest
from sqlalchemy import select

from server import config, create_app
from server.extensions import db
from server.models import AccessToken, AuditEvent
from tests.builders import PASSWORD, TEST_SETTINGS, email_of

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path="/clinic"):
    """The CSRF token of the form on a page."""
    response = client.get(path)
    return CSRF_INPUT.search(response.get_data(as_text=True)).group(1)


def sign_in(client, email, password=PASSWORD, next_page=None):
    """Post the sign-in form as a browser would."""
    form = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    if next_page:
        form["next"] = next_page
    return client.post("/clinic/login", data=form)


def session_cookie(response):
    """The Set-Cookie header of the session cookie."""
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("backtrack_session="))


def audit_outcomes(app, action):
    with app.app_context():
        return db.session.execute(
            select(AuditEvent.outcome, AuditEvent.patient_id)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()


@pytest.fixture
def on_team(app, client, world):
    """The test client signed in to the pages as the clinician on patient A's team."""
    response = sign_in(client, email_of(app, world.ids["clinician_on_team"]))
    assert response.status_code == 302
    return client


def test_signed_out_the_clinic_shows_the_sign_in_form(client):
    response = client.get("/clinic")
    assert response.status_code == 200
    assert 'action="/clinic/login"' in response.get_data(as_text=True)


def test_signing_in_sets_an_http_only_same_site_session_and_lands_on_the_worklist(app, client, world):
    response = sign_in(client, email_of(app, world.ids["admin"]))
    assert (response.status_code, response.headers["Location"]) == (302, "/clinic")
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/clinic")
    assert page.status_code == 200 and "Worklist" in page.get_data(as_text=True)


def test_outside_development_the_session_cookie_is_secure(monkeypatch, tmp_path):
    monkeypatch.delenv("BACKTRACK_ENV", raising=False)
    assert config.from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("BACKTRACK_ENV", "production")
    assert config.from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is True


def test_a_wrong_password_shows_the_form_again_with_401_and_is_audited(app, client, world):
    response = sign_in(client, email_of(app, world.ids["admin"]), "not the password")
    assert response.status_code == 401
    assert "Unknown email or wrong password." in response.get_data(as_text=True)
    assert audit_outcomes(app, "auth.login") == [("failure", None)]
    assert client.get("/clinic/cohort").status_code == 302


def test_failed_sign_ins_share_the_apis_limit(app, client, world):
    app.config["LOGIN_FAILURE_LIMIT"] = "3 per minute"
    email = email_of(app, world.ids["admin"])
    api = [client.post("/api/v1/auth/login", json={"email": email, "password": "x"}) for _ in range(2)]
    page = sign_in(client, email, "x")
    assert [r.status_code for r in api] + [page.status_code] == [401, 401, 401]
    assert sign_in(client, email, "x").status_code == 429
    assert client.post("/api/v1/auth/login", json={"email": email, "password": "x"}).status_code == 429


def test_a_form_post_without_a_csrf_token_is_400(app, client, world):
    response = client.post(
        "/clinic/login", data={"email": email_of(app, world.ids["admin"]), "password": PASSWORD}
    )
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert audit_outcomes(app, "auth.login") == []


def test_signing_out_revokes_the_token(app, on_team):
    form = {"csrf_token": csrf_token(on_team)}
    response = on_team.post("/clinic/logout", data=form)
    assert (response.status_code, response.headers["Location"]) == (302, "/clinic/login")
    with app.app_context():
        newest = db.session.scalars(select(AccessToken).order_by(AccessToken.id.desc())).first()
        assert newest.kind == "staff" and newest.revoked_at is not None
    assert on_team.get("/clinic/cohort").status_code == 302


def test_signed_out_pages_redirect_to_the_sign_in_and_back(app, client, world):
    response = client.get("/clinic/patients/1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/clinic/login?next=/clinic/patients/1"
    back = sign_in(client, email_of(app, world.ids["admin"]), next_page="/clinic/cohort")
    assert back.headers["Location"] == "/clinic/cohort"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/api/v1/me"])
def test_sign_in_never_returns_outside_the_pages(app, client, world, target):
    response = sign_in(client, email_of(app, world.ids["admin"]), next_page=target)
    assert response.headers["Location"] == "/clinic"


def test_pages_send_the_content_security_policy_and_no_store(on_team):
    response = on_team.get("/clinic")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)


def test_a_patient_page_read_is_audited(app, on_team, world):
    patient_id = world.ids["patient_a"]
    response = on_team.get(f"/clinic/patients/{patient_id}")
    assert response.status_code == 200
    assert audit_outcomes(app, "clinic.patient.read") == [("success", patient_id)]


def test_a_patient_out_of_reach_is_a_404_page_and_audited_as_denied(app, on_team, world):
    for name in ("patient_b", "patient_c"):
        response = on_team.get(f"/clinic/patients/{world.ids[name]}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "Patient not found." in response.get_data(as_text=True)
    assert audit_outcomes(app, "clinic.patient.read") == [
        ("denied", world.ids["patient_b"]),
        ("denied", world.ids["patient_c"]),
    ]


def test_errors_are_pages_under_clinic_and_json_under_api(on_team):
    page = on_team.get("/clinic/no/such/page")
    assert (page.status_code, page.mimetype) == (404, "text/html")
    api = on_team.get("/api/v1/no-such-thing")
    assert (api.status_code, api.mimetype) == (404, "application/json")


def test_bad_filters_are_a_422_page(on_team):
    response = on_team.get("/clinic/cohort?instrument=nonsense")
    assert (response.status_code, response.mimetype) == (422, "text/html")
    assert on_team.get("/clinic?sort=sideways").status_code == 422


def test_bearer_tokens_do_not_open_the_pages(client, world):
    response = client.get("/clinic/cohort", headers=world.headers["admin"])
    assert response.status_code == 302


def test_a_form_post_to_the_api_still_needs_json(client, world):
    response = client.post("/api/v1/auth/login", data={"email": "a@b.test", "password": "x"})
    assert response.status_code == 415


def test_an_unexpected_error_under_clinic_is_a_500_page(app, database_url):
    broken = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})

    def boom():
        raise RuntimeError("a bug")

    broken.add_url_rule("/clinic/probe-boom", "probe_boom", boom)
    response = broken.test_client().get("/clinic/probe-boom")
    assert (response.status_code, response.mimetype) == (500, "text/html")
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "a bug" not in response.get_data(as_text=True)
    with broken.app_context():
        db.session.remove()
        db.engine.dispose()
