"""stats.stratified_bootstrap and stats.bootstrap: seeded percentile intervals, stratified, over cells or rows."""

import numpy as np
import pytest

from pytest_mlaudit import stats
from pytest_mlaudit.stats import (BOOTSTRAP_METHOD, bootstrap, bootstrap_percentile, bootstrap_weights,
                                  stratified_bootstrap)


def _mean_statistic(values):
    return lambda weights: {"mean": weights @ values / weights.sum(axis=1)}


def test_same_seed_gives_the_same_interval_and_another_seed_another():
    values = np.random.default_rng(0).normal(size=200)
    strata = np.zeros(200, dtype=int)
    first = stratified_bootstrap(_mean_statistic(values), strata, {"mean": values.mean()}, seed=7)
    again = stratified_bootstrap(_mean_statistic(values), strata, {"mean": values.mean()}, seed=7)
    other = stratified_bootstrap(_mean_statistic(values), strata, {"mean": values.mean()}, seed=8)
    assert first == again
    assert (first["mean"].low, first["mean"].high) != (other["mean"].low, other["mean"].high)


def test_interval_agrees_with_scipys_percentile_bootstrap():
    from scipy.stats import bootstrap

    values = np.random.default_rng(1).exponential(size=300)
    ours = stratified_bootstrap(_mean_statistic(values), np.zeros(300, dtype=int), {"mean": values.mean()},
                                seed=3, n_resamples=4000)["mean"]
    theirs = bootstrap((values,), np.mean, method="percentile", n_resamples=4000, random_state=3).confidence_interval
    assert ours.low == pytest.approx(theirs.low, abs=0.01)
    assert ours.high == pytest.approx(theirs.high, abs=0.01)
    assert (ours.value, ours.n, ours.method) == (pytest.approx(values.mean()), 300, BOOTSTRAP_METHOD)


def test_each_resample_keeps_the_stratum_sizes():
    strata = np.array([1] * 3 + [0] * 97)
    seen = {}

    def statistic(weights):
        seen["positives"] = weights @ (strata == 1)
        return {"share": weights @ strata / weights.sum(axis=1)}

    estimate = stratified_bootstrap(statistic, strata, {"share": 0.03}, seed=0)["share"]
    assert np.all(seen["positives"] == 3)
    assert (estimate.low, estimate.value, estimate.high) == (0.03, 0.03, 0.03)


def test_merged_cells_give_the_distribution_of_units():
    """Counting drawn units per cell is a multinomial draw over cells: same interval up to Monte Carlo error."""
    values = np.repeat([0.0, 1.0, 5.0], [50, 30, 20])
    strata = np.zeros(100, dtype=int)
    units = stratified_bootstrap(_mean_statistic(values), strata, {"mean": values.mean()}, seed=1, n_resamples=4000)
    cells = stratified_bootstrap(_mean_statistic(np.array([0.0, 1.0, 5.0])), strata, {"mean": values.mean()},
                                 cells=np.repeat([0, 1, 2], [50, 30, 20]), seed=2, n_resamples=4000)
    assert cells["mean"].low == pytest.approx(units["mean"].low, abs=0.05)
    assert cells["mean"].high == pytest.approx(units["mean"].high, abs=0.05)


def test_a_cell_spanning_two_strata_is_refused():
    with pytest.raises(ValueError, match=r"^each cell must lie inside one stratum$"):
        stratified_bootstrap(_mean_statistic(np.ones(2)), np.array([0, 0, 1, 1]), {"mean": 1.0},
                             cells=np.array([0, 1, 1, 0]), seed=0)


def test_too_few_resamples_are_refused():
    with pytest.raises(ValueError, match="n_resamples"):
        stratified_bootstrap(_mean_statistic(np.ones(3)), np.zeros(3), {"mean": 1.0}, seed=0, n_resamples=1)


def test_counted_cells_and_units_give_the_same_seeded_resamples():
    """bootstrap_weights on counts per cell draws exactly what stratified_bootstrap draws for the units."""
    from pytest_mlaudit.stats import bootstrap_weights

    strata = np.repeat([0, 1], [7, 5])
    cells = np.repeat([0, 1, 2, 3], [4, 3, 1, 4])  # cells 0 and 1 in stratum 0, cells 2 and 3 in stratum 1
    seen = {}

    def statistic(weights):
        seen["w"] = weights
        return {}

    stratified_bootstrap(statistic, strata, {}, cells=cells, seed=4, n_resamples=50)
    counted = bootstrap_weights(np.array([4, 3, 1, 4]), np.array([0, 0, 1, 1]), n_resamples=50, seed=4)
    assert np.array_equal(counted, seen["w"])
    assert (counted[:, :2].sum(axis=1) == 7).all() and (counted[:, 2:].sum(axis=1) == 5).all()


