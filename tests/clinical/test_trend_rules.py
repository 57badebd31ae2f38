"""Per-patient trend rules, checked against values computed by hand."""
import math
from datetime import date, datetime, timedelta, timezone

import pytest

from server.clinical.trends import (
    Measure,
    Reading,
    TreatmentFacts,
    find_measure,
    follow_up_values,
    patient_trends,
)

UTC = timezone.utc
TREATED = date(2024, 3, 1)
# sqrt(2) x SEM: NRS 1.02 (Childs 2005), ODI 6 (Davidson & Keating 2002).
NRS_S_DIFF = math.sqrt(2) * 1.02
ODI_S_DIFF = math.sqrt(2) * 6


def on_day(days, hour=12, anchor=TREATED):
    """Noon UTC, `days` after the anchor date (the same local day in UTC)."""
    return datetime.combine(anchor + timedelta(days=days), datetime.min.time(), UTC).replace(
        hour=hour
    )


def nrs(days, back, leg=None, **fields):
    return Reading("nrs_pain", on_day(days), back, {} if leg is None else {"leg": leg}, **fields)


def odi(days, percent, **fields):
    return Reading("odi", on_day(days), percent, {}, **fields)


def one_treatment(readings, treatment=None, timezone_name="UTC"):
    treatment = treatment or TreatmentFacts(1, "cell_therapy", TREATED, "spine-standard")
    (result,) = patient_trends([treatment], readings, timezone_name)
    return {(m.measure.instrument, m.measure.score_name): m for m in result.measures}


def at_noon(year, month, day, back):
    return Reading("nrs_pain", datetime(year, month, day, 12, tzinfo=UTC), back, {})


def series(trend):
    return [(point.days, point.value) for point in trend.series]


def test_baseline_of_zero_gives_no_percent_and_no_pain_band():
    trend = one_treatment([nrs(-2, 0), nrs(42, 3)])[("nrs_pain", "back_pain")]
    assert trend.change == 3
    assert trend.pct_change is None
    assert trend.immpact_band is None
    assert trend.status == "worsened"
    # RC = 3 / 1.4425 = 2.080 > 1.96
    assert trend.rci == pytest.approx(2.0797, abs=1e-4)
    assert trend.reliable_change is True


def test_single_follow_up_gives_change_but_no_slope():
    trend = one_treatment([nrs(-2, 8), nrs(42, 4)])[("nrs_pain", "back_pain")]
    assert trend.baseline == (on_day(-2), -2, 8)
    assert trend.latest == (on_day(42), 42, 4)
    assert trend.change == -4
    assert trend.pct_change == -50
    assert trend.status == "improved"
    assert trend.immpact_band == "substantial"
    assert trend.rci == pytest.approx(-4 / NRS_S_DIFF)
    assert trend.reliable_change is True
    assert trend.n_points == 1
    assert trend.slope_per_30d is None and trend.slope_se is None
    assert trend.timepoints["6w"].value == 4
    assert trend.timepoints["baseline"].value == 8
    assert trend.timepoints["3m"] is None


def test_discordant_change_passing_only_the_relative_rule_is_improved_but_not_reliable():
    # NRS 3 -> 2: 1 point is under the MIC of 2, but 33% of baseline (Ostelo 2008, OR rule).
    trend = one_treatment([nrs(0, 3), nrs(91, 2)])[("nrs_pain", "back_pain")]
    assert trend.change == -1
    assert trend.pct_change == pytest.approx(-100 / 3)
    assert trend.status == "improved"
    assert trend.immpact_band == "moderate"
    assert trend.rci == pytest.approx(-0.6933, abs=1e-4)
    assert trend.reliable_change is False


def test_change_past_the_mic_but_inside_measurement_error():
    # ODI 40 -> 28: 12 points >= MIC 10, RC = -12 / 8.485 = -1.414 inside 1.96.
    trend = one_treatment([odi(-10, 40), odi(182, 28)])[("odi", "odi_percent")]
    assert trend.status == "improved"
    assert trend.rci == pytest.approx(-12 / ODI_S_DIFF)
    assert trend.rci == pytest.approx(-1.4142, abs=1e-4)
    assert trend.reliable_change is False
    assert trend.immpact_band is None


