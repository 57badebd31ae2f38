"""Bad input answers 4xx in the one error shape, naming the field; nothing sent may cause a 5xx."""
import json
import random
import re

import pytest
from marshmallow import Schema, fields

from server import create_app
from server.api import API_BLUEPRINTS
from server.api.blueprint import StrictParser
from server.clock import utcnow
from tests.builders import (
    TEST_SETTINGS,
    add_treatment,
    api_routes,
    assert_error_shape,
    email_of,
    fill_path,
)

PATIENTS = "/api/v1/patients"


def new_patient(**fields):
    """A valid create body, with fields overridden."""
    return {"external_id": "X-1", "display_name": "Dana Doe", **fields}


def post_json_text(client, path, text, headers):
    return client.post(path, data=text, content_type="application/json", headers=headers)


def field_errors(response, location="json"):
    """The per-field messages of a 422, asserting the error shape on the way."""
    return assert_error_shape(response, 422)["errors"][location]


def test_malformed_json_or_json_nested_too_deeply_or_with_too_long_a_number_is_400(client, world):
    response = post_json_text(client, PATIENTS, '{"external_id": ', world.headers["admin"])
    assert assert_error_shape(response, 400)["message"] == "The request body is not valid JSON."
    for text in ["[" * 100_000 + "]" * 100_000, '{"birth_year": 1' + "0" * 5000 + "}"]:
        for path in (PATIENTS, "/api/v1/auth/login", "/api/v1/auth/enroll"):
            assert_error_shape(post_json_text(client, path, text, world.headers["admin"]), 400)


def test_non_json_content_type_is_415(client, world):
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "text/xml", None):
        response = client.post(
            PATIENTS,
            data=json.dumps(new_patient()),
            content_type=content_type,
            headers=world.headers["admin"],
        )
        assert_error_shape(response, 415)


def test_body_over_one_mib_is_413(client, world):
    text = json.dumps(new_patient(display_name="x" * (1024 * 1024)))
    assert_error_shape(post_json_text(client, PATIENTS, text, world.headers["admin"]), 413)


def test_unknown_field_is_422_naming_it(client, world):
    response = client.post(PATIENTS, json=new_patient(shoe_size=44), headers=world.headers["admin"])
    assert field_errors(response) == {"shoe_size": ["Unknown field."]}


def assert_each_value_is_422_naming_the_field(client, world, field, values):
    """POST a new patient with each value in the field; each answers 422 naming that field."""
    for value in values:
        response = client.post(
            PATIENTS, json=new_patient(**{field: value}), headers=world.headers["admin"]
        )
        assert set(field_errors(response)) == {field}, value


def test_wrong_type_is_422_naming_the_field(client, world):
    wrong_types = {
        "birth_year": [True, "1970", 1970.5, [1970]],
        "care_team": [[True], ["3"], 3, {"id": 3}],
        "display_name": [42, False, ["Dana"]],
        "quiet_hours": ["22:00-07:00", ["22:00", "07:00"]],
        "contact": [["me@example.test"], "me@example.test"],
    }
    for field, values in wrong_types.items():
        assert_each_value_is_422_naming_the_field(client, world, field, values)


def test_invalid_time_zone_or_local_time_is_422(client, world):
    zones = ["Mars/Olympus_Mons", "europe/berlin", "", "CET+1", "../etc/passwd", 1]
    assert_each_value_is_422_naming_the_field(client, world, "timezone", zones)
    times = ["25:00", "9:00", "09:60", "0900", "09:00:00", "ab:cd", 900]
    assert_each_value_is_422_naming_the_field(client, world, "reminder_time", times)


def test_invalid_quiet_hours_time_is_422_naming_the_nested_field(client, world):
    response = client.patch(
        "/api/v1/me",
        json={"quiet_hours": {"start": "22:00", "end": "7am"}},
        headers=world.headers["patient_a"],
    )
    assert field_errors(response) == {"quiet_hours": {"end": ["Must be a local time as HH:MM."]}}


def test_out_of_range_birth_year_is_422(client, world):
    years = [1899, -1, 0, 10**12, utcnow().year + 1]
    assert_each_value_is_422_naming_the_field(client, world, "birth_year", years)