def test_a_generator_seed_continues_its_stream():
    from pytest_mlaudit.stats import bootstrap_weights

    counts, groups = np.array([2, 0, 3, 5]), np.array([0, 0, 1, 1])
    rng = np.random.default_rng(9)
    first, second = (bootstrap_weights(counts, groups, n_resamples=20, seed=rng) for _ in range(2))
    assert not np.array_equal(first, second) and (first[:, 1] == 0).all()
    assert np.array_equal(first, bootstrap_weights(counts, groups, n_resamples=20, seed=9))


# --------------------------------------------------------------------------- limits, chunks and refusals


def test_two_resamples_and_a_single_unit_are_enough():
    result = stratified_bootstrap(_mean_statistic(np.ones(1)), np.zeros(1), {"mean": 1.0}, seed=0, n_resamples=2)
    assert (result["mean"].value, result["mean"].n) == (1.0, 1)


@pytest.mark.parametrize("n_resamples", [1, True, 2.0])
def test_resamples_that_are_not_an_integer_of_at_least_two_are_refused_naming_the_value(n_resamples):
    with pytest.raises(ValueError, match=rf"^n_resamples must be an integer of at least 2, got {n_resamples!r}$"):
        stratified_bootstrap(_mean_statistic(np.ones(3)), np.zeros(3), {"mean": 1.0}, seed=0, n_resamples=n_resamples)


@pytest.mark.parametrize("strata", [np.zeros(0), np.zeros((2, 2))])
def test_strata_that_are_empty_or_not_one_dimensional_are_refused(strata):
    with pytest.raises(ValueError, match=r"^strata must be a non-empty 1-D array with one stratum label per unit$"):
        stratified_bootstrap(_mean_statistic(np.ones(2)), strata, {"mean": 1.0}, seed=0)


def test_cells_of_another_shape_than_the_strata_are_refused_naming_both_shapes():
    with pytest.raises(ValueError, match=r"^cells must give one cell id per unit: \(2,\) against strata \(3,\)$"):
        stratified_bootstrap(_mean_statistic(np.ones(2)), np.zeros(3), {"mean": 1.0}, cells=np.array([0, 1]), seed=0)


def test_a_cell_id_with_no_unit_is_an_empty_cell():
    """Cell 1 holds no unit: it never gets weight, and the other cells resample as usual."""
    seen = []

    def statistic(weights):
        seen.append(weights[:, 1].copy())
        return {"mean": weights[:, 0] / weights.sum(axis=1)}

    result = stratified_bootstrap(statistic, np.zeros(4), {"mean": 0.5}, cells=np.array([0, 0, 2, 2]), seed=0,
                                  n_resamples=50)
    assert np.concatenate(seen).max() == 0
    assert result["mean"].low < 0.5 < result["mean"].high


def test_a_statistic_without_one_finite_value_per_resample_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^bootstrap statistic 'mean' must give one finite value per resample$"):
        stratified_bootstrap(lambda weights: {"mean": np.full(len(weights), np.nan)}, np.zeros(3), {"mean": 1.0},
                             seed=0)
    with pytest.raises(ValueError, match=r"^bootstrap statistic 'mean' must give one finite value per resample$"):
        stratified_bootstrap(lambda weights: {"mean": np.ones(len(weights) + 1)}, np.zeros(3), {"mean": 1.0}, seed=0)


@pytest.mark.parametrize("budget, chunks", [(8, [2, 2, 2, 1]), (4, [1] * 7), (2, [1] * 7)])
def test_resamples_are_drawn_in_chunks_of_the_chunk_budget_and_a_last_partial_chunk(monkeypatch, budget, chunks):
    monkeypatch.setattr(stats, "BOOTSTRAP_CHUNK_ELEMENTS", budget)  # over 4 cells; at least one resample a chunk
    sizes = []

    def statistic(weights):
        sizes.append(len(weights))
        return {"mean": weights @ np.arange(4.0) / weights.sum(axis=1)}

    stratified_bootstrap(statistic, np.zeros(4), {"mean": 1.5}, seed=0, n_resamples=7)
    assert sizes == chunks


def test_stratified_bootstrap_draws_1000_resamples_by_default():
    sizes = []

    def statistic(weights):
        sizes.append(len(weights))
        return {"mean": weights @ np.arange(4.0) / weights.sum(axis=1)}

    stratified_bootstrap(statistic, np.zeros(4), {"mean": 1.5}, seed=0)
    assert sum(sizes) == 1000


def test_bootstrap_weights_refuse_counts_and_strata_of_different_shapes():
    with pytest.raises(ValueError, match=r"^counts and strata must be 1-D, one entry per cell: got shapes \(3,\) and "
                                         r"\(2,\)$"):
        bootstrap_weights([1, 2, 3], [0, 0], n_resamples=2, seed=0)
    with pytest.raises(ValueError, match=r"got shapes \(1, 2\) and \(1, 2\)$"):
        bootstrap_weights([[1, 2]], [[0, 0]], n_resamples=2, seed=0)


