"""Instruments as FHIR R4 Questionnaires: no database, no licensed text."""
import pytest

from server.clinical.instruments import INSTRUMENTS, get_instrument
from server.fhir.questionnaire import answer, questionnaire
from server.fhir.vocabulary import LOINC, MAX_VALUE, MIN_VALUE, ORDINAL_VALUE
from tests.builders import validate_fhir

BASE = "https://fhir.clinic.test/backtrack"


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_every_instrument_validates_as_a_questionnaire_with_its_canonical_url(code):
    instrument = get_instrument(code)
    resource = questionnaire(BASE, instrument)
    validate_fhir(resource)
    assert resource["url"] == f"{BASE}/Questionnaire/{code.replace('_', '-')}"
    assert resource["version"] == instrument.version
    assert resource["status"] == "active"
    assert [item["linkId"] for item in resource["item"]] == [item.key for item in instrument.items]
    assert [item["required"] for item in resource["item"]] == [i.required for i in instrument.items]


def test_questionnaires_carry_only_item_titles_never_statements():
    for instrument in INSTRUMENTS.values():
        resource = questionnaire(BASE, instrument)
        texts = [item["text"] for item in resource["item"]]
        assert texts == [item.title for item in instrument.items]
        options = [o for item in resource["item"] for o in item.get("answerOption", [])]
        assert all("display" not in option["valueCoding"] for option in options)


def test_odi_sections_are_choices_of_six_ordinal_options_under_the_panel_code():
    resource = questionnaire(BASE, get_instrument("odi"))
    assert resource["version"] == "2.1a"
    assert resource["code"] == [{"system": LOINC, "code": "97908-8"}]
    pain = resource["item"][0]
    assert (pain["linkId"], pain["text"], pain["type"], pain["required"]) == (
        "pain_intensity",
        "Pain intensity",
        "choice",
        False,
    )
    codings = [option["valueCoding"] for option in pain["answerOption"]]
    assert [coding["code"] for coding in codings] == ["0", "1", "2", "3", "4", "5"]
    assert [coding["extension"] for coding in codings][3] == [
        {"url": ORDINAL_VALUE, "valueDecimal": 3}
    ]
    assert {coding["system"] for coding in codings} == {f"{BASE}/CodeSystem/odi-answer"}


def test_item_types_follow_the_answers_they_take():
    types = {
        code: [item["type"] for item in questionnaire(BASE, instrument)["item"]]
        for code, instrument in INSTRUMENTS.items()
    }
    assert types["nrs_pain"] == ["choice", "choice"]
    assert types["vas_pain"] == ["decimal"]
    assert set(types["rmdq"]) == {"boolean"} and len(types["rmdq"]) == 24
    assert types["psfs"][:2] == ["choice", "string"]
    assert types["pgic"] == ["choice"]
    vas = questionnaire(BASE, get_instrument("vas_pain"))["item"][0]
    assert vas["extension"] == [
        {"url": MIN_VALUE, "valueDecimal": 0},
        {"url": MAX_VALUE, "valueDecimal": 100},
    ]
    psfs_name = questionnaire(BASE, get_instrument("psfs"))["item"][1]
    assert psfs_name["maxLength"] == 100
    nrs = questionnaire(BASE, get_instrument("nrs_pain"))["item"][0]
    assert [option["valueCoding"]["code"] for option in nrs["answerOption"]] == [
        str(n) for n in range(11)
    ]


def test_answers_take_the_type_of_their_item():
    odi, vas, rmdq, psfs = (get_instrument(c) for c in ("odi", "vas_pain", "rmdq", "psfs"))
    assert answer(BASE, odi, odi.items[0], 4.0)["valueCoding"]["code"] == "4"
    assert answer(BASE, vas, vas.items[0], 42.5) == {"valueDecimal": 42.5}
    assert answer(BASE, rmdq, rmdq.items[0], True) == {"valueBoolean": True}
    assert answer(BASE, psfs, psfs.items[1], "gardening") == {"valueString": "gardening"}
