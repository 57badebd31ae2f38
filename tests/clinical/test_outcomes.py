"""Tests of the change rules and summary statistics, with hand-computed values."""
import math

import pytest

from server.clinical.instruments import get_instrument
from server.clinical.outcomes import (
    change_status,
    immpact_pain_band,
    is_reliable_change,
    ls_slope,
    pct_change,
    reliable_change_index,
    response_sd,
    s_diff,
    summarize,
    wilson_interval,
)

ODI = get_instrument("odi")
NRS = get_instrument("nrs_pain")
PSFS = get_instrument("psfs")
VAS = get_instrument("vas_pain")
RMDQ = get_instrument("rmdq")


# Ostelo et al. 2008: MIC 2 on NRS, 15 on VAS, 10 on ODI, 5 on RMDQ; PSFS about 2 (higher is
# better). Each instrument's MIC is met exactly and missed by one point, improving and worsening;
# the improvements stay under the 30% relative rule, so only the MIC decides.
@pytest.mark.parametrize(
    "instrument, baseline, followup, status",
    [
        (NRS, 10, 8, "improved"), (NRS, 10, 9, "unchanged"),
        (NRS, 0, 2, "worsened"), (NRS, 0, 1, "unchanged"),
        (VAS, 100, 85, "improved"), (VAS, 100, 86, "unchanged"),
        (VAS, 20, 35, "worsened"), (VAS, 20, 34, "unchanged"),
        (ODI, 60, 50, "improved"), (ODI, 60, 51, "unchanged"),
        (ODI, 30, 40, "worsened"), (ODI, 30, 39, "unchanged"),
        (RMDQ, 20, 15, "improved"), (RMDQ, 20, 16, "unchanged"),
        (RMDQ, 10, 15, "worsened"), (RMDQ, 10, 14, "unchanged"),
        (PSFS, 4, 6, "improved"), (PSFS, 4, 5, "unchanged"),
        (PSFS, 6, 4, "worsened"), (PSFS, 6, 5, "unchanged"),
    ],
)
def test_each_instruments_mic_is_met_exactly_and_missed_by_one_point(
    instrument, baseline, followup, status
):
    assert change_status(instrument, baseline, followup) == status


# Ostelo et al. 2008: a 30% improvement from baseline counts, under the MIC too.
@pytest.mark.parametrize(
    "instrument, baseline, followup, status",
    [
        (VAS, 40, 28, "improved"), (VAS, 40, 28.2, "unchanged"),  # 12 and 11.8 mm, MIC 15
        (ODI, 20, 14, "improved"), (ODI, 20, 14.1, "unchanged"),  # 6 and 5.9 points, MIC 10
        (RMDQ, 10, 7, "improved"), (RMDQ, 10, 8, "unchanged"),  # 3 and 2 items, MIC 5
        (NRS, 3, 2, "improved"), (NRS, 1, 0, "improved"),  # 33% and 100%, under the MIC of 2
    ],
)
def test_thirty_percent_of_baseline_is_improved_and_just_under_it_is_not(
    instrument, baseline, followup, status
):
    assert change_status(instrument, baseline, followup) == status


def test_psfs_has_no_relative_rule():
    # +1.5 is 37.5% of baseline, under the MIC of 2.
    assert change_status(PSFS, 4, 5.5) == "unchanged"


def test_and_rule_needs_both_the_mic_and_thirty_percent():
    assert change_status(NRS, 8, 5, rule="and") == "improved"  # 3 points, 37.5%
    assert change_status(NRS, 10, 8, rule="and") == "unchanged"  # the MIC only
    assert change_status(NRS, 3, 2, rule="and") == "unchanged"  # 33% only
    assert change_status(NRS, 10, 8, rule="or") == "improved"


def test_without_a_baseline_above_zero_only_the_mic_counts():
    assert change_status(NRS, 0, 0) == "unchanged"
    assert change_status(NRS, 0, 1) == "unchanged"


def test_pgic_has_no_change_status():
    assert change_status(get_instrument("pgic"), 4, 1) is None


def test_unknown_mic_rule_is_rejected():
    with pytest.raises(ValueError, match="Unknown MIC rule: 'xor'"):
        change_status(NRS, 5, 3, rule="xor")


# Jacobson & Truax 1991: |RC| > 1.96. ODI (SEM 6): a reliable change of about 16.6 points;
# NRS (SEM 1.02): about 2.83 points.
@pytest.mark.parametrize(
    "instrument, baseline, followup, reliable",
    [
        (ODI, 50, 33.36, True), (ODI, 50, 33.4, False),  # RC -1.961 and -1.956
        (ODI, 20, 36.64, True), (ODI, 20, 36.6, False),  # worsening alike
        (NRS, 5, 2.17, True), (NRS, 5, 2.18, False),  # RC -1.962 and -1.955
        (NRS, 8, 5, True), (NRS, 8, 6, False),  # whole points: 3 is beyond the noise, 2 is not
    ],
)
def test_reliable_change_just_beyond_and_just_inside_measurement_error(
    instrument, baseline, followup, reliable
):
    assert is_reliable_change(reliable_change_index(instrument, baseline, followup)) is reliable