# --------------------------------------------------------------------------- bootstrap: the row bootstrap for custom audits


def _share_of_row_zero(rows):
    return float(np.mean(rows == 0))


def test_row_bootstrap_records_its_rows_method_and_default_confidence():
    estimate = bootstrap(np.mean, np.arange(10.0), seed=0, n_resamples=20)
    assert (estimate.n, estimate.method, estimate.confidence) == (10, "bootstrap-percentile", 0.95)
    assert estimate.value == 4.5


def test_a_stratified_row_bootstrap_keeps_each_stratums_rows_and_says_so():
    labels = np.array([0] * 7 + [1] * 3)
    estimate = bootstrap(np.mean, labels, seed=0, strata=labels, n_resamples=50)
    assert estimate.method == "bootstrap-percentile-stratified"
    assert (estimate.low, estimate.value, estimate.high) == (0.3, 0.3, 0.3)


def test_row_bootstrap_can_draw_every_row():
    """Row 0 is one of 3: in a quarter of resamples it is drawn twice or more, so the 97.5% point reaches 2/3."""
    estimate = bootstrap(_share_of_row_zero, np.arange(3), seed=0, n_resamples=400)
    assert estimate.high >= 2 / 3


def test_row_bootstrap_is_reproducible_from_its_seed():
    first = bootstrap(np.mean, np.arange(10.0), seed=3, n_resamples=30)
    assert bootstrap(np.mean, np.arange(10.0), seed=3, n_resamples=30) == first
    assert bootstrap(np.mean, np.arange(10.0), seed=4, n_resamples=30) != first


def test_row_bootstrap_of_two_resamples_and_one_row_is_defined():
    assert bootstrap(np.mean, np.array([2.0]), seed=0, n_resamples=2).value == 2.0


@pytest.mark.parametrize("n_resamples", [1, True, 2.0])
def test_row_bootstrap_refuses_resamples_that_are_not_an_integer_of_at_least_two(n_resamples):
    with pytest.raises(ValueError, match=rf"^n_resamples must be an integer of at least 2, got {n_resamples!r}$"):
        bootstrap(np.mean, np.arange(3.0), seed=0, n_resamples=n_resamples)


def test_row_bootstrap_refuses_no_arrays():
    with pytest.raises(TypeError, match=r"^bootstrap needs at least one array of rows to resample$"):
        bootstrap(np.mean, seed=0)


@pytest.mark.parametrize("arrays, rows", [((np.zeros(0),), r"\[0\]"), ((np.zeros(3), np.zeros((2, 4))), r"\[3, 2\]")])
def test_row_bootstrap_refuses_empty_or_unequal_arrays_naming_their_rows(arrays, rows):
    with pytest.raises(ValueError, match=rf"^the arrays must be non-empty with the same number of rows, got {rows}$"):
        bootstrap(lambda *a: 0.0, *arrays, seed=0)


def test_row_bootstrap_refuses_strata_of_another_length_naming_both():
    with pytest.raises(ValueError, match=r"^strata must give one label per row \(3\), got 2$"):
        bootstrap(np.mean, np.arange(3.0), seed=0, strata=np.array([0, 1]))


def test_row_bootstrap_draws_1000_resamples_by_default():
    calls = []

    def statistic(rows):
        calls.append(len(rows))
        return float(np.mean(rows))

    bootstrap(statistic, np.arange(5.0), seed=0)
    assert len(calls) == 1 + 1000  # the data, then each resample


def test_bootstrap_percentile_names_its_method_and_takes_95_percent_by_default():
    estimate = bootstrap_percentile(0.5, np.arange(1001) / 1000, 10)
    assert (estimate.method, estimate.confidence, estimate.n) == ("bootstrap-percentile", 0.95, 10)
    assert (estimate.low, estimate.high) == pytest.approx((0.025, 0.975))


def test_bootstrap_percentile_of_one_defined_replicate_is_widened_to_the_value():
    estimate = bootstrap_percentile(0.5, [0.4, np.nan], 10)
    assert (estimate.low, estimate.value, estimate.high) == (0.4, 0.5, 0.5)


def test_bootstrap_percentile_refuses_replicates_none_of_which_is_defined():
    with pytest.raises(ValueError, match=r"^no bootstrap replicate of the statistic is defined$"):
        bootstrap_percentile(0.5, [np.nan, np.inf], 10)


def test_a_stratified_row_bootstrap_of_three_strata_resamples_each_within_itself():
    labels = np.array([0] * 5 + [1] * 3 + [2] * 2)
    estimate = bootstrap(np.mean, labels, seed=0, strata=labels, n_resamples=50)
    assert (estimate.low, estimate.value, estimate.high) == (0.7, 0.7, 0.7)