def test_two_treatments_in_a_row_split_the_values_between_them():
    first = TreatmentFacts(1, "physical_therapy", date(2024, 1, 1), "spine-standard")
    second = TreatmentFacts(2, "cell_therapy", date(2024, 4, 1), "spine-standard")
    readings = [
        at_noon(2023, 12, 27, 7),  # the first one's baseline
        at_noon(2024, 1, 15, 6),  # first, day 14
        at_noon(2024, 3, 1, 5),  # first, day 60: one day before the second's baseline window
        at_noon(2024, 3, 20, 6),  # in the second's window: its baseline, not the first's follow-up
        at_noon(2024, 5, 1, 3),  # second, day 30
    ]
    first_trend, second_trend = (
        result.measures[0] for result in patient_trends([second, first], readings, "UTC")
    )
    assert first_trend.baseline.value == 7
    assert series(first_trend) == [(-5, 7), (14, 6), (60, 5)]
    assert (first_trend.latest.value, first_trend.latest.days) == (5, 60)
    assert first_trend.change == -2 and first_trend.status == "improved"
    assert (second_trend.baseline.value, second_trend.baseline.days) == (6, -12)
    assert (second_trend.latest.value, second_trend.latest.days) == (3, 30)
    assert second_trend.change == -3 and second_trend.pct_change == -50
    assert second_trend.n_points == 1


def test_the_next_treatments_baseline_window_ends_the_follow_up_on_its_first_day():
    first = TreatmentFacts(1, "physical_therapy", date(2024, 1, 1))
    second = TreatmentFacts(2, "cell_therapy", date(2024, 4, 1))
    readings = [at_noon(2023, 12, 31, 8), at_noon(2024, 3, 1, 6), at_noon(2024, 3, 2, 5)]
    first_trends, second_trends = patient_trends([first, second], readings, "UTC")
    assert series(first_trends.measures[0]) == [(-1, 8), (60, 6)]
    assert series(second_trends.measures[0]) == [(-30, 5)]


def test_three_treatments_each_end_the_follow_up_of_the_one_before():
    treatments = [
        TreatmentFacts(1, "physical_therapy", date(2024, 1, 1)),
        TreatmentFacts(2, "epidural_steroid", date(2024, 4, 1)),
        TreatmentFacts(3, "surgery", date(2024, 7, 1)),
    ]
    readings = [
        at_noon(2023, 12, 31, 8), at_noon(2024, 2, 1, 7),
        at_noon(2024, 3, 31, 7), at_noon(2024, 5, 1, 5),
        at_noon(2024, 6, 30, 6), at_noon(2024, 8, 1, 2),
    ]
    results = patient_trends(treatments, readings, "UTC")
    assert [result.treatment for result in results] == treatments
    assert [series(result.measures[0]) for result in results] == [
        [(-1, 8), (31, 7)], [(-1, 7), (30, 5)], [(-1, 6), (31, 2)],
    ]


def test_a_back_entered_treatment_takes_its_place_by_date_not_by_id():
    recorded_first = TreatmentFacts(1, "surgery", date(2024, 4, 1))
    entered_later = TreatmentFacts(2, "physical_therapy", date(2024, 1, 1))
    readings = [at_noon(2023, 12, 31, 8), at_noon(2024, 2, 1, 7), at_noon(2024, 5, 1, 3)]
    earlier, later = patient_trends([recorded_first, entered_later], readings, "UTC")
    assert (earlier.treatment, later.treatment) == (entered_later, recorded_first)
    assert series(earlier.measures[0]) == [(-1, 8), (31, 7)]
    assert series(later.measures[0]) == [(30, 3)]


def test_follow_up_without_a_baseline_has_no_change():
    trend = one_treatment([nrs(14, 6), nrs(42, 4)])[("nrs_pain", "back_pain")]
    assert trend.baseline is None and trend.timepoints["baseline"] is None
    assert trend.latest == (on_day(42), 42, 4)
    assert (trend.change, trend.status, trend.rci, trend.immpact_band) == (None, None, None, None)


def test_readings_at_the_same_instant_keep_their_given_order():
    trend = one_treatment([nrs(-1, 8), nrs(42, 6), nrs(42, 5)])[("nrs_pain", "back_pain")]
    assert trend.latest.value == 5


def test_treatment_followed_within_thirty_days_has_no_follow_up_of_its_own():
    first = TreatmentFacts(1, "epidural_steroid", date(2024, 3, 1))
    second = TreatmentFacts(2, "surgery", date(2024, 3, 20))
    readings = [nrs(-1, 8), nrs(10, 7), nrs(40, 2)]
    first_trends, second_trends = patient_trends([first, second], readings, "UTC")
    assert first_trends.measures[0].latest is None
    assert first_trends.measures[0].change is None
    assert second_trends.measures[0].baseline.value == 7
    assert second_trends.measures[0].latest.value == 2


