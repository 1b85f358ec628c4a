"""Counterexample search (mla.search_counterexamples) and metamorphic invariants (mla.assert_invariant)."""

import numpy as np
import pytest

pytest.importorskip("hypothesis")

import pytest_mlaudit as mla
from outside_pytest import as_a_script


class Threshold:
    """Approves (1) when income + 10 * age_years >= 1000: monotone, with a known decision boundary."""

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        return (X[:, 0] + 10 * X[:, 1] >= 1000).astype(np.int64)


@pytest.fixture
def applicants():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(0, 2000, 200), rng.uniform(0, 60, 200), rng.normal(size=200)])
    return X, Threshold().predict(X)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MLAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def search(X, y, **kwargs):
    kwargs = {"space": mla.spaces.features({0: (-300.0, 300.0), 1: (-5, 5)}), "samples": 15, "max_examples": 40,
              **kwargs}
    return mla.search_counterexamples(Threshold(), X, y, **kwargs)


def test_every_counterexample_flips_the_prediction(applicants):
    X, y = applicants
    result = search(X, y)
    assert result.counterexamples
    for c in result.counterexamples:
        row = X[c.sample].copy()
        for change in c.changes:
            assert row[int(change.feature[2:-1])] == change.before
            row[int(change.feature[2:-1])] = change.after
        assert Threshold().predict(row[None])[0] == c.prediction_after != c.prediction_before


def test_shrinking_reaches_a_local_minimum_of_the_change(applicants):
    """No changed feature can be dropped; moved back by 2/1024 of its change (income) or one unit (age, an
    integer step in the space), none still flips."""
    X, y = applicants
    model = Threshold()
    for c in search(X, y).counterexamples:
        after = X[c.sample].copy()
        for change in c.changes:
            after[int(change.feature[2:-1])] = change.after
        for change in c.changes:
            j = int(change.feature[2:-1])
            dropped = after.copy()
            dropped[j] = change.before
            assert model.predict(dropped[None])[0] == c.prediction_before
            step = (change.after - change.before) * 2 / 1024 if j == 0 else np.sign(change.after - change.before)
            closer = after.copy()
            closer[j] = change.after - step
            assert model.predict(closer[None])[0] == c.prediction_before


def test_the_rate_counts_samples_within_reach_of_the_boundary(applicants):
    """Brute force: a sample can flip iff its score is within 300 + 10 * 5 = 350 of the boundary."""
    X, y = applicants
    result = search(X, y, samples=40, max_examples=60)
    scores = X[:, 0] + 10 * X[:, 1]
    reachable = {i for i in range(len(X)) if (scores[i] >= 1000 and scores[i] - 350 < 1000)
                 or (scores[i] < 1000 and scores[i] + 350 >= 1000)}
    found = {c.sample for c in result.counterexamples}
    assert found <= reachable
    assert result.counterexample_rate.n == 40


def test_the_search_is_repeatable_and_writes_no_database_into_the_project(applicants, cache_dir, tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = applicants
    first, second = (as_a_script(lambda: search(X, y), seed=0) for _ in range(2))
    assert first.counterexamples == second.counterexamples
    assert not (tmp_path / ".hypothesis").exists()


def test_a_different_seed_audits_other_samples(applicants):
    X, y = applicants
    other, first = (as_a_script(lambda: search(X, y), seed=seed) for seed in (1, 0))
    assert {c.sample for c in other.counterexamples} != {c.sample for c in first.counterexamples}


def test_categorical_space_on_a_dataframe():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"colour": ["red", "blue", "red", "green"] * 10, "size": np.arange(40.0)})

    class RedOnly:
        def predict(self, frame):
            return (frame["colour"] == "red").to_numpy().astype(int)

    result = mla.search_counterexamples(RedOnly(), X, space=mla.spaces.categorical(["colour"]), samples=8,
                                        max_examples=20)
    assert result.counterexample_rate.value == 1.0
    assert all(len(c.changes) == 1 and c.changes[0].feature == "colour" for c in result.counterexamples)


def test_assert_no_counterexample_fails_above_the_rate(applicants):
    X, y = applicants
    with pytest.raises(AssertionError, match="counterexample_rate"):
        mla.assert_no_counterexample(Threshold(), X, y, space=mla.spaces.box(400.0), samples=10, max_examples=30,
                                     at_most=0.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda X, y: search(X, y, space="box"), TypeError, "space must be a space from mla.spaces"),
    (lambda X, y: search(X, y, samples=0), ValueError, "samples must be a positive integer"),
    (lambda X, y: search(X, y, space=mla.spaces.features({"income": (-1, 1)})), ValueError, "no column named"),
    (lambda X, y: mla.spaces.features({0: (1, 5)}), ValueError, "must contain 0"),
    (lambda X, y: mla.spaces.box(-1), ValueError, "eps must be positive"),
    (lambda X, y: search(X, y, domain=(0.0, 1.0)), ValueError, "outside the domain"),
])
def test_bad_input_names_the_argument(applicants, call, error, match):
    with pytest.raises(error, match=match):
        call(*applicants)


def test_monotonicity_holds_for_a_monotone_model(applicants):
    X, _ = applicants

    def raise_income(X):
        return X + np.array([500.0, 0.0, 0.0])

    result = mla.assert_invariant(Threshold(), X, transform=raise_income, relation="not_lower", at_least=1.0)
    assert result.agreement.value == 1.0


def test_an_invariance_the_model_breaks_is_measured(applicants):
    X, _ = applicants

    def shift_age(X):
        return X + np.array([0.0, 10.0, 0.0])

    result = mla.invariant(Threshold(), X, transform=shift_age)
    expected = np.mean(Threshold().predict(X) == Threshold().predict(shift_age(X)))
    assert result.agreement.value == pytest.approx(expected)
    assert len(result.violations) == round((1 - expected) * len(X))
