"""Tests of answer validation and scoring, with hand-computed scores."""
import math

import pytest

from server.clinical.instruments import get_instrument
from server.clinical.scoring import Score, odi_band, score_answers, validate_answers

ODI = get_instrument("odi")
NRS = get_instrument("nrs_pain")
VAS = get_instrument("vas_pain")
PSFS = get_instrument("psfs")
RMDQ = get_instrument("rmdq")
PGIC = get_instrument("pgic")
SECTIONS = [item.key for item in ODI.items]
# Answers to the required items, so that a case can show the one error it is about.
REQUIRED = {
    "nrs_pain": {"back": 5}, "vas_pain": {"pain": 50}, "psfs": {"activity_1": 5}, "pgic": {"change": 4}
}
# clinical.md: each numeric item's lowest and highest valid answer.
RANGES = (
    [(NRS, "back", 0, 10), (NRS, "leg", 0, 10), (VAS, "pain", 0, 100), (PGIC, "change", 1, 7)]
    + [(ODI, key, 0, 5) for key in SECTIONS]
    + [(PSFS, f"activity_{n}", 0, 10) for n in range(1, 6)]
)


def odi_answers(points, missing=0):
    """The first len(points) sections answered with points, the last `missing` left out."""
    return dict(zip(SECTIONS[: len(SECTIONS) - missing], points))


def test_odi_16_of_50_is_32_percent():
    answers = odi_answers([2, 2, 2, 2, 2, 2, 1, 1, 1, 1])
    assert validate_answers(ODI, answers) == {}
    assert score_answers(ODI, answers) == Score(32.0, {}, True, "moderate")


def test_odi_16_points_with_one_section_missing_is_16_of_45_unrounded():
    answers = odi_answers([2, 2, 2, 2, 2, 2, 2, 1, 1], missing=1)
    result = score_answers(ODI, answers)
    assert result.score == pytest.approx(35.5555555, abs=1e-6)
    assert result.scorable and result.band == "moderate"


def test_odi_none_counts_as_missing():
    answers = {**odi_answers([2, 2, 2, 2, 2, 2, 2, 1, 1], missing=1), "travelling": None}
    assert validate_answers(ODI, answers) == {}
    assert score_answers(ODI, answers).score == pytest.approx(100 * 16 / 45)


def test_odi_two_missing_is_not_scorable_unless_the_setting_allows_it():
    answers = odi_answers([1] * 8, missing=2)
    assert score_answers(ODI, answers) == Score(None, {}, False, None)
    assert score_answers(ODI, answers, odi_max_missing=2).score == pytest.approx(20.0)


def test_odi_nothing_answered_is_not_scorable_at_any_setting():
    assert not score_answers(ODI, {}, odi_max_missing=10).scorable


@pytest.mark.parametrize(
    "percent, band",
    [(0, "minimal"), (20, "minimal"), (20.01, "moderate"), (40, "moderate"), (40.5, "severe"),
     (60, "severe"), (60.5, "crippled"), (80, "crippled"), (80.5, "bed_bound"), (100, "bed_bound")],
)
def test_odi_band_edges(percent, band):
    assert odi_band(percent) == band


def test_nrs_back_score_with_leg_subscore():
    assert score_answers(NRS, {"back": 7, "leg": 4}) == Score(7.0, {"leg": 4.0}, True, None)


def test_nrs_without_leg_has_no_subscore():
    assert score_answers(NRS, {"back": 3, "leg": None}) == Score(3.0, {}, True, None)


def test_vas_score_is_the_value():
    assert score_answers(VAS, {"pain": 42.5}).score == 42.5


def test_pgic_score_is_the_value():
    assert score_answers(PGIC, {"change": 2}) == Score(2.0, {}, True, None)


def test_rmdq_counts_ticked_items_only():
    answers = {"item_1": True, "item_5": True, "item_9": False, "item_24": True}
    assert validate_answers(RMDQ, answers) == {}
    assert score_answers(RMDQ, answers).score == 3.0
    assert score_answers(RMDQ, {}).score == 0.0


