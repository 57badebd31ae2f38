"""The FHIR export's content on check-ins, treatments and adverse events posted through the
API: scores, codes, voids, ids and the bulk export's types (the demo: test_fhir_demo.py)."""
import uuid
from collections import Counter

import pytest

from tests.builders import (
    add_treatment,
    assert_references_resolve,
    bundle_of,
    bulk_export,
    by_type,
    new_checkin,
    odi_answers,
    post_checkin,
)


def _observations_from(bundle, checkin_id):
    resources = [entry["resource"] for entry in bundle["entry"]]
    (response,) = [r for r in by_type(resources, "QuestionnaireResponse") if checkin_id in r["id"]]
    derived = {"reference": f"QuestionnaireResponse/{response['id']}"}
    return response, [r for r in by_type(resources, "Observation") if derived in r["derivedFrom"]]


def test_odi_observation_has_loinc_97909_6_and_exactly_the_score_the_checkin_api_returned(
    client, world
):
    body = new_checkin("odi", odi_answers([2, 2, 2, 2, 2, 2, 2, 1, 1], missing=1))
    posted = post_checkin(client, world, body)
    assert posted.status_code == 201
    listed = client.get(
        f"/api/v1/patients/{world.ids['patient_a']}/checkins",
        headers=world.headers["clinician_on_team"],
    ).json["items"][0]
    assert posted.json["score"] == listed["score"] == pytest.approx(100 * 16 / 45)
    bundle = bundle_of(client, world.ids["patient_a"], world.headers["clinician_on_team"])
    response, (observation,) = _observations_from(bundle, body["id"])
    assert observation["code"]["coding"][0] == {"system": "http://loinc.org", "code": "97909-6"}
    assert observation["valueQuantity"]["value"] == posted.json["score"]
    assert observation["valueQuantity"]["code"] == "%"
    assert observation["effectiveDateTime"] == posted.json["completed_at"]
    assert observation["subject"] == {"reference": f"Patient/{world.ids['patient_a']}"}
    assert response["questionnaire"].endswith("/Questionnaire/odi|2.1a")
    assert response["authored"] == posted.json["completed_at"]
    assert [item["linkId"] for item in response["item"]] == list(body["answers"])


def test_nrs_back_pain_has_loinc_72514_3_and_leg_pain_the_projects_own_code(client, world):
    body = new_checkin("nrs_pain", {"back": 6, "leg": 4})
    assert post_checkin(client, world, body).status_code == 201
    bundle = bundle_of(client, world.ids["patient_a"], world.headers["admin"])
    _, (back, leg) = _observations_from(bundle, body["id"])
    assert back["code"]["coding"][0] == {"system": "http://loinc.org", "code": "72514-3"}
    assert back["valueQuantity"]["value"] == 6
    assert [coding["code"] for coding in leg["code"]["coding"]] == ["nrs_pain.leg"]
    assert leg["valueQuantity"]["value"] == 4


def test_a_voided_checkin_exports_as_entered_in_error(client, world):
    kept, voided = new_checkin(), new_checkin(answers={"back": 9})
    for body in (kept, voided):
        assert post_checkin(client, world, body).status_code == 201
    void = client.post(
        f"/api/v1/me/checkins/{voided['id']}/void",
        json={"reason": "wrong patient"},
        headers=world.headers["patient_a"],
    )
    assert void.status_code == 200
    bundle = bundle_of(client, world.ids["patient_a"], world.headers["admin"])
    for body, status, observed in (
        (kept, "completed", "final"),
        (voided, "entered-in-error", "entered-in-error"),
    ):
        response, observations = _observations_from(bundle, body["id"])
        assert response["status"] == status
        assert {o["status"] for o in observations} == {observed}


def test_ids_do_not_collide_when_two_patients_used_the_same_checkin_uuid(client, world):
    body = new_checkin()
    for caller in ("patient_a", "patient_b"):
        assert post_checkin(client, world, body, caller=caller).status_code == 201
    resources = bulk_export(client, world.headers["admin"])
    responses = by_type(resources, "QuestionnaireResponse")
    assert len(responses) == 2 and len({r["id"] for r in responses}) == 2
    keys = [(r["resourceType"], r["id"]) for r in resources]
    assert len(keys) == len(set(keys))
    assert_references_resolve(resources)


def test_ids_are_stable_from_one_export_to_the_next(client, world):
    assert post_checkin(client, world, new_checkin("odi", odi_answers([1] * 10))).status_code == 201

    def ids():
        bundle = bundle_of(client, world.ids["patient_a"], world.headers["admin"])
        return [entry["fullUrl"] for entry in bundle["entry"]]

    first = ids()
    assert len(first) == 3 and first == ids()


def test_adverse_event_links_its_treatment_and_life_threatening_is_severe_and_serious(
    client, world
):
    treatment_id = add_treatment(client, world, world.ids["patient_a"], "2024-04-01")
    event = {
        "id": str(uuid.uuid4()),
        "onset_on": "2024-04-03",
        "description": "Fever, admitted",
        "severity": "life_threatening",
        "treatment_id": treatment_id,
    }
    reported = client.post(
        "/api/v1/me/adverse-events", json=event, headers=world.headers["patient_a"]
    )
    assert reported.status_code == 201
    bundle = bundle_of(client, world.ids["patient_a"], world.headers["admin"])
    resources = [entry["resource"] for entry in bundle["entry"]]
    (adverse,) = by_type(resources, "AdverseEvent")
    assert adverse["severity"]["coding"][0]["code"] == "severe"
    assert adverse["seriousness"]["coding"][0]["code"] == "serious"
    assert adverse["suspectEntity"] == [{"instance": {"reference": f"Procedure/{treatment_id}"}}]
    assert_references_resolve(resources)


def test_bulk_export_takes_type_or__type_and_gives_only_those(client, world):
    assert post_checkin(client, world, new_checkin()).status_code == 201
    headers = world.headers["admin"]
    types = {
        query: Counter(r["resourceType"] for r in bulk_export(client, headers, query))
        for query in ("?type=Observation,QuestionnaireResponse", "?_type=Patient", "")
    }
    assert types["?type=Observation,QuestionnaireResponse"] == {
        "QuestionnaireResponse": 1,
        "Observation": 2,
    }
    assert types["?_type=Patient"] == {"Patient": 2}
    assert types[""] == {"Patient": 2, "QuestionnaireResponse": 1, "Observation": 2}
    both = bulk_export(client, headers, "?type=Patient&_type=Observation&_outputFormat=ndjson")
    assert Counter(r["resourceType"] for r in both) == {"Patient": 2, "Observation": 2}


def test_bulk_export_covers_only_the_admins_organization(client, world):
    for caller in ("patient_a", "patient_b"):
        assert post_checkin(client, world, new_checkin(), caller=caller).status_code == 201
    patients = by_type(bulk_export(client, world.headers["admin"]), "Patient")
    assert {p["id"] for p in patients} == {str(world.ids["patient_a"]), str(world.ids["patient_b"])}
