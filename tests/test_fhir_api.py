"""The FHIR endpoints as HTTP: who may call them, OperationOutcome errors, auditing, the
OpenAPI document, the base-URL setting and the organization's names and pseudonym choices."""
import json

import pytest
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from server import create_app
from server.config import ConfigError
from server.extensions import db
from server.models import AuditEvent, Organization
from tests.builders import (
    TEST_SETTINGS,
    assert_error_shape,
    new_checkin,
    post_checkin,
    validate_fhir,
)

FHIR_JSON = "application/fhir+json"


def outcome_of(response, status):
    """The OperationOutcome an error answered, checked against its status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    body = json.loads(response.get_data())
    validate_fhir(body)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error" and body["issue"][0]["diagnostics"]
    return body


def audited(app, action):
    with app.app_context():
        return db.session.execute(
            select(AuditEvent.patient_id, AuditEvent.outcome, AuditEvent.actor_role)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()


def bundle_patient(client, world, caller="admin", patient="patient_a"):
    response = client.get(
        f"/api/v1/patients/{world.ids[patient]}/fhir", headers=world.headers[caller]
    )
    assert response.status_code == 200
    entries = json.loads(response.get_data())["entry"]
    return next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Patient")


def test_a_patient_of_another_organization_is_a_404_operation_outcome_like_a_missing_one(
    app, client, world
):
    other = client.get(
        f"/api/v1/patients/{world.ids['patient_c']}/fhir", headers=world.headers["admin"]
    )
    missing = client.get("/api/v1/patients/987654/fhir", headers=world.headers["admin"])
    assert outcome_of(other, 404) == outcome_of(missing, 404)
    assert outcome_of(other, 404)["issue"][0]["code"] == "not-found"
    assert (world.ids["patient_c"], "denied", "admin") in audited(app, "export.fhir_bundle")


def test_a_clinician_off_the_care_team_gets_the_same_404(client, world):
    response = client.get(
        f"/api/v1/patients/{world.ids['patient_a']}/fhir",
        headers=world.headers["clinician_off_team"],
    )
    outcome_of(response, 404)


def test_a_bundle_read_is_audited_for_its_patient(app, client, world):
    bundle_patient(client, world, caller="clinician_on_team")
    assert audited(app, "export.fhir_bundle") == [(world.ids["patient_a"], "success", "clinician")]


def test_a_clinician_cannot_bulk_export(client, world):
    for caller in ("clinician_on_team", "clinician_off_team"):
        outcome = outcome_of(client.get("/api/v1/exports/fhir", headers=world.headers[caller]), 403)
        assert outcome["issue"][0]["code"] == "forbidden"
    outcome_of(client.get("/api/v1/exports/fhir", headers=world.headers["patient_a"]), 403)


def test_a_bulk_export_is_audited_once_per_exported_patient(app, client, world):
    response = client.get("/api/v1/exports/fhir", headers=world.headers["admin"])
    assert response.status_code == 200
    response.get_data()
    exported = sorted(patient_id for patient_id, _, _ in audited(app, "export.fhir_bulk"))
    assert exported == sorted([world.ids["patient_a"], world.ids["patient_b"]])


@pytest.mark.parametrize(
    "query, field",
    [("?_type=Medication", "_type"), ("?type=Patient,", "type"), ("?_since=2024-01-01", "_since")],
)
def test_a_bad_bulk_query_is_a_422_operation_outcome_naming_the_parameter(
    client, world, query, field
):
    response = client.get(f"/api/v1/exports/fhir{query}", headers=world.headers["admin"])
    outcome = outcome_of(response, 422)
    assert any(field in issue["diagnostics"] for issue in outcome["issue"][1:])


def test_signing_in_is_a_401_operation_outcome_that_asks_for_a_bearer_token(client):
    for path in ("/api/v1/instruments/odi/fhir", "/api/v1/patients/1/fhir", "/api/v1/exports/fhir"):
        response = client.get(path)
        assert outcome_of(response, 401)["issue"][0]["code"] == "login"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_requests_that_match_no_fhir_route_answer_operation_outcomes_too(client, world):
    outcome_of(client.post("/api/v1/fhir/metadata"), 405)
    outcome_of(client.get("/api/v1/patients/0/fhir", headers=world.headers["admin"]), 404)
    outcome_of(client.get("/api/v1/fhir/Patient"), 404)


def test_errors_elsewhere_keep_the_one_json_shape(client, world):
    assert_error_shape(client.get("/api/v1/instruments/ndi", headers=world.headers["admin"]), 404)
    assert_error_shape(
        client.get(f"/api/v1/patients/{world.ids['patient_c']}", headers=world.headers["admin"]),
        404,
    )
    assert_error_shape(
        client.get("/api/v1/exports/outcomes.csv", headers=world.headers["patient_a"]), 403
    )


def test_an_instrument_is_a_questionnaire_for_anyone_signed_in_and_unknown_ones_404(client, world):
    response = client.get("/api/v1/instruments/odi/fhir", headers=world.headers["patient_a"])
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    questionnaire = json.loads(response.get_data())
    validate_fhir(questionnaire)
    assert questionnaire["url"] == "https://backtrack.example/fhir/Questionnaire/odi"
    unknown = client.get("/api/v1/instruments/ndi/fhir", headers=world.headers["patient_a"])
    outcome_of(unknown, 404)


def test_metadata_is_a_capability_statement_of_the_exported_types_without_sign_in(client):
    response = client.get("/api/v1/fhir/metadata")
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    statement = json.loads(response.get_data())
    validate_fhir(statement)
    assert statement["fhirVersion"] == "4.0.1" and statement["kind"] == "instance"
    assert {r["type"] for r in statement["rest"][0]["resource"]} == {
        "Patient",
        "Procedure",
        "QuestionnaireResponse",
        "Observation",
        "AdverseEvent",
        "Questionnaire",
    }


def test_openapi_documents_fhir_bodies_and_operation_outcome_errors(client):
    document = client.get("/api/openapi.json").json
    paths, shared = document["paths"], document["components"]["responses"]

    def error_content(responses, status):
        return shared[responses[status]["$ref"].rsplit("/", 1)[-1]]["content"]

    expected = {
        "/api/v1/fhir/metadata": "application/fhir+json",
        "/api/v1/instruments/{code}/fhir": "application/fhir+json",
        "/api/v1/patients/{patient_id}/fhir": "application/fhir+json",
        "/api/v1/exports/fhir": "application/fhir+ndjson",
    }
    outcome = {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}
    for path, content_type in expected.items():
        responses = paths[path]["get"]["responses"]
        assert list(responses["200"]["content"]) == [content_type], path
        errors = [status for status in responses if int(status) >= 400]
        assert "500" in errors and "default" not in responses, path
        for status in errors:
            assert error_content(responses, status) == {FHIR_JSON: outcome}, (path, status)
    assert error_content(paths["/api/v1/exports/fhir"]["get"]["responses"], "403") == {
        FHIR_JSON: outcome
    }
    assert error_content(paths["/api/v1/patients/{patient_id}"]["get"]["responses"], "404") == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
    }


def test_the_base_url_setting_places_canonical_urls_and_code_systems(app, client, world):
    app.config["FHIR_BASE_URL"] = "https://fhir.clinic.test/backtrack"
    assert post_checkin(client, world, new_checkin()).status_code == 201
    response = client.get(
        f"/api/v1/patients/{world.ids['patient_a']}/fhir", headers=world.headers["admin"]
    )
    bundle = json.loads(response.get_data())
    assert {e["fullUrl"].rsplit("/", 2)[0] for e in bundle["entry"]} == {
        app.config["FHIR_BASE_URL"]
    }
    questionnaire = next(
        e["resource"]["questionnaire"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    assert questionnaire == "https://fhir.clinic.test/backtrack/Questionnaire/nrs-pain|1.0"


def test_the_base_url_must_be_an_absolute_http_url_and_loses_its_trailing_slash():
    settings = {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    with pytest.raises(ConfigError, match="FHIR_BASE_URL"):
        create_app({**settings, "FHIR_BASE_URL": "backtrack.example/fhir"})
    app = create_app({**settings, "FHIR_BASE_URL": "https://fhir.clinic.test/"})
    assert app.config["FHIR_BASE_URL"] == "https://fhir.clinic.test"


def organization_fhir(app, world, *options):
    with app.app_context():
        name = db.session.get(Organization, world.ids["home"]).name
    return app.test_cli_runner().invoke(args=["organizations", "fhir", name, *options])


def test_the_organization_turns_names_on_and_names_its_pseudonym_system(app, client, world):
    default = bundle_patient(client, world)
    assert "name" not in default
    assert default["identifier"][0]["system"] == (
        f"https://backtrack.example/fhir/organizations/{world.ids['home']}/patients"
    )
    result = organization_fhir(app, world, "--names", "--pseudonym-system", "urn:oid:1.2.276.0.1")
    assert result.exit_code == 0, result.output
    assert "names on, pseudonym system urn:oid:1.2.276.0.1" in result.output
    named = bundle_patient(client, world)
    assert named["name"] == [{"text": f"Patient {named['identifier'][0]['value'][2:]}"}]
    assert named["identifier"][0]["system"] == "urn:oid:1.2.276.0.1"
    assert organization_fhir(app, world, "--no-names", "--pseudonym-system", "").exit_code == 0
    assert bundle_patient(client, world) == default


def test_the_organization_command_refuses_a_pseudonym_system_that_is_no_uri(app, world):
    for system in ("clinic ids", "ftp://x", "urn:" + "x" * 300):
        result = organization_fhir(app, world, "--pseudonym-system", system)
        assert result.exit_code != 0 and "URI" in result.output, system
    with app.app_context():
        assert db.session.get(Organization, world.ids["home"]).fhir_pseudonym_system is None
    unknown = app.test_cli_runner().invoke(args=["organizations", "fhir", "Nowhere Clinic"])
    assert unknown.exit_code != 0 and "no organization named" in unknown.output


def test_a_commit_that_fails_answers_a_500_operation_outcome(app, client, world, monkeypatch):
    def failing_commit():
        raise SQLAlchemyError("disk full")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    response = client.get(
        f"/api/v1/patients/{world.ids['patient_a']}/fhir", headers=world.headers["admin"]
    )
    assert outcome_of(response, 500)["issue"][0]["code"] == "exception"