def test_reliable_change_index_is_the_change_over_s_diff():
    assert reliable_change_index(ODI, 40, 28) == pytest.approx(-12 / (math.sqrt(2) * 6))
    assert reliable_change_index(NRS, 3, 7) == pytest.approx(4 / (math.sqrt(2) * 1.02))


def test_an_index_of_exactly_1_96_is_not_beyond_measurement_error():
    assert is_reliable_change(1.96) is False
    assert is_reliable_change(-1.96) is False
    assert is_reliable_change(-1.961) is True


def test_past_mic_but_inside_measurement_error():
    # ODI 40 -> 28: 12 points >= MIC 10; RC = -12 / (sqrt(2) x 6) = -1.414.
    assert change_status(ODI, 40, 28) == "improved"
    assert is_reliable_change(reliable_change_index(ODI, 40, 28)) is False


def test_no_sem_means_no_reliable_change_index():
    assert reliable_change_index(RMDQ, 12, 4) is None
    assert reliable_change_index(VAS, 80, 20) is None
    assert is_reliable_change(None) is None


def test_s_diff_for_the_reference_sems():
    assert s_diff(6) == pytest.approx(8.485, abs=1e-3)
    assert s_diff(1.02) == pytest.approx(1.4425, abs=1e-4)


def test_pct_change_and_baseline_zero():
    assert pct_change(8, 4) == -50.0
    assert pct_change(4, 5) == 25.0
    assert pct_change(0, 3) is None


# Dworkin et al. 2008 (IMMPACT): >= 50% substantial, >= 30% moderate, >= 10% minimal; VAS values
# put each edge exactly and 0.5 mm short of it.
@pytest.mark.parametrize(
    "baseline, followup, band",
    [
        (100, 50, "substantial"), (100, 50.5, "moderate"),
        (100, 70, "moderate"), (100, 70.5, "minimal"),
        (100, 90, "minimal"), (100, 90.5, "none"),
        (10, 5, "substantial"), (10, 7, "moderate"), (10, 9, "minimal"), (10, 10, "none"),
        (5, 7, "none"), (0, 0, None),
    ],
)
def test_immpact_pain_band_edges(baseline, followup, band):
    assert immpact_pain_band(baseline, followup) == band


def test_ls_slope_with_residuals():
    # x mean 45, y mean 7; Sxy = -330, Sxx = 4500 -> -0.07333/day = -2.2 per 30 days.
    # Residuals -0.3, 0.9, -0.9, 0.3: SSE 1.8, s^2 = 0.9, SE = sqrt(0.9/4500) x 30 = 0.3 x sqrt(2).
    slope, se = ls_slope([(0, 10), (30, 9), (60, 5), (90, 4)])
    assert slope == pytest.approx(-2.2)
    assert se == pytest.approx(0.3 * math.sqrt(2))


def test_ls_slope_exact_line_has_zero_se():
    slope, se = ls_slope([(0, 10), (15, 9), (45, 7)])
    assert slope == pytest.approx(-2.0)
    assert se == pytest.approx(0.0, abs=1e-12)


def test_ls_slope_needs_three_points_and_spread_in_time():
    assert ls_slope([(0, 10), (30, 8)]) is None
    assert ls_slope([(30, 10), (30, 8), (30, 6)]) is None


def test_wilson_interval_known_value():
    value, low, high = wilson_interval(8, 10)
    assert value == 0.8
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (None, None, None)
    value, low, high = wilson_interval(0, 5)
    assert value == 0 and low == pytest.approx(0.0, abs=1e-12) and 0 < high < 1


def test_response_sd():
    assert response_sd(5, 3) == 4.0
    assert response_sd(2, 3) == 0.0
    assert response_sd(5, None) is None


def test_summarize_quartiles():
    summary = summarize([1, 2, 3, 4])
    assert summary == {
        "mean": 2.5, "sd": pytest.approx(1.2910, abs=1e-4), "median": 2.5,
        "q1": 1.75, "q3": 3.25, "min": 1, "max": 4,
    }


def test_summarize_two_values_has_a_sample_sd():
    assert summarize([1, 3])["sd"] == pytest.approx(math.sqrt(2))


def test_summarize_one_and_none():
    assert summarize([7]) == {
        "mean": 7, "sd": None, "median": 7, "q1": 7, "q3": 7, "min": 7, "max": 7,
    }
    assert summarize([]) == dict.fromkeys(("mean", "sd", "median", "q1", "q3", "min", "max"))