def test_nul_byte_or_lone_surrogate_in_a_string_is_422(client, world):
    for field in ("external_id", "display_name"):
        assert_each_value_is_422_naming_the_field(client, world, field, ["ab\x00cd", "\ud800"])


def test_nul_byte_in_a_query_argument_is_422(client, world):
    for path, name in [(PATIENTS, "q"), ("/api/v1/audit-events", "action")]:
        response = client.get(f"{path}?{name}=ab%00cd", headers=world.headers["admin"])
        assert set(field_errors(response, "query")) == {name}


@pytest.mark.parametrize(
    "query", ["from=0001-01-01T00:00:00%2B14:00", "to=9999-12-31T23:59:59-12:00"]
)
def test_an_audit_filter_outside_the_calendar_is_422_not_500(client, world, query):
    response = client.get(f"/api/v1/audit-events?{query}", headers=world.headers["admin"])
    assert set(field_errors(response, "query")) == {query.split("=")[0]}


@pytest.mark.parametrize("day", ["0001-01-01", "1900-12-31", "9000-01-01", "9999-12-31"])
def test_a_treatment_date_outside_the_calendar_is_422_not_500(client, world, day):
    created = client.post(
        f"{PATIENTS}/{world.ids['patient_a']}/treatments",
        json={"kind": "prp", "performed_on": day, "protocol": "spine-standard"},
        headers=world.headers["admin"],
    )
    assert set(field_errors(created)) == {"performed_on"}
    treatment_id = add_treatment(client, world, world.ids["patient_a"], "2024-03-01")
    changed = client.patch(
        f"/api/v1/treatments/{treatment_id}",
        json={"performed_on": day},
        headers=world.headers["admin"],
    )
    assert set(field_errors(changed)) == {"performed_on"}


def test_lone_surrogate_in_a_password_is_422(app, client, world):
    email = email_of(app, world.ids["admin"])
    response = client.post("/api/v1/auth/login", json={"email": email, "password": "\udfff"})
    assert set(field_errors(response)) == {"password"}


def test_duplicate_external_id_is_409_on_create_or_rename_within_one_organization(client, world):
    first = client.post(PATIENTS, json=new_patient(), headers=world.headers["admin"])
    again = client.post(PATIENTS, json=new_patient(), headers=world.headers["admin"])
    elsewhere = client.post(
        PATIENTS, json=new_patient(), headers=world.headers["clinician_other_org"]
    )
    assert first.status_code == 201
    assert set(assert_error_shape(again, 409)["errors"]["json"]) == {"external_id"}
    assert elsewhere.status_code == 201
    renamed = client.patch(
        f"{PATIENTS}/{world.ids['patient_a']}",
        json={"external_id": new_patient()["external_id"]},
        headers=world.headers["admin"],
    )
    assert_error_shape(renamed, 409)


def test_duplicate_clinician_email_is_409_whatever_its_case(app, client, world):
    taken = email_of(app, world.ids["clinician_on_team"]).upper()
    response = client.post(
        "/api/v1/clinicians",
        json={"email": taken, "name": "Twin", "password": "long enough pass"},
        headers=world.headers["admin"],
    )
    assert set(assert_error_shape(response, 409)["errors"]["json"]) == {"email"}


def test_out_of_range_pagination_is_422(client, world):
    for query in ("per_page=101", "per_page=0", "page=0", "page=x"):
        response = client.get(f"{PATIENTS}?{query}", headers=world.headers["admin"])
        assert set(field_errors(response, "query")) == {query.split("=")[0]}


# Every PATCH route: who may call it, and the path to call (given the world and a treatment id).
PATCHES = {
    "PATCH /api/v1/me": ("patient_a", lambda world, treatment_id: "/api/v1/me"),
    "PATCH /api/v1/patients/<id:patient_id>": (
        "admin", lambda world, treatment_id: f"{PATIENTS}/{world.ids['patient_a']}"
    ),
    "PATCH /api/v1/treatments/<id:treatment_id>": (
        "admin", lambda world, treatment_id: f"/api/v1/treatments/{treatment_id}"
    ),
}
NO_BODY = {"data": None}
EMPTY_JSON_TEXT = {"data": "", "content_type": "application/json"}


