"""stats.stratified_bootstrap: seeded percentile intervals, stratified, over cells."""

import numpy as np
import pytest

from pytest_mlaudit.stats import BOOTSTRAP_METHOD, stratified_bootstrap


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
    with pytest.raises(ValueError, match="inside one stratum"):
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
