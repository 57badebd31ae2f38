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


def test_relative_only_improvement_counts_under_or_not_under_and():
    # NRS 3 -> 2: change 1 is below the MIC of 2, but 33% of baseline.
    assert change_status(NRS, 3, 2) == "improved"
    assert change_status(NRS, 3, 2, rule="and") == "unchanged"


def test_change_past_both_thresholds_is_improved_under_and():
    assert change_status(NRS, 8, 5, rule="and") == "improved"


def test_thirty_percent_exactly_is_improved():
    assert change_status(ODI, 10, 7) == "improved"


def test_past_mic_but_inside_measurement_error():
    # ODI 40 -> 28: 12 points >= MIC 10; RC = -12 / (sqrt(2) x 6) = -1.414.
    assert change_status(ODI, 40, 28) == "improved"
    rci = reliable_change_index(ODI, 40, 28)
    assert rci == pytest.approx(-1.4142, abs=1e-4)
    assert is_reliable_change(rci) is False


def test_reliable_change_beyond_measurement_error():
    assert is_reliable_change(reliable_change_index(ODI, 50, 30)) is True


def test_no_sem_means_no_reliable_change_index():
    assert reliable_change_index(get_instrument("rmdq"), 12, 4) is None
    assert is_reliable_change(None) is None


def test_worsened_and_unchanged():
    assert change_status(ODI, 30, 40) == "worsened"
    assert change_status(ODI, 30, 39) == "unchanged"
    assert change_status(NRS, 0, 1) == "unchanged"


def test_psfs_higher_is_better_and_has_no_relative_rule():
    assert change_status(PSFS, 4, 6) == "improved"
    assert change_status(PSFS, 6, 4) == "worsened"
    # +1.5 is 37.5% of baseline but PSFS has no relative rule.
    assert change_status(PSFS, 4, 5.5) == "unchanged"


def test_pgic_has_no_change_status():
    assert change_status(get_instrument("pgic"), 4, 1) is None


def test_unknown_mic_rule_is_rejected():
    with pytest.raises(ValueError):
        change_status(NRS, 5, 3, rule="xor")


def test_s_diff_for_the_reference_sems():
    assert s_diff(6) == pytest.approx(8.485, abs=1e-3)
    assert s_diff(1.02) == pytest.approx(1.4425, abs=1e-4)


def test_pct_change_and_baseline_zero():
    assert pct_change(8, 4) == -50.0
    assert pct_change(4, 5) == 25.0
    assert pct_change(0, 3) is None


@pytest.mark.parametrize(
    "baseline, followup, band",
    [(10, 5, "substantial"), (10, 6, "moderate"), (10, 7, "moderate"), (10, 8, "minimal"),
     (10, 9, "minimal"), (10, 9.5, "none"), (5, 7, "none"), (0, 0, None)],
)
def test_immpact_pain_band(baseline, followup, band):
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


def test_summarize_one_and_none():
    assert summarize([7]) == {
        "mean": 7, "sd": None, "median": 7, "q1": 7, "q3": 7, "min": 7, "max": 7,
    }
    assert summarize([]) == dict.fromkeys(("mean", "sd", "median", "q1", "q3", "min", "max"))