def test_every_patch_route_is_checked_for_an_empty_update(app):
    assert {route for route in api_routes(app) if route.startswith("PATCH ")} == set(PATCHES)


@pytest.mark.parametrize("route", sorted(PATCHES))
@pytest.mark.parametrize(
    "body, error",
    [
        (NO_BODY, "A JSON body is required."),
        (EMPTY_JSON_TEXT, "A JSON body is required."),
        ({"json": {}}, "Give at least one field to change."),
    ],
    ids=["no body", "empty body", "empty object"],
)
def test_patch_without_a_change_is_422_and_changes_nothing(client, world, route, body, error):
    caller, path_of = PATCHES[route]
    path = path_of(world, add_treatment(client, world, world.ids["patient_a"], "2024-03-01"))
    headers = world.headers[caller]
    before = client.get(path, headers=headers).json
    response = client.patch(path, headers=headers, **body)
    assert assert_error_shape(response, 422)["errors"] == {"json": {"_schema": [error]}}
    assert client.get(path, headers=headers).json == before


@pytest.mark.parametrize(
    "caller, path, name",
    [
        ("admin", f"{PATIENTS}?per_page=5&per_page=10", "per_page"),
        ("admin", f"{PATIENTS}?q=a&page=1&q=b", "q"),
        ("patient_a", "/api/v1/me/checkins?since=1&since=2", "since"),
        ("admin", "/api/v1/audit-events?from=2024-01-01T00:00:00Z&from=2024-02-01T00:00:00Z", "from"),
        ("admin", "/api/v1/worklist?sort=-external_id&sort=external_id", "sort"),
        ("admin", "/api/v1/cohort/outcomes?instrument=odi&instrument=nrs_pain", "instrument"),
        ("patient_a", "/api/v1/me/assessments?status=open&status=open", "status"),
    ],
)
def test_a_repeated_single_valued_query_parameter_is_422_naming_it(client, world, caller, path, name):
    response = client.get(path, headers=world.headers[caller])
    assert field_errors(response, "query") == {name: ["Give this parameter once."]}


def test_a_repeated_fhir_type_parameter_is_refused_not_read_as_its_first_value(client, world):
    response = client.get(
        "/api/v1/exports/fhir?_type=Patient&_type=Observation", headers=world.headers["admin"]
    )
    assert response.status_code == 422
    assert "_type" in response.get_data(as_text=True)


def test_a_list_valued_query_parameter_still_takes_repeats(app):
    schema = Schema.from_dict({"tag": fields.List(fields.String()), "page": fields.Integer()})()
    with app.test_request_context("/?tag=a&tag=b&page=2"):
        assert StrictParser().parse(schema, location="query") == {"tag": ["a", "b"], "page": 2}


def test_every_api_blueprint_reads_arguments_strictly():
    assert all(isinstance(blp.ARGUMENTS_PARSER, StrictParser) for blp in API_BLUEPRINTS)


def test_huge_or_malformed_path_id_is_404(client, world):
    for patient_id in ("99999999999999999999", "2147483648", "0", "-1", "1e3"):
        response = client.get(f"{PATIENTS}/{patient_id}", headers=world.headers["admin"])
        assert_error_shape(response, 404)


def test_unknown_url_and_wrong_method_use_the_error_shape(client, world):
    assert_error_shape(client.get("/api/v1/nothing-here"), 404)
    assert_error_shape(client.put(PATIENTS, headers=world.headers["admin"]), 405)


def test_unexpected_exception_is_500_in_the_error_shape_without_internals(database_url):
    def explode():
        raise RuntimeError("secret internals")

    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    app.add_url_rule("/explode", view_func=explode)
    response = app.test_client().get("/explode")
    assert "secret internals" not in assert_error_shape(response, 500)["message"]


def test_openapi_documents_the_error_shape(client):
    schema = client.get("/api/openapi.json").json["components"]["schemas"]["Error"]
    assert {"code", "status", "message", "errors"} == set(schema["properties"])