def test_unscorable_odi_is_left_out():
    readings = [
        odi(-20, 50),
        odi(-3, None, scorable=False),
        odi(42, 30),
        odi(91, None, scorable=False),
    ]
    trend = one_treatment(readings)[("odi", "odi_percent")]
    assert (trend.baseline.value, trend.baseline.days) == (50, -20)
    assert (trend.latest.value, trend.latest.days) == (30, 42)
    assert trend.timepoints["3m"] is None
    assert len(trend.series) == 2
    assert trend.change == -20


def test_voided_checkin_is_left_out():
    readings = [nrs(-1, 7), nrs(42, 5), nrs(91, 1, voided=True)]
    trend = one_treatment(readings)[("nrs_pain", "back_pain")]
    assert trend.latest.value == 5
    assert trend.timepoints["3m"] is None
    assert trend.change == -2


def test_slope_and_its_standard_error_over_three_follow_ups():
    # Days 30, 60, 90 with 6, 4, 5: slope -1/60 per day = -0.5 per 30 days;
    # residuals 0.5, -1, 0.5, SSE 1.5, SE = sqrt(1.5 / 1 / 1800) x 30 = 0.866.
    readings = [nrs(-1, 7), nrs(30, 6), nrs(60, 4), nrs(90, 5)]
    trend = one_treatment(readings)[("nrs_pain", "back_pain")]
    assert trend.n_points == 3
    assert trend.slope_per_30d == pytest.approx(-0.5)
    assert trend.slope_se == pytest.approx(math.sqrt(1.5 / 1800) * 30)


def test_baseline_window_reaches_thirty_days_back_and_no_further():
    assert one_treatment([nrs(-31, 9)]) == {}
    trend = one_treatment([nrs(-31, 9), nrs(-30, 6), nrs(42, 3)])[("nrs_pain", "back_pain")]
    assert trend.baseline.value == 6


def test_baseline_is_the_latest_value_up_to_the_treatment_day():
    trend = one_treatment([nrs(-10, 9), nrs(0, 6), nrs(-5, 8)])[("nrs_pain", "back_pain")]
    assert (trend.baseline.value, trend.baseline.days) == (6, 0)
    assert trend.latest is None and trend.n_points == 0


@pytest.mark.parametrize("day, counts", [(76, False), (77, True), (105, True), (106, False)])
def test_a_time_points_window_includes_its_first_and_last_day(day, counts):
    # 3m: day 91, window 77-105.
    point = one_treatment([nrs(0, 8), nrs(day, 5)])[("nrs_pain", "back_pain")].timepoints["3m"]
    assert (point is not None) is counts


def test_time_point_takes_the_value_closest_to_its_day_and_the_later_one_on_a_tie():
    # 3m: day 91, window 77-105.
    closer = one_treatment([nrs(0, 8), nrs(80, 6), nrs(100, 4)])[("nrs_pain", "back_pain")]
    assert closer.timepoints["3m"].value == 4
    tie = one_treatment([nrs(0, 8), nrs(86, 6), nrs(96, 5)])[("nrs_pain", "back_pain")]
    assert tie.timepoints["3m"].value == 5


def test_days_count_in_the_patients_local_time():
    # 23:30 UTC on the treatment day is already the next day in Berlin: a follow-up, not a baseline.
    late = Reading("nrs_pain", datetime(2024, 3, 1, 23, 30, tzinfo=UTC), 5, {})
    trend = one_treatment([nrs(-1, 8), late], timezone_name="Europe/Berlin")[
        ("nrs_pain", "back_pain")
    ]
    assert (trend.latest.value, trend.latest.days) == (5, 1)
    in_utc = one_treatment([nrs(-1, 8), late])[("nrs_pain", "back_pain")]
    assert (in_utc.baseline.value, in_utc.latest) == (5, None)


def test_leg_pain_is_its_own_measure():
    trends = one_treatment([nrs(-1, 8, leg=6), nrs(42, 7, leg=2)])
    leg = trends[("nrs_pain", "leg")]
    assert (leg.baseline.value, leg.latest.value, leg.change) == (6, 2, -4)
    assert leg.status == "improved" and leg.immpact_band == "substantial"
    assert trends[("nrs_pain", "back_pain")].status == "unchanged"


def test_higher_is_better_measure_improves_upwards():
    psfs = [Reading("psfs", on_day(-1), 3, {}), Reading("psfs", on_day(42), 6, {})]
    trend = one_treatment(psfs)[("psfs", "psfs_mean")]
    assert trend.change == 3 and trend.status == "improved"
    assert trend.rci is None and trend.reliable_change is None
    assert trend.immpact_band is None


