"""The anchor-based MIC: PGIC classes, the 2x2 agreement and the Youden cut-off."""
from server.clinical.anchors import agreement, anchor_says_improved, roc_mic


def test_pgic_1_and_2_are_improved_3_to_5_not_and_6_7_left_out():
    assert [anchor_says_improved(v) for v in range(1, 8)] == [True, True, False, False, False, None, None]


def test_agreement_counts_the_four_cells_and_derives_sensitivity_and_specificity():
    pairs = [(True, True)] * 6 + [(True, False)] * 2 + [(False, True)] * 3 + [(False, False)] * 9
    assert agreement(pairs) == {
        "anchored": 20,
        "improved_both": 6,
        "improved_by_mic_only": 2,
        "improved_by_anchor_only": 3,
        "improved_by_neither": 9,
        "sensitivity": 6 / 9,
        "specificity": 9 / 11,
    }
    assert agreement([])["sensitivity"] is None


def test_the_roc_mic_is_the_cut_off_maximizing_sensitivity_plus_specificity():
    # 15 improved patients gained 10..24 points, 15 others -6..8: a cut-off of 10 separates them.
    improved = [(float(v), True) for v in range(10, 25)]
    not_improved = [(float(v), False) for v in range(-6, 9)]
    assert roc_mic(improved + not_improved) == {"value": 10.0, "sensitivity": 1.0, "specificity": 1.0}


def test_the_roc_mic_gives_ties_to_the_smaller_cut_off():
    # Improved 8..22, others -4..10: every cut-off from 8 to 11 sums to 1.8; 8 is chosen.
    improved = [(float(v), True) for v in range(8, 23)]
    not_improved = [(float(v), False) for v in range(-4, 11)]
    assert roc_mic(improved + not_improved) == {"value": 8.0, "sensitivity": 1.0, "specificity": 0.8}


def test_the_roc_mic_needs_thirty_anchored_patients_and_both_groups():
    # Policy (clinical.md): 30 anchored patients.
    pairs = [(float(v), v > 5) for v in range(29)]
    assert roc_mic(pairs) is None
    assert roc_mic([(float(v), True) for v in range(30)]) is None
    assert roc_mic(pairs + [(100.0, True)]) is not None


def test_follow_up_values_place_an_anchor_score_in_the_trend_windows():
    from datetime import date, datetime, timedelta, timezone

    from server.clinical.trends import Reading, TreatmentFacts, follow_up_values

    treated = date(2025, 1, 10)

    def on(days, score):
        at = datetime.combine(treated + timedelta(days=days), datetime.min.time(), timezone.utc)
        return Reading("pgic", at + timedelta(hours=12), score, {})

    first = TreatmentFacts(1, "prp", treated, "spine-standard")
    second = TreatmentFacts(2, "surgery", treated + timedelta(days=200), "spine-standard")
    values = follow_up_values([on(88, 3), on(95, 2), on(181, 5), on(230, 1)], [first, second], "UTC")
    assert values[1]["3m"] == 3 and values[1]["6m"] is None  # day 181 is past the next baseline
    assert values[1]["latest"] == 2
    assert values[2]["latest"] == 1 and values[2]["6w"] is None
