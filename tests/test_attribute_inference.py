"""Attribute-inference audits: known answers, the paired difference, bad input, determinism."""

import json

import numpy as np
import pytest
from extras import need

import pytest_mlaudit as mla

need("art")


def people(n=1200, seed=0):
    """Two noise features and a binary sensitive column (index 2, 35% ones)."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.normal(size=n), rng.normal(size=n), (rng.random(n) < 0.35).astype(float)])


class Echo:
    """A fitted 'model' whose answer is the sensitive column: querying it gives the attribute away."""

    classes_ = np.array([0, 1])

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.asarray(X)[:, 2].astype(int)


class FirstFeatureSign(Echo):
    """A model that ignores the sensitive column: its answers carry nothing about it."""

    def predict(self, X):
        return (np.asarray(X)[:, 0] > 0).astype(int)


def test_a_model_that_echoes_the_attribute_gives_the_attacker_everything_beyond_the_baseline():
    X = people()
    result = mla.attribute_inference(Echo(), X, sensitive_column=2)
    assert result.attack_accuracy.value == 1.0
    # the baseline sees noise only: it can do no better than the commonest value (65%)
    assert result.baseline_accuracy.value == pytest.approx(result.majority_rate.value, abs=0.05)
    assert result.advantage.low > 0.25 and result.n_target == 600


def test_a_model_blind_to_the_attribute_gives_no_advantage():
    result = mla.attribute_inference(FirstFeatureSign(), people(), sensitive_column=2)
    assert result.advantage.low <= 0.0 <= result.advantage.high
    assert abs(result.advantage.value) < 0.05


def test_the_advantage_is_the_paired_difference_of_the_two_accuracies_on_the_same_rows():
    result = mla.attribute_inference(FirstFeatureSign(), people(), sensitive_column=2)
    assert result.advantage.value == pytest.approx(result.attack_accuracy.value - result.baseline_accuracy.value)
    assert result.advantage.method == "newcombe-paired" and result.advantage.n == result.attack_accuracy.n


def test_the_record_holds_the_two_by_two_table_of_attack_and_baseline_outcomes(pytester):
    pytester.makepyfile(test_table='''
        import numpy as np
        import pytest_mlaudit as mla

        class Echo:
            classes_ = np.array([0, 1])
            def predict(self, X):
                return np.asarray(X)[:, 2].astype(int)

        def test_it(mlaudit):
            rng = np.random.default_rng(0)
            X = np.column_stack([rng.normal(size=400), rng.normal(size=400), (rng.random(400) < 0.35).astype(float)])
            mlaudit.attribute_inference(Echo(), X, sensitive_column=2)
    ''')
    pytester.runpytest("-p", "no:cacheprovider", "--mlaudit-json=out.json").assert_outcomes(passed=1)
    (record,) = json.loads((pytester.path / "out.json").read_text())["audits"]
    table = next(t for t in record["extras"]["tables"] if t["title"].startswith("Attack against baseline"))
    (both, only_attack), (only_baseline, neither) = (row[1:] for row in table["rows"])
    n = record["metrics"]["attack_accuracy"]["n"]
    assert both + only_attack + only_baseline + neither == n == 200
    assert record["metrics"]["attack_accuracy"]["value"] == pytest.approx((both + only_attack) / n)
    assert record["metrics"]["baseline_accuracy"]["value"] == pytest.approx((both + only_baseline) / n)
    assert record["category"] == "inference"


def test_a_dataframe_column_is_named_and_a_gate_on_the_advantage_fails_a_leaky_model():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(people(), columns=["income", "age", "sex"])
    result = mla.attribute_inference(Echo(), frame, sensitive_column="sex")
    assert result.sensitive_column == 2 and result.values == (0.0, 1.0)
    with pytest.raises(AssertionError, match=r"advantage = .* misses at_most=0.1"):
        mla.assert_attribute_inference_advantage(Echo(), frame, sensitive_column="sex", at_most=0.1)


@pytest.mark.parametrize("column, error, message", [
    ("sex", ValueError, r"sensitive_column 'sex' is not a column of X \(columns: income, age, group\)"),
])
def test_a_sensitive_column_not_in_the_dataframe_is_refused(column, error, message):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(people(), columns=["income", "age", "group"])
    with pytest.raises(error, match=message):
        mla.attribute_inference(Echo(), frame, sensitive_column=column)


@pytest.mark.parametrize("X, column, error, message", [
    (people(), 3, ValueError, r"sensitive_column 3 is not in X: X has columns 0..2"),
    (people(), "sex", TypeError, "sensitive_column must be a column index of X"),
    (people(), 0, ValueError, "holds 1200 distinct values: attribute inference here is of a category"),
    (np.column_stack([people()[:, :2], np.ones(1200)]), 2, ValueError, "holds a single value"),
])
def test_bad_sensitive_columns_are_refused_naming_them(X, column, error, message):
    with pytest.raises(error, match=message):
        mla.attribute_inference(Echo(), X, sensitive_column=column)


def test_a_bad_attacker_fraction_is_refused():
    with pytest.raises(ValueError, match="attacker_fraction must be below 1"):
        mla.attribute_inference(Echo(), people(), sensitive_column=2, attacker_fraction=1.0)


PROJECT = '''
import numpy as np
from sklearn.linear_model import LogisticRegression

def test_infer(mlaudit):
    rng = np.random.default_rng(5)
    group = (rng.random(600) < 0.4).astype(float)
    X = np.column_stack([rng.normal(size=600) + group, rng.normal(size=600), group])
    y = (X[:, 0] + X[:, 1] > 0.5).astype(int)
    model = LogisticRegression().fit(X, y)
    mlaudit.attribute_inference(model, X, y, sensitive_column=2)
'''


def test_the_same_seed_gives_the_same_json(pytester):
    pytester.makepyfile(test_infer_project=PROJECT)
    documents = []
    for run in range(2):
        pytester.runpytest("-p", "no:cacheprovider", "--mlaudit-seed=9", f"--mlaudit-json=run{run}.json").assert_outcomes(
            passed=1)
        audits = json.loads((pytester.path / f"run{run}.json").read_text())["audits"]
        documents.append([{k: v for k, v in audit.items() if k != "duration_s"} for audit in audits])
    assert documents[0] == documents[1]
    assert documents[0][0]["category"] == "inference"
