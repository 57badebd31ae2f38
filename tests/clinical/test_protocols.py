"""Follow-up protocols as data: time points, windows and instruments."""
from datetime import date

from server.clinical.protocols import PROTOCOLS, get_protocol, in_time_order


def test_spine_standard_time_points_and_windows_are_as_the_issue_lists():
    protocol = get_protocol("spine-standard")
    windows = [(tp.label, tp.day, tp.opens, tp.closes) for tp in protocol.time_points]
    assert windows == [
        ("baseline", 0, -30, 0),
        ("2w", 14, 11, 17),
        ("6w", 42, 35, 49),
        ("3m", 91, 77, 105),
        ("6m", 182, 152, 212),
        ("12m", 365, 335, 395),
        ("24m", 730, 670, 790),
    ]


def test_spine_standard_asks_rmdq_at_three_points_and_pgic_after_treatment():
    asked = {tp.label: set(tp.instruments) for tp in get_protocol("spine-standard").time_points}
    assert all({"nrs_pain", "odi"} <= instruments for instruments in asked.values())
    assert {label for label, i in asked.items() if "rmdq" in i} == {"baseline", "3m", "12m"}
    assert {label for label, i in asked.items() if "pgic" in i} == set(asked) - {"baseline"}


def test_pain_diary_is_weekly_for_twelve_weeks_with_three_days_either_side():
    points = get_protocol("pain-diary").time_points
    assert [(tp.label, tp.day, tp.opens, tp.closes) for tp in points] == [
        ("w1", 7, 4, 10), ("w2", 14, 11, 17), ("w3", 21, 18, 24), ("w4", 28, 25, 31),
        ("w5", 35, 32, 38), ("w6", 42, 39, 45), ("w7", 49, 46, 52), ("w8", 56, 53, 59),
        ("w9", 63, 60, 66), ("w10", 70, 67, 73), ("w11", 77, 74, 80), ("w12", 84, 81, 87),
    ]
    assert all(tp.instruments == ("nrs_pain",) for tp in points)


def test_window_dates_of_a_treatment():
    three_months = get_protocol("spine-standard").time_point("3m")
    assert three_months.dates(date(2024, 3, 1)) == (
        date(2024, 5, 17), date(2024, 5, 31), date(2024, 6, 14)
    )


def test_window_contains_its_edges_only():
    three_months = get_protocol("spine-standard").time_point("3m")
    assert three_months.contains(77) and three_months.contains(105)
    assert not three_months.contains(76) and not three_months.contains(106)


def test_time_points_come_back_in_follow_up_order_whatever_the_stored_order():
    stored = {"24m": 5, "baseline": 1, "6m": 3, "2w": 2, "12m": 4}
    assert [label for label, _ in in_time_order(stored)] == ["baseline", "2w", "6m", "12m", "24m"]


def test_a_label_no_protocol_knows_sorts_as_day_zero_in_stored_order():
    stored = {"3m": 3, "retired": 2, "baseline": 1}
    assert [label for label, _ in in_time_order(stored)] == ["retired", "baseline", "3m"]


def test_unknown_protocol_and_time_point_are_none():
    assert get_protocol("nope") is None and set(PROTOCOLS) == {"spine-standard", "pain-diary"}
    assert get_protocol("spine-standard").time_point("5y") is None
