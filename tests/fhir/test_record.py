"""A patient's record as FHIR R4 resources, from plain rows: no database."""
import re
import uuid
from datetime import date, datetime, timezone
from types import SimpleNamespace

from server.clinical.instruments import INSTRUMENTS
from server.fhir.capability import operation_outcome
from server.fhir.record import (
    Records,
    adverse_event,
    observations,
    patient,
    procedure,
    questionnaire_response,
    resources_of,
)
from server.fhir.vocabulary import (
    ADVERSE_EVENT_SERIOUSNESS,
    ADVERSE_EVENT_SEVERITY,
    SCORE_CODINGS,
    UCUM,
    ExportContext,
    observation_id,
)
from tests.builders import validate_fhir

CONTEXT = ExportContext("https://fhir.clinic.test/bt", "urn:oid:1.2.3.4", include_names=False)
NAMED = ExportContext("https://fhir.clinic.test/bt", "urn:oid:1.2.3.4", include_names=True)
AT = datetime(2024, 5, 1, 7, 30, tzinfo=timezone.utc)
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def patient_row(**fields):
    values = dict(id=7, external_id="P-7", display_name="Jo Example", birth_year=1971, sex="female")
    return SimpleNamespace(**{**values, **fields})


def checkin_row(**fields):
    values = dict(
        id=uuid.UUID(int=1),
        patient_id=7,
        instrument="nrs_pain",
        instrument_version="1.0",
        answers={"back": 6, "leg": 3},
        completed_at=AT,
        received_at=AT,
        score=6.0,
        subscores={"leg": 3.0},
        band=None,
        voided_at=None,
    )
    return SimpleNamespace(**{**values, **fields})


def treatment_row(**fields):
    values = dict(
        id=11,
        patient_id=7,
        kind="cell_therapy",
        performed_on=date(2024, 3, 1),
        cell_source="bone_marrow",
        target_levels=["L4-L5", "L5-S1"],
        notes="Dr. Example, left side",
    )
    return SimpleNamespace(**{**values, **fields})


def event_row(**fields):
    values = dict(
        id=uuid.UUID(int=2),
        patient_id=7,
        treatment_id=11,
        onset_on=date(2024, 3, 3),
        description="Fever",
        severity="life_threatening",
        received_at=AT,
    )
    return SimpleNamespace(**{**values, **fields})


def test_every_score_and_subscore_has_a_ucum_unit_and_a_name():
    expected = {
        (code, name)
        for code, instrument in INSTRUMENTS.items()
        for name in (instrument.score_name, *instrument.subscore_names)
    }
    assert set(SCORE_CODINGS) == expected


def test_patient_is_pseudonymous_unless_names_are_on():
    anonymous = patient(CONTEXT, patient_row())
    validate_fhir(anonymous)
    assert anonymous == {
        "resourceType": "Patient",
        "id": "7",
        "identifier": [{"system": "urn:oid:1.2.3.4", "value": "P-7"}],
        "gender": "female",
        "birthDate": "1971",
    }
    assert patient(NAMED, patient_row())["name"] == [{"text": "Jo Example"}]
    bare = patient(CONTEXT, patient_row(sex=None, birth_year=None))
    assert "gender" not in bare and "birthDate" not in bare


def test_procedure_codes_the_kind_cell_source_and_levels_and_keeps_notes_with_names_only():
    resource = procedure(CONTEXT, treatment_row())
    validate_fhir(resource)
    assert resource["code"]["coding"][0]["code"] == "cell_therapy"
    assert resource["performedDateTime"] == "2024-03-01"
    by_url = {}
    for extension in resource["extension"]:
        by_url.setdefault(extension["url"].rsplit("/", 1)[1], []).append(
            extension["valueCoding"]["code"]
        )
    assert by_url == {"cell-source": ["bone_marrow"], "target-level": ["L4-L5", "L5-S1"]}
    assert [site["coding"][0]["code"] for site in resource["bodySite"]] == ["L4-L5", "L5-S1"]
    assert "note" not in resource
    assert procedure(NAMED, treatment_row())["note"] == [{"text": "Dr. Example, left side"}]
    plain = procedure(CONTEXT, treatment_row(kind="prp", cell_source=None, target_levels=[]))
    assert "extension" not in plain and "bodySite" not in plain


