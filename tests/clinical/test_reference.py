"""Where a patient's value stands among comparable patients': percentiles and percentile rank."""
import statistics

import pytest

from server.clinical.outcomes import MIN_REFERENCE_PATIENTS, percentile_rank, reference_percentiles


def test_reference_percentiles_use_the_inclusive_method():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert reference_percentiles(values) == {
        "p10": pytest.approx(2.0),
        "p25": pytest.approx(3.5),
        "p50": pytest.approx(6.0),
        "p75": pytest.approx(8.5),
        "p90": pytest.approx(10.0),
    }


def test_reference_percentiles_agree_with_statistics_quantiles_on_uneven_data():
    values = sorted([3.0, 17.5, 4.2, 9.9, 12.0, 1.1, 8.8, 30.0, 2.2, 14.4, 6.6, 7.7, 21.0])
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    found = reference_percentiles(values)
    assert found["p10"] == pytest.approx(deciles[0])
    assert found["p90"] == pytest.approx(deciles[8])
    assert (found["p25"], found["p50"], found["p75"]) == pytest.approx(tuple(quartiles))


def test_a_single_value_is_every_percentile():
    assert set(reference_percentiles([7.0]).values()) == {7.0}


def test_percentile_rank_counts_half_of_the_ties():
    values = [10, 20, 20, 30]
    assert percentile_rank(20, values) == 50.0  # (1 below + half of 2 equal) / 4
    assert percentile_rank(5, values) == 0.0
    assert percentile_rank(30, values) == 87.5
    assert percentile_rank(35, values) == 100.0


def test_a_reference_distribution_needs_ten_comparable_patients():
    # Policy (issue 13), applied by the references service.
    assert MIN_REFERENCE_PATIENTS == 10
