"""Follow-up protocols as data: time points, windows and instruments."""
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


def test_pain_diary_is_weekly_for_twelve_weeks_with_windows_that_never_overlap():
    points = get_protocol("pain-diary").time_points
    assert [tp.day for tp in points] == [7 * week for week in range(1, 13)]
    assert all(tp.instruments == ("nrs_pain",) for tp in points)
    assert all(a.closes < b.opens for a, b in zip(points, points[1:]))


def test_window_contains_its_edges_only():
    three_months = get_protocol("spine-standard").time_point("3m")
    assert three_months.contains(77) and three_months.contains(105)
    assert not three_months.contains(76) and not three_months.contains(106)


def test_time_points_come_back_in_follow_up_order_whatever_the_stored_order():
    stored = {"24m": 5, "baseline": 1, "6m": 3, "2w": 2, "12m": 4}
    assert [label for label, _ in in_time_order(stored)] == ["baseline", "2w", "6m", "12m", "24m"]


def test_unknown_protocol_is_none():
    assert get_protocol("nope") is None and set(PROTOCOLS) == {"spine-standard", "pain-diary"}
