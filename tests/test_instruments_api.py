"""The instrument definitions the app renders and validates forms with."""
import pytest

from server.clinical.instruments import ODI_SECTIONS
from tests.builders import assert_error_shape

INSTRUMENTS = "/api/v1/instruments"
CODES = ["nrs_pain", "vas_pain", "odi", "rmdq", "psfs", "pgic"]
ITEM_FIELDS = {"key", "title", "type", "min", "max", "required"}
# Section titles are short names; a licensed ODI statement is a sentence.
LONGEST_TITLE = 40


def get(client, world, path, caller="patient_a"):
    response = client.get(path, headers=world.headers[caller])
    assert response.status_code == 200, response.json
    return response.json


def test_list_has_every_instrument_the_reference_names(client, world):
    listed = get(client, world, INSTRUMENTS)
    assert sorted(instrument["code"] for instrument in listed) == sorted(CODES)


@pytest.mark.parametrize(
    "caller", ["patient_a", "clinician_on_team", "admin", "clinician_other_org"]
)
def test_any_signed_in_caller_may_read_definitions(client, world, caller):
    assert get(client, world, f"{INSTRUMENTS}/odi", caller=caller)["code"] == "odi"


def test_anonymous_caller_is_401(client):
    assert_error_shape(client.get(INSTRUMENTS), 401)
    assert_error_shape(client.get(f"{INSTRUMENTS}/odi"), 401)


def test_odi_items_are_the_ten_sections_in_order(client, world):
    odi = get(client, world, f"{INSTRUMENTS}/odi")
    assert [item["key"] for item in odi["items"]] == [key for key, _ in ODI_SECTIONS]
    assert all(
        (item["type"], item["min"], item["max"], item["required"]) == ("integer", 0, 5, False)
        for item in odi["items"]
    )
    assert (odi["version"], odi["direction"], odi["mic"], odi["sem"]) == ("2.1a", "lower", 10, 6)
    assert odi["loinc"] == "97909-6"
    assert "Mapi" in odi["licence"]


@pytest.mark.parametrize("code", CODES)
def test_definition_carries_no_licensed_item_text(client, world, code):
    definition = get(client, world, f"{INSTRUMENTS}/{code}")
    for item in definition["items"]:
        assert set(item) <= ITEM_FIELDS
        assert len(item["title"]) <= LONGEST_TITLE
    assert not {"statements", "options", "text", "question", "answers"} & set(definition)


@pytest.mark.parametrize("code", CODES)
def test_detail_matches_the_list_entry(client, world, code):
    listed = {instrument["code"]: instrument for instrument in get(client, world, INSTRUMENTS)}
    assert get(client, world, f"{INSTRUMENTS}/{code}") == listed[code]


def test_nrs_pain_has_required_back_and_optional_leg(client, world):
    nrs = get(client, world, f"{INSTRUMENTS}/nrs_pain")
    assert [(i["key"], i["type"], i["min"], i["max"], i["required"]) for i in nrs["items"]] == [
        ("back", "integer", 0, 10, True),
        ("leg", "integer", 0, 10, False),
    ]
    assert (nrs["score_name"], nrs["subscore_names"], nrs["loinc"]) == (
        "back_pain",
        ["leg"],
        "72514-3",
    )


def test_rmdq_has_24_boolean_items_named_by_number(client, world):
    rmdq = get(client, world, f"{INSTRUMENTS}/rmdq")
    assert [item["key"] for item in rmdq["items"]] == [f"item_{n}" for n in range(1, 25)]
    assert {item["type"] for item in rmdq["items"]} == {"boolean"}
    assert (rmdq["score_min"], rmdq["score_max"], rmdq["mic"]) == (0, 24, 5)


def test_psfs_is_better_when_higher(client, world):
    psfs = get(client, world, f"{INSTRUMENTS}/psfs")
    assert psfs["direction"] == "higher"
    assert [item["key"] for item in psfs["items"] if item["required"]] == ["activity_1"]


@pytest.mark.parametrize(
    "code, items",
    [("vas_pain", [("pain", "number", 0, 100)]), ("pgic", [("change", "integer", 1, 7)])],
)
def test_single_item_instruments_have_their_range(client, world, code, items):
    definition = get(client, world, f"{INSTRUMENTS}/{code}")
    assert [(i["key"], i["type"], i["min"], i["max"]) for i in definition["items"]] == items


@pytest.mark.parametrize("code", ["eq5d", "ODI", "x" * 32])
def test_unknown_instrument_is_404(client, world, code):
    response = client.get(f"{INSTRUMENTS}/{code}", headers=world.headers["patient_a"])
    assert_error_shape(response, 404)
