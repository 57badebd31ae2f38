"""Kaplan–Meier with Greenwood's variance and the log-log interval, against hand-computed cases."""
import math
from datetime import date

import pytest

from server.clinical.protocols import get_protocol
from server.clinical.survival import REPORT_DAYS, estimate_at, kaplan_meier, observation

# The 6-MP arm of Freireich et al. 1963, in weeks; False marks a censored time (clinical.md).
SIX_MP = [
    (6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True), (10, False),
    (11, False), (13, True), (16, True), (17, False), (19, False), (20, False), (22, True),
    (23, True), (25, False), (32, False), (32, False), (34, False), (35, False),
]


def at(steps, time):
    return next(step for step in steps if step.time == time)


def test_the_6mp_arm_gives_the_published_estimates():
    steps = kaplan_meier(SIX_MP)
    published = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    for week, survival in published.items():
        assert at(steps, week).survival == pytest.approx(survival, abs=5e-4), week


def test_the_6mp_arm_gives_the_published_greenwood_errors_and_log_log_interval():
    steps = kaplan_meier(SIX_MP)
    assert at(steps, 6).se == pytest.approx(0.076, abs=5e-4)
    assert at(steps, 23).se == pytest.approx(0.135, abs=5e-4)
    assert (at(steps, 23).ci_low, at(steps, 23).ci_high) == pytest.approx((0.188, 0.680), abs=5e-4)


def test_a_subject_censored_at_an_event_time_is_still_at_risk_then():
    steps = kaplan_meier([(5, True), (5, False), (8, True)])
    first = at(steps, 5)
    assert (first.at_risk, first.events, first.censored) == (3, 1, 1)
    assert first.survival == pytest.approx(2 / 3)
    assert at(steps, 8).at_risk == 1 and at(steps, 8).survival == 0.0


def test_once_no_one_is_left_event_free_the_estimate_is_zero_without_an_error():
    (step,) = kaplan_meier([(2, True)])
    assert (step.survival, step.se, step.ci_low, step.ci_high) == (0.0, None, 0.0, 0.0)


def test_tied_events_count_together():
    steps = kaplan_meier([(3, True), (3, True), (4, False), (9, True)])
    assert at(steps, 3).survival == pytest.approx(0.5)
    greenwood = 2 / (4 * 2)
    assert at(steps, 3).se == pytest.approx(0.5 * math.sqrt(greenwood))
    v = greenwood / math.log(0.5) ** 2
    assert at(steps, 3).ci_low == pytest.approx(0.5 ** math.exp(1.96 * math.sqrt(v)))
    assert at(steps, 3).ci_high == pytest.approx(0.5 ** math.exp(-1.96 * math.sqrt(v)))


def test_no_event_keeps_survival_at_one_with_a_degenerate_interval():
    steps = kaplan_meier([(10, False), (20, False)])
    assert [step.survival for step in steps] == [1.0, 1.0]
    assert (steps[0].ci_low, steps[0].ci_high) == (1.0, 1.0)


def test_the_estimate_at_a_time_reads_the_last_step_and_counts_those_at_risk():
    steps = kaplan_meier(SIX_MP)
    assert estimate_at(steps, 12) == {
        "survival": at(steps, 10).survival,
        "ci_low": at(steps, 10).ci_low,
        "ci_high": at(steps, 10).ci_high,
        "at_risk": 12,
    }
    assert estimate_at(steps, 5) == {"survival": 1.0, "ci_low": 1.0, "ci_high": 1.0, "at_risk": 21}


def test_the_estimate_on_an_event_day_includes_that_days_events():
    steps = kaplan_meier(SIX_MP)
    assert estimate_at(steps, 6)["survival"] == pytest.approx(0.857, abs=5e-4)
    assert estimate_at(steps, 6)["at_risk"] == 21  # at risk just before week 6
    assert estimate_at(steps, 10)["at_risk"] == 15


def test_past_the_longest_follow_up_the_estimate_is_unknown():
    steps = kaplan_meier(SIX_MP)
    assert estimate_at(steps, 36) == {"survival": None, "ci_low": None, "ci_high": None, "at_risk": 0}
    assert estimate_at(kaplan_meier([(2, True)]), 10)["survival"] == 0.0
    assert estimate_at([], 10)["survival"] is None
    assert estimate_at(kaplan_meier([(2, False)]), 10)["survival"] is None


def test_survival_is_reported_at_the_6_12_and_24_month_follow_up_days():
    spine = get_protocol("spine-standard")
    assert REPORT_DAYS == {label: spine.time_point(label).day for label in ("6m", "12m", "24m")}


TREATED = date(2024, 3, 1)


def test_a_surgery_counts_only_after_the_treatment_day():
    later = [date(2024, 3, 1), date(2024, 6, 29), date(2024, 9, 1)]
    assert observation(TREATED, later, date(2025, 1, 1), "surgery") == (120, True)


def test_an_adverse_event_counts_from_the_treatment_day():
    assert observation(TREATED, [date(2024, 3, 1)], date(2025, 1, 1), "serious_adverse_event") == (
        0, True
    )


def test_without_an_event_the_treatment_is_censored_at_the_last_contact():
    assert observation(TREATED, [date(2024, 2, 1)], date(2024, 9, 1), "surgery") == (184, False)
    assert observation(TREATED, [], date(2024, 2, 1), "surgery") == (0, False)
    assert observation(TREATED, [], None, "serious_adverse_event") == (0, False)
