"""Every route against every kind of caller, and no data across patients or organizations.

To add a route: add one line to ROUTES with the status each caller gets and, when the route
takes a body, a factory making a valid one (so an allowed call really succeeds).
"""
import re
import uuid
from dataclasses import dataclass
from itertools import count
from typing import Callable

from server.extensions import db
from server.models import EnrollmentCode, Patient, User
from tests.builders import (
    CALLERS,
    PASSWORD,
    api_routes,
    assert_error_shape,
    email_of,
    enroll_device,
    fill_path,
    fresh_enrollment_code,
    login_as,
)


@dataclass(frozen=True)
class Route:
    """The status each caller gets, a factory for a valid request body, a query string and
    path values of the route's own."""

    expected: dict
    body: Callable | None = None
    query: str = ""
    values: dict | None = None


def expect(*statuses):
    """The statuses in CALLERS order, as the column header in ROUTES shows them."""
    return dict(zip(CALLERS, statuses, strict=True))


# Path parameters (see path_values): patient A, the one patient the on-team clinician sees, and
# records of patient A.
ROUTES = {
    #                                                  anon pat_a pat_b other  off   on  admin
    "GET /healthz": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "GET /readyz": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "GET /api/openapi.json": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "GET /api/docs": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "GET /api/docs/assets/<path:filename>": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "POST /api/v1/auth/login": Route(
        expect(200, 200, 200, 200, 200, 200, 200), body=lambda app, world: login_body(app, world)
    ),
    "POST /api/v1/auth/logout": Route(expect(401, 204, 204, 204, 204, 204, 204)),
    "POST /api/v1/auth/enroll": Route(
        expect(201, 201, 201, 201, 201, 201, 201), body=lambda app, world: enroll_body(app, world)
    ),
    "GET /api/v1/clinicians": Route(expect(401, 403, 403, 403, 403, 403, 200)),
    "POST /api/v1/clinicians": Route(
        expect(401, 403, 403, 403, 403, 403, 201), body=lambda app, world: clinician_body()
    ),
    "GET /api/v1/patients": Route(expect(401, 403, 403, 200, 200, 200, 200)),
    "POST /api/v1/patients": Route(
        expect(401, 403, 403, 201, 201, 201, 201), body=lambda app, world: patient_body()
    ),
    "GET /api/v1/patients/<id:patient_id>": Route(expect(401, 403, 403, 404, 404, 200, 200)),
    "PATCH /api/v1/patients/<id:patient_id>": Route(
        expect(401, 403, 403, 404, 404, 200, 200),
        body=lambda app, world: {"display_name": f"Renamed {next(_unique)}"},
    ),
    "POST /api/v1/patients/<id:patient_id>/enrollment-code": Route(
        expect(401, 403, 403, 404, 404, 201, 201)
    ),
    "DELETE /api/v1/patients/<id:patient_id>/devices": Route(
        expect(401, 403, 403, 404, 404, 200, 200)
    ),
    "GET /api/v1/me": Route(expect(401, 200, 200, 403, 403, 403, 403)),
    "PATCH /api/v1/me": Route(
        expect(401, 200, 200, 403, 403, 403, 403),
        body=lambda app, world: {"reminder_time": "08:30"},
    ),
    "GET /api/v1/audit-events": Route(expect(401, 403, 403, 403, 403, 403, 200)),
    "GET /api/v1/instruments": Route(expect(401, 200, 200, 200, 200, 200, 200)),
    "GET /api/v1/instruments/<string(maxlength=32):code>": Route(
        expect(401, 200, 200, 200, 200, 200, 200)
    ),
    "GET /api/v1/patients/<id:patient_id>/treatments": Route(
        expect(401, 403, 403, 404, 404, 200, 200)
    ),
    "POST /api/v1/patients/<id:patient_id>/treatments": Route(
        expect(401, 403, 403, 404, 404, 201, 201), body=lambda app, world: treatment_body()
    ),
    "GET /api/v1/treatments/<id:treatment_id>": Route(expect(401, 403, 403, 404, 404, 200, 200)),
    "PATCH /api/v1/treatments/<id:treatment_id>": Route(
        expect(401, 403, 403, 404, 404, 200, 200), body=lambda app, world: {"kind": "prp"}
    ),
    "GET /api/v1/me/checkins": Route(expect(401, 200, 200, 403, 403, 403, 403)),
    "POST /api/v1/me/checkins": Route(
        expect(401, 201, 201, 403, 403, 403, 403), body=lambda app, world: checkin_body()
    ),
    "POST /api/v1/me/checkins/batch": Route(
        expect(401, 200, 200, 403, 403, 403, 403),
        body=lambda app, world: {"checkins": [checkin_body()]},
    ),
    "POST /api/v1/me/checkins/<uuid:checkin_id>/void": Route(
        expect(401, 200, 404, 403, 403, 403, 403), body=lambda app, world: {"reason": "by mistake"}
    ),
    "GET /api/v1/patients/<id:patient_id>/checkins": Route(
        expect(401, 403, 403, 404, 404, 200, 200)
    ),
    "POST /api/v1/me/adverse-events": Route(
        expect(401, 201, 201, 403, 403, 403, 403), body=lambda app, world: adverse_event_body()
    ),
    "GET /api/v1/patients/<id:patient_id>/adverse-events": Route(
        expect(401, 403, 403, 404, 404, 200, 200)
    ),
    "GET /api/v1/me/assessments": Route(expect(401, 200, 200, 403, 403, 403, 403)),
    "GET /api/v1/patients/<id:patient_id>/assessments": Route(
        expect(401, 403, 403, 404, 404, 200, 200)
    ),
    "GET /api/v1/patients/<id:patient_id>/notifications": Route(
        expect(401, 403, 403, 404, 404, 200, 200)
    ),
    "GET /api/v1/patients/<id:patient_id>/trends": Route(expect(401, 403, 403, 404, 404, 200, 200)),
    "GET /api/v1/me/trends": Route(expect(401, 200, 200, 403, 403, 403, 403)),
    # Without a query string staff pass the access check and miss the required instrument.
    "GET /api/v1/cohort/outcomes": Route(
        expect(401, 403, 403, 200, 200, 200, 200), query="?instrument=odi&timepoint=latest"
    ),
    "GET /api/v1/cohort/surgery-free": Route(expect(401, 403, 403, 200, 200, 200, 200)),
    "GET /api/v1/exports/outcomes.csv": Route(expect(401, 403, 403, 200, 200, 200, 200)),
    "GET /api/v1/worklist": Route(expect(401, 403, 403, 200, 200, 200, 200)),
    "GET /api/v1/fhir/metadata": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "GET /api/v1/instruments/<string(maxlength=32):code>/fhir": Route(
        expect(401, 200, 200, 200, 200, 200, 200)
    ),
    "GET /api/v1/patients/<id:patient_id>/fhir": Route(expect(401, 403, 403, 404, 404, 200, 200)),
    "GET /api/v1/exports/fhir": Route(expect(401, 403, 403, 403, 403, 403, 200)),
    # The clinician pages ignore bearer tokens: every caller here is signed out of them, and
    # their forms refuse a post without a CSRF token (tests/test_clinic_pages.py signs in).
    "GET /clinic": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "GET /clinic/login": Route(expect(200, 200, 200, 200, 200, 200, 200)),
    "POST /clinic/login": Route(expect(400, 400, 400, 400, 400, 400, 400)),
    "POST /clinic/logout": Route(expect(400, 400, 400, 400, 400, 400, 400)),
    "GET /clinic/patients/<id:patient_id>": Route(expect(302, 302, 302, 302, 302, 302, 302)),
    "GET /clinic/cohort": Route(expect(302, 302, 302, 302, 302, 302, 302)),
    "GET /clinic/static/<path:filename>": Route(
        expect(200, 200, 200, 200, 200, 200, 200), values={"filename": "clinic.css"}
    ),
    "GET /clinic/<path:unknown>": Route(
        expect(404, 404, 404, 404, 404, 404, 404), values={"unknown": "nowhere"}
    ),
}