# A small deterministic fuzz: random JSON bodies against every POST and PATCH route. Bodies mostly
# use the route's own field names (read from the OpenAPI document) to get past the unknown-field
# check, with values that are random or plausible, so some requests reach the services.
FUZZ_SEED = 20240601
FUZZ_BODIES_PER_ROUTE = 25
FIELD_NAMES = (
    "external_id display_name birth_year sex condition timezone reminder_time quiet_hours "
    "start end contact email push_token care_team status password name role code device_label"
).split()
STRINGS = ["", " ", "a" * 300, "\x00", "\ud800", "😀" * 10, "'; DROP TABLE patients; --", "%s%n"]
PLAUSIBLE = [
    1, 2, 3, 1970, "Europe/Berlin", "active", "withdrawn", "female", "herniated_disc",
    "clinician", "admin", "fuzz@example.test", "Dana Doe", "ACDE-FGHJ", "long enough password",
    "2024-01-01T09:00:00+00:00", "2024-01-01", [1, 2], {"email": "fuzz@example.test"},
    "22:00", {"start": "22:00"}, {"end": "07:00"},
]


def random_json(rng, depth=0):
    """A random JSON value: scalars, huge numbers, odd unicode, nested objects and arrays."""
    kind = rng.randrange(10 if depth < 4 else 7)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**31, 2**63, -(10**30), 10**300, rng.randint(-999, 3000)])
    if kind == 2:
        return rng.choice([0.5, -0.0, 1e308, -1e-308, rng.uniform(-1e6, 1e6)])
    if kind == 3:
        return rng.choice(STRINGS)
    if kind == 4:
        return "".join(chr(rng.randrange(1, 0x2FFFF)) for _ in range(rng.randrange(12)))
    if kind in (5, 6):
        return rng.choice(PLAUSIBLE)
    if kind == 7:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(FIELD_NAMES + ["unknown"]): random_json(rng, depth + 1)
        for _ in range(rng.randrange(5))
    }


def random_body(rng, fields):
    """Usually an object of the route's fields, sometimes with a stray one, sometimes any JSON."""
    if rng.random() < 0.1:
        return random_json(rng)
    names = fields or FIELD_NAMES
    body = {rng.choice(names): random_json(rng, 1) for _ in range(rng.randrange(len(names) + 1))}
    if rng.random() < 0.1:
        body[rng.choice(FIELD_NAMES)] = random_json(rng, 1)
    return body


def body_fields(spec, method, rule):
    """The top-level field names of a route's JSON body, as the OpenAPI document declares them."""
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)
    operation = spec["paths"].get(path, {}).get(method.lower(), {})
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = schema.get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return sorted(schema.get("properties", {}))


def _caller_for(rule):
    if rule.startswith("/api/v1/me"):
        return "patient_a"
    return "anonymous" if rule.startswith("/api/v1/auth/") else "admin"


def test_random_bodies_never_cause_a_server_error(app, client, world):
    rng = random.Random(FUZZ_SEED)
    spec = client.get("/api/openapi.json").json
    routes = [r.split(" ", 1) for r in api_routes(app) if r.split(" ")[0] in ("POST", "PATCH")]
    failures = []
    for method, rule in routes:
        path = fill_path(rule, {"patient_id": world.ids["patient_a"]})
        headers = world.headers[_caller_for(rule)]
        fields = body_fields(spec, method, rule)
        for _ in range(FUZZ_BODIES_PER_ROUTE):
            body = random_body(rng, fields)
            response = client.open(
                path, method=method, data=json.dumps(body), content_type="application/json",
                headers=headers,
            )
            if response.status_code >= 500:
                failures.append((method, path, body, response.status_code))
    assert failures == []



def test_text_as_sent_is_held_to_its_documented_pattern_and_maximum(client, world):
    # The document's maxLength counts the string as sent, and its pattern refuses controls
    # anywhere, so neither a trailing space nor a leading carriage return slips through.
    for display_name in ("x" * 200 + " ", "\rDana", "   "):
        response = client.post(PATIENTS, json=new_patient(display_name=display_name),
                               headers=world.headers["admin"])
        assert "display_name" in field_errors(response), repr(display_name)
    response = client.post(PATIENTS, json=new_patient(display_name=" Dana "),
                           headers=world.headers["admin"])
    assert response.status_code == 201 and response.json["display_name"] == "Dana"