def test_psfs_mean_of_rated_activities_ignores_names():
    answers = {"activity_1": 3, "activity_1_name": "Gardening", "activity_2": 6, "activity_4": 8}
    assert validate_answers(PSFS, answers) == {}
    assert score_answers(PSFS, answers).score == pytest.approx(17 / 3)


def test_non_dict_answers():
    assert validate_answers(NRS, [7]) == {"_schema": ["Must be an object."]}
    assert validate_answers(NRS, None) == {"_schema": ["Must be an object."]}


def test_unknown_item():
    assert validate_answers(NRS, {"back": 5, "neck": 2}) == {"neck": ["Unknown item."]}


@pytest.mark.parametrize("answers", [{}, {"back": None}, {"leg": 4}])
def test_missing_required_item(answers):
    assert validate_answers(NRS, answers) == {"back": ["Missing required item."]}


def test_optional_item_may_be_none_or_absent():
    assert validate_answers(NRS, {"back": 5, "leg": None}) == {}
    assert validate_answers(NRS, {"back": 5}) == {}


# The required items are answered so that each case shows exactly one error.
@pytest.mark.parametrize(
    "instrument, answers, key, message",
    [
        (NRS, {"back": True}, "back", "Must be an integer."),
        (VAS, {"pain": False}, "pain", "Must be a number."),
        (NRS, {"back": "5"}, "back", "Must be an integer."),
        (VAS, {"pain": "50"}, "pain", "Must be a number."),
        (NRS, {"back": 5.5}, "back", "Must be an integer."),
        (NRS, {"back": math.nan}, "back", "Must be a finite number."),
        (VAS, {"pain": math.inf}, "pain", "Must be a finite number."),
        (RMDQ, {"item_3": 1}, "item_3", "Must be true or false."),
        (PSFS, {"activity_1": 5, "activity_1_name": 7}, "activity_1_name", "Must be a string."),
        (PSFS, {"activity_1": 5, "activity_2_name": "x" * 101}, "activity_2_name",
         "Must be at most 100 characters."),
    ],
)
def test_bad_values(instrument, answers, key, message):
    assert validate_answers(instrument, answers) == {key: [message]}


@pytest.mark.parametrize("instrument, key, lowest, highest", RANGES)
def test_lowest_and_highest_answers_are_valid(instrument, key, lowest, highest):
    for value in (lowest, highest):
        assert validate_answers(instrument, {**REQUIRED.get(instrument.code, {}), key: value}) == {}


@pytest.mark.parametrize("instrument, key, lowest, highest", RANGES)
def test_one_past_either_end_is_rejected(instrument, key, lowest, highest):
    step = 0.5 if instrument is VAS else 1
    for value in (lowest - step, highest + step):
        answers = {**REQUIRED.get(instrument.code, {}), key: value}
        assert validate_answers(instrument, answers) == {
            key: [f"Must be between {lowest} and {highest}."]
        }


def _extreme_answers(instrument, highest):
    """Every numeric item at its highest (or lowest) value, every box ticked (or not)."""
    return {
        item.key: (item.max if highest else item.min) if item.type != "boolean" else highest
        for item in instrument.items
        if item.type != "string"
    }


@pytest.mark.parametrize("instrument", [NRS, VAS, ODI, RMDQ, PSFS, PGIC], ids=lambda i: i.code)
def test_the_lowest_and_highest_answers_score_the_instruments_stated_range(instrument):
    lowest = score_answers(instrument, _extreme_answers(instrument, highest=False))
    highest = score_answers(instrument, _extreme_answers(instrument, highest=True))
    assert (lowest.score, highest.score) == (instrument.score_min, instrument.score_max)


def test_an_unanswered_single_item_instrument_is_not_scorable():
    assert score_answers(NRS, {"leg": 4}) == Score(None, {}, False, None)


def test_psfs_with_no_rated_activity_is_not_scorable():
    assert score_answers(PSFS, {"activity_1_name": "Gardening"}) == Score(None, {}, False, None)


def test_integral_float_is_accepted_for_an_integer_item():
    assert validate_answers(NRS, {"back": 3.0}) == {}
    assert score_answers(NRS, {"back": 3.0}).score == 3.0


def test_string_at_max_length_is_valid():
    assert validate_answers(PSFS, {"activity_1": 5, "activity_1_name": "x" * 100}) == {}