_unique = count(1)


def login_body(app, world):
    """The admin's valid credentials."""
    return {"email": email_of(app, world.ids["admin"]), "password": PASSWORD}


def enroll_body(app, world):
    """A fresh, valid enrollment code for patient A."""
    code = fresh_enrollment_code(app, world.ids["clinician_on_team"], world.ids["patient_a"])
    return {"code": code, "device_label": "phone"}


def clinician_body():
    """A new clinician with a unique email."""
    n = next(_unique)
    return {"email": f"new{n}@example.test", "name": f"New {n}", "password": "long enough pass"}


def patient_body():
    """A new patient with a unique external id."""
    n = next(_unique)
    return {"external_id": f"NEW-{n}", "display_name": f"New Patient {n}"}


def treatment_body():
    """A treatment of any patient."""
    return {"kind": "prp", "performed_on": "2024-04-01"}


def checkin_body():
    """A pain check-in with a fresh id."""
    return {
        "id": str(uuid.uuid4()),
        "instrument": "nrs_pain",
        "answers": {"back": 6, "leg": 4},
        "completed_at": "2024-05-01T09:30:00+02:00",
    }


def adverse_event_body():
    """A mild adverse event with a fresh id."""
    return {
        "id": str(uuid.uuid4()),
        "onset_on": "2024-05-02",
        "description": "Headache",
        "severity": "mild",
    }


def path_values(client, world):
    """A value for every path parameter: patient A, and a treatment and check-in of patient A."""
    patient_id = world.ids["patient_a"]
    treatment = client.post(
        f"/api/v1/patients/{patient_id}/treatments",
        json=treatment_body(),
        headers=world.headers["clinician_on_team"],
    )
    checkin = client.post(
        "/api/v1/me/checkins", json=checkin_body(), headers=world.headers["patient_a"]
    )
    assert (treatment.status_code, checkin.status_code) == (201, 201)
    return {
        "patient_id": patient_id,
        "treatment_id": treatment.json["id"],
        "checkin_id": checkin.json["id"],
        "code": "nrs_pain",
        "filename": "swagger-ui.css",
    }


