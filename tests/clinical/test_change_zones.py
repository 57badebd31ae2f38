"""The zones a patient's chart shades around the baseline: no important change, measurement error."""
import math

import pytest

from server.clinical.trends import change_zones, find_measure


def test_odi_zones_are_the_mic_and_1_96_s_diff_around_the_baseline():
    zones = change_zones(find_measure("odi"), 40.0)
    assert zones["no_important_change"] == (30.0, 50.0)  # MIC 10 points (clinical.md)
    half = 1.96 * math.sqrt(2) * 6  # SEM 6 (Davidson & Keating 2002)
    assert zones["measurement_error"] == pytest.approx((40.0 - half, 40.0 + half))


def test_nrs_leg_pain_uses_the_nrs_mic_and_sem():
    zones = change_zones(find_measure("nrs_pain", "leg"), 6.0)
    assert zones["no_important_change"] == (4.0, 8.0)
    assert zones["measurement_error"] == pytest.approx((6.0 - 2.8273, 6.0 + 2.8273), abs=1e-4)


def test_without_an_sem_there_is_no_measurement_error_zone():
    zones = change_zones(find_measure("rmdq"), 12.0)
    assert zones == {"no_important_change": (7.0, 17.0), "measurement_error": None}


def test_a_higher_is_better_scale_gets_the_same_zone_both_ways():
    assert change_zones(find_measure("psfs"), 5.0)["no_important_change"] == (3.0, 7.0)