def test_vas_pain_has_a_mic_and_pain_bands_but_no_sem():
    vas = [Reading("vas_pain", on_day(-3), 70, {}), Reading("vas_pain", on_day(91), 42, {})]
    trend = one_treatment(vas)[("vas_pain", "pain")]
    assert (trend.change, trend.pct_change) == (-28, -40)
    assert (trend.status, trend.immpact_band) == ("improved", "moderate")
    assert trend.rci is None and trend.reliable_change is None
    assert trend.timepoints["3m"].value == 42


def test_rmdq_change_is_judged_by_its_mic_and_has_no_pain_band():
    rmdq = [Reading("rmdq", on_day(-3), 14, {}), Reading("rmdq", on_day(91), 10, {})]
    trend = one_treatment(rmdq)[("rmdq", "rmdq_score")]
    assert (trend.change, trend.status, trend.immpact_band) == (-4, "unchanged", None)


def test_pgic_is_not_a_measure():
    assert one_treatment([Reading("pgic", on_day(42), 2, {})]) == {}
    assert find_measure("pgic") is None


def test_treatment_without_protocol_uses_the_spine_standard_time_points():
    treatment = TreatmentFacts(1, "prp", TREATED, None)
    trend = one_treatment([nrs(0, 8), nrs(182, 4)], treatment)[("nrs_pain", "back_pain")]
    assert set(trend.timepoints) == {"baseline", "2w", "6w", "3m", "6m", "12m", "24m"}
    assert trend.timepoints["6m"].value == 4


def test_pain_diary_time_points_are_weekly():
    treatment = TreatmentFacts(1, "prp", TREATED, "pain-diary")
    readings = [nrs(0, 8), nrs(10, 6), nrs(11, 5), nrs(84, 2)]
    trend = one_treatment(readings, treatment)[("nrs_pain", "back_pain")]
    assert list(trend.timepoints) == [f"w{week}" for week in range(1, 13)]
    assert (trend.timepoints["w1"].days, trend.timepoints["w2"].days) == (10, 11)
    assert trend.timepoints["w12"].value == 2
    assert trend.timepoints["w3"] is None


def test_a_protocol_no_longer_known_reads_as_spine_standard():
    treatment = TreatmentFacts(1, "prp", TREATED, "retired-protocol")
    trend = one_treatment([nrs(0, 8), nrs(182, 4)], treatment)[("nrs_pain", "back_pain")]
    assert trend.timepoints["6m"].value == 4


def test_find_measure_names_primary_scores_and_leg_pain():
    assert find_measure("nrs_pain") == Measure("nrs_pain")
    assert find_measure("nrs_pain", "leg") == Measure("nrs_pain", "leg")
    assert find_measure("odi", "leg") is None


def pgic(days, score, hour=12, **fields):
    return Reading("pgic", on_day(days, hour), score, {}, **fields)


def test_follow_up_values_are_read_at_every_follow_up_time_point_and_latest():
    treatment = TreatmentFacts(1, "prp", TREATED, "spine-standard")
    (values,) = follow_up_values([pgic(42, 3), pgic(91, 2)], [treatment], "UTC").values()
    assert values == {
        "2w": None, "6w": 3, "3m": 2, "6m": None, "12m": None, "24m": None, "latest": 2,
    }


def test_follow_up_values_leave_out_voided_check_ins_and_count_days_locally():
    treatment = TreatmentFacts(1, "prp", TREATED, "spine-standard")
    # 23:30 UTC on day 76 is day 77 in Berlin, the first day of the 3-month window.
    readings = [pgic(76, 4, hour=23), pgic(91, 1, voided=True)]
    (values,) = follow_up_values(readings, [treatment], "Europe/Berlin").values()
    assert (values["3m"], values["latest"]) == (4, 4)
    (in_utc,) = follow_up_values(readings, [treatment], "UTC").values()
    assert (in_utc["3m"], in_utc["latest"]) == (None, 4)


def test_follow_up_values_without_a_follow_up_are_none_and_same_instants_keep_their_order():
    first = TreatmentFacts(1, "prp", TREATED, "spine-standard")
    later = TreatmentFacts(2, "surgery", date(2024, 6, 1), "spine-standard")
    values = follow_up_values([pgic(14, 5), pgic(14, 3)], [first, later], "UTC")
    assert values[1]["2w"] == 3
    assert values[2]["latest"] is None