def test_life_threatening_is_severe_and_serious_and_suspects_the_treatment():
    resource = adverse_event(CONTEXT, event_row())
    validate_fhir(resource)
    assert resource["severity"]["coding"] == [
        {"system": ADVERSE_EVENT_SEVERITY, "code": "severe", "display": "Severe"}
    ]
    assert resource["seriousness"]["coding"] == [
        {"system": ADVERSE_EVENT_SERIOUSNESS, "code": "serious", "display": "Serious"}
    ]
    assert resource["suspectEntity"] == [{"instance": {"reference": "Procedure/11"}}]
    assert resource["actuality"] == "actual" and resource["event"] == {"text": "Fever"}
    for severity in ("mild", "moderate", "severe"):
        plain = adverse_event(CONTEXT, event_row(severity=severity, treatment_id=None))
        assert plain["severity"]["coding"][0]["code"] == severity
        assert "seriousness" not in plain and "suspectEntity" not in plain


def test_a_checkin_is_a_response_and_an_observation_per_score_and_subscore():
    row = checkin_row()
    response = questionnaire_response(CONTEXT, row)
    validate_fhir(response)
    assert response["questionnaire"] == "https://fhir.clinic.test/bt/Questionnaire/nrs-pain|1.0"
    assert (response["status"], response["authored"]) == ("completed", AT.isoformat())
    assert [item["linkId"] for item in response["item"]] == ["back", "leg"]
    back, leg = list(observations(CONTEXT, row))
    for resource in (back, leg):
        validate_fhir(resource)
        assert resource["status"] == "final"
        assert resource["category"][0]["coding"][0]["code"] == "survey"
        assert resource["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response['id']}"}]
        assert resource["valueQuantity"]["system"] == UCUM
    assert [c["system"] for c in back["code"]["coding"]] == [
        "http://loinc.org",
        "https://fhir.clinic.test/bt/CodeSystem/score",
    ]
    assert back["code"]["coding"][0]["code"] == "72514-3"
    assert [c["code"] for c in leg["code"]["coding"]] == ["nrs_pain.leg"]
    assert (leg["valueQuantity"]["value"], leg["valueQuantity"]["code"]) == (3.0, "{score}")


def test_an_unscorable_checkin_has_a_response_but_no_observation():
    row = checkin_row(instrument="odi", answers={"walking": 2}, score=None, subscores={})
    assert list(observations(CONTEXT, row)) == []
    validate_fhir(questionnaire_response(CONTEXT, row))


def test_odi_observation_is_percent_with_its_band():
    row = checkin_row(
        instrument="odi", answers={}, score=35.55555555555556, subscores={}, band="moderate"
    )
    (resource,) = observations(CONTEXT, row)
    assert resource["valueQuantity"] == {
        "value": 35.55555555555556,
        "unit": "%",
        "system": UCUM,
        "code": "%",
    }
    assert resource["code"]["coding"][0] == {"system": "http://loinc.org", "code": "97909-6"}
    assert resource["interpretation"][0]["coding"][0]["code"] == "moderate"


def test_a_voided_checkin_is_entered_in_error_everywhere():
    row = checkin_row(voided_at=AT)
    assert questionnaire_response(CONTEXT, row)["status"] == "entered-in-error"
    assert {o["status"] for o in observations(CONTEXT, row)} == {"entered-in-error"}


def test_ids_are_fhir_ids_even_for_the_largest_patient_id_and_longest_score_name():
    longest = max((name for _, name in SCORE_CODINGS), key=len)
    assert FHIR_ID.match(observation_id(2**31 - 1, uuid.UUID(int=2**128 - 1), longest))


def test_records_come_out_type_by_type_and_only_the_wanted_types():
    records = Records([patient_row()], [treatment_row()], [checkin_row()], [event_row()])
    types = [r["resourceType"] for r in resources_of(CONTEXT, records)]
    assert types == [
        "Patient",
        "Procedure",
        "QuestionnaireResponse",
        "Observation",
        "Observation",
        "AdverseEvent",
    ]
    only = [r["resourceType"] for r in resources_of(CONTEXT, records, ["AdverseEvent", "Patient"])]
    assert only == ["Patient", "AdverseEvent"]


def test_operation_outcome_has_the_message_then_one_issue_per_field_error():
    outcome = operation_outcome(422, "Bad.", {"query": {"_type": ["Must be one of: Patient."]}})
    validate_fhir(outcome)
    assert outcome["issue"] == [
        {"severity": "error", "code": "invalid", "diagnostics": "Bad."},
        {
            "severity": "error",
            "code": "invalid",
            "diagnostics": "query._type: Must be one of: Patient.",
        },
    ]
    assert operation_outcome(404, "Gone.")["issue"][0]["code"] == "not-found"
    assert operation_outcome(500, "Oops.")["issue"][0]["code"] == "exception"