def fresh_headers(app, world):
    """New bearer headers for every caller, so one route's logout or revocation spares the next."""
    with app.app_context():
        headers = {"anonymous": {}}
        for caller in CALLERS[1:]:
            if caller.startswith("patient"):
                headers[caller] = enroll_device(app, db.session.get(Patient, world.ids[caller]))
            else:
                headers[caller] = login_as(app, db.session.get(User, world.ids[caller]))
        db.session.commit()
    return headers


def test_every_route_answers_every_caller_as_the_table_says(app, client, world):
    routes = api_routes(app)
    missing = [route for route in routes if route not in ROUTES]
    values = path_values(client, world)
    wrong = {}
    for route in (route for route in routes if route in ROUTES):
        entry, headers = ROUTES[route], fresh_headers(app, world)
        method, rule = route.split(" ", 1)
        path = fill_path(rule, {**values, **(entry.values or {})}) + entry.query
        for caller in CALLERS:
            body = entry.body(app, world) if entry.body else None
            response = client.open(path, method=method, json=body, headers=headers[caller])
            response.close()
            if response.status_code != entry.expected[caller]:
                wrong[f"{route} as {caller}"] = (entry.expected[caller], response.status_code)
    assert missing == [], "routes without an entry in ROUTES: add their expected statuses"
    assert wrong == {}, "(expected, answered) per route and caller"


def test_table_lists_only_routes_the_app_serves(app):
    assert set(ROUTES) - set(api_routes(app)) == set()


def _listed_patient_ids(client, headers):
    response = client.get("/api/v1/patients?per_page=100", headers=headers)
    assert response.status_code == 200
    return {patient["id"] for patient in response.json["items"]}


def test_patient_list_shows_only_the_patients_each_caller_may_see(client, world):
    ids = world.ids
    seen = {
        caller: _listed_patient_ids(client, world.headers[caller])
        for caller in ("clinician_on_team", "clinician_off_team", "clinician_other_org", "admin")
    }
    assert seen == {
        "clinician_on_team": {ids["patient_a"]},
        "clinician_off_team": {ids["patient_b"]},
        "clinician_other_org": {ids["patient_c"]},
        "admin": {ids["patient_a"], ids["patient_b"]},
    }


def test_clinician_list_shows_only_the_admins_organization(client, world):
    response = client.get("/api/v1/clinicians", headers=world.headers["admin"])
    listed = {user["id"] for user in response.json}
    ids = world.ids
    assert listed == {ids["admin"], ids["clinician_on_team"], ids["clinician_off_team"]}


def test_patient_device_sees_only_its_own_profile(client, world):
    response = client.get("/api/v1/me", headers=world.headers["patient_b"])
    assert response.json["id"] == world.ids["patient_b"]


def test_patient_out_of_reach_answers_like_a_missing_one(client, world):
    for caller in ("clinician_on_team", "admin"):
        other_org = client.get(
            f"/api/v1/patients/{world.ids['patient_c']}", headers=world.headers[caller]
        )
        missing = client.get("/api/v1/patients/987654", headers=world.headers[caller])
        assert assert_error_shape(other_org, 404) == assert_error_shape(missing, 404)


def test_denied_writes_leave_patient_a_untouched(app, client, world):
    patient_id = world.ids["patient_a"]
    base = f"/api/v1/patients/{patient_id}"
    for caller in ("clinician_off_team", "clinician_other_org"):
        headers = world.headers[caller]
        renamed = client.patch(base, json={"display_name": "Hijacked"}, headers=headers)
        coded = client.post(f"{base}/enrollment-code", headers=headers)
        revoked = client.delete(f"{base}/devices", headers=headers)
        assert [renamed.status_code, coded.status_code, revoked.status_code] == [404] * 3
    with app.app_context():
        assert db.session.get(Patient, patient_id).display_name != "Hijacked"
        assert db.session.query(EnrollmentCode).count() == 0
    assert client.get("/api/v1/me", headers=world.headers["patient_a"]).status_code == 200


# The role each caller of the table signs in with ("anyone" for no sign-in).
CALLER_ROLES = {
    "anonymous": "anyone",
    "patient_a": "patient",
    "patient_b": "patient",
    "clinician_other_org": "clinician",
    "clinician_off_team": "clinician",
    "clinician_on_team": "clinician",
    "admin": "admin",
}


def test_the_documents_roles_are_the_roles_the_table_lets_in(client):
    document = client.get("/api/openapi.json").json
    wrong = {}
    for route, entry in ROUTES.items():
        method, rule = route.split(" ", 1)
        path = document["paths"].get(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule))
        if path is None:
            continue  # the docs' assets: not an operation of the API
        let_in = {CALLER_ROLES[c] for c, status in entry.expected.items() if status not in (401, 403)}
        documented = set(path[method.lower()]["x-roles"])
        if "anyone" in let_in:
            let_in = {"anyone"}
        if documented != let_in:
            wrong[route] = (sorted(let_in), sorted(documented))
    assert wrong == {}, "(roles the table lets in, x-roles) per route"
