"""Tests of the instrument definitions and registry."""
from server.clinical.instruments import INSTRUMENTS, get_instrument
from server.clinical.scoring import SCORING_RULES


def test_registry_ships_exactly_the_six_instruments():
    assert set(INSTRUMENTS) == {"nrs_pain", "vas_pain", "odi", "rmdq", "psfs", "pgic"}


def test_get_instrument_returns_none_for_unknown_code():
    assert get_instrument("odi") is INSTRUMENTS["odi"]
    assert get_instrument("ndi") is None


def test_every_instrument_is_consistent():
    for instrument in INSTRUMENTS.values():
        keys = [item.key for item in instrument.items]
        assert len(keys) == len(set(keys)), instrument.code
        assert instrument.scoring in SCORING_RULES, instrument.code
        assert instrument.direction in ("lower", "higher"), instrument.code
        assert set(instrument.subscore_names) <= set(keys), instrument.code
        for item in instrument.items:
            assert item.type in ("integer", "number", "boolean", "string"), item.key
            if item.type in ("integer", "number"):
                assert item.min is not None and item.max is not None, item.key


def test_odi_has_ten_optional_sections_in_order_and_its_loinc_codes():
    odi = get_instrument("odi")
    assert [item.key for item in odi.items] == [
        "pain_intensity", "personal_care", "lifting", "walking", "sitting",
        "standing", "sleeping", "sex_life", "social_life", "travelling",
    ]
    assert all((item.min, item.max, item.required) == (0, 5, False) for item in odi.items)
    assert odi.item("pain_intensity").title == "Pain intensity"
    assert (odi.version, odi.loinc, odi.loinc_panel) == ("2.1a", "97909-6", "97908-8")


def test_rmdq_has_numbered_boolean_items_and_no_loinc():
    rmdq = get_instrument("rmdq")
    assert [item.key for item in rmdq.items] == [f"item_{n}" for n in range(1, 25)]
    assert rmdq.item("item_24").title == "Item 24"
    assert all(item.type == "boolean" and not item.required for item in rmdq.items)
    assert rmdq.loinc is None


def test_nrs_pain_back_required_leg_optional_subscore():
    nrs = get_instrument("nrs_pain")
    assert nrs.item("back").required and not nrs.item("leg").required
    assert nrs.subscore_names == ("leg",)
    assert nrs.loinc == "72514-3"


def test_psfs_rates_five_activities_the_first_required_names_are_short_strings():
    psfs = get_instrument("psfs")
    rated = [item.key for item in psfs.items if item.type == "integer"]
    assert rated == ["activity_1", "activity_2", "activity_3", "activity_4", "activity_5"]
    assert psfs.item("activity_1").required
    assert not any(psfs.item(f"activity_{n}").required for n in range(2, 6))
    name = psfs.item("activity_5_name")
    assert (name.type, name.max, name.required) == ("string", 100, False)
    assert psfs.direction == "higher"


def test_sem_only_where_the_reference_gives_one():
    assert {code for code, i in INSTRUMENTS.items() if i.sem is not None} == {"nrs_pain", "odi"}


def test_vas_and_pgic_definitions():
    vas, pgic = get_instrument("vas_pain"), get_instrument("pgic")
    pain = vas.item("pain")
    assert (pain.type, vas.loinc) == ("number", "38214-3")
    assert pgic.mic is None
    assert pgic.item("missing") is None
