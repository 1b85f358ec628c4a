"""Model-extraction audits: fidelity and accuracy against direct counts, bad input, determinism."""

import json

import numpy as np
import pytest

import pytest_mlaudit as mla


def fraud_like(n=900, seed=0):
    """A 4-feature table, labels by a nonlinear rule: pool 600, test 300."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = ((X[:, 0] * X[:, 1] > 0) ^ (X[:, 2] > 1)).astype(np.int64)
    return X[:600], y[:600], X[600:], y[600:]


@pytest.fixture(scope="module")
def victim():
    from sklearn.ensemble import RandomForestClassifier

    X, y, _, _ = fraud_like(seed=1)
    return RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)


class RecordingTree:
    """A thief factory fitting a decision tree, keeping what it was trained on and the thieves."""

    def __init__(self):
        self.seen = []

    def __call__(self, X, y, seed):
        from sklearn.tree import DecisionTreeClassifier

        thief = DecisionTreeClassifier(random_state=seed).fit(X, y)
        self.seen.append((X.copy(), y.copy(), thief))
        return thief


def test_the_thief_learns_the_victims_answers_on_budget_rows_of_the_pool(victim):
    pool, _, X_test, y_test = fraud_like()
    factory = RecordingTree()
    mla.model_extraction(victim, pool, thief_factory=factory, budgets=[300, 50], X_test=X_test, y_test=y_test)
    pool_rows = {row.tobytes() for row in pool}
    (small, answers_small, _), (large, answers_large, _) = factory.seen
    assert (len(small), len(large)) == (50, 300)
    assert all(row.tobytes() in pool_rows for row in large)
    assert np.array_equal(large[:50], small)  # nested budgets
    assert np.array_equal(answers_large, victim.predict(large))


def test_fidelity_and_accuracy_are_direct_counts_on_the_test_set(victim):
    pool, _, X_test, y_test = fraud_like()
    factory = RecordingTree()
    result = mla.model_extraction(victim, pool, thief_factory=factory, budgets=[50, 300], X_test=X_test, y_test=y_test)
    for point, (_, _, thief) in zip(result.points, factory.seen):
        stolen = thief.predict(X_test)
        assert point.fidelity.value == np.mean(stolen == victim.predict(X_test))
        assert point.accuracy.value == np.mean(stolen == y_test)
        assert point.fidelity.n == 300
    assert result.victim_accuracy.value == np.mean(victim.predict(X_test) == y_test)
    assert result.points[1].fidelity.value > result.points[0].fidelity.value
    assert result.method == "query-and-fit" and not result.suspect


def test_assert_extraction_fidelity_fails_when_the_thief_copies_too_well(victim):
    pool, _, X_test, y_test = fraud_like()
    with pytest.raises(AssertionError, match=r"fidelity@budget=500 = .* misses at_most=0.5"):
        mla.assert_extraction_fidelity(victim, pool, thief_factory=RecordingTree(), budget=500, at_most=0.5,
                                       X_test=X_test, y_test=y_test)


def test_test_rows_inside_the_pool_mark_the_audit_suspect(victim):
    pool, _, X_test, y_test = fraud_like()
    result = mla.model_extraction(victim, np.vstack([pool, X_test[:10]]), thief_factory=RecordingTree(),
                                  budgets=[100], X_test=X_test, y_test=y_test)
    assert result.suspect and "10 of 300 test rows also appear in X_pool" in result.checks[0].detail


def test_copycat_on_a_torch_victim_reports_the_agreement_of_the_thief_it_trained():
    torch = pytest.importorskip("torch")
    pytest.importorskip("art")
    pool, y_pool, X_test, y_test = fraud_like()
    torch.manual_seed(0)
    victim = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    optimizer = torch.optim.Adam(victim.parameters(), lr=0.05)
    for _ in range(150):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(victim(torch.as_tensor(pool)), torch.as_tensor(y_pool)).backward()
        optimizer.step()
    victim.eval()
    thieves = []

    def thief_factory():
        thieves.append(torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)))
        return thieves[-1]

    result = mla.model_extraction(victim, pool, thief_factory=thief_factory, budgets=[400], X_test=X_test,
                                  y_test=y_test, epochs=20, learning_rate=0.01)
    with torch.no_grad():
        stolen = thieves[0](torch.as_tensor(X_test)).argmax(1).numpy()
        answers = victim(torch.as_tensor(X_test)).argmax(1).numpy()
    assert result.points[0].fidelity.value == np.mean(stolen == answers)
    assert result.points[0].fidelity.value > 0.8 and result.method == "copycat"
    assert not victim.training


@pytest.mark.parametrize("kwargs, error, message", [
    ({"budgets": [100, 601]}, ValueError, "budget 601 is larger than the query pool: X_pool has 600 samples"),
    ({"budgets": [0]}, ValueError, "each of budgets must be a positive number of queries, got 0"),
    ({"budgets": [10], "method": "copycat"}, ValueError, "method='copycat' is for torch victims"),
    ({"budgets": [10], "X_test": np.zeros((5, 3))}, ValueError, r"X_pool has rows of shape \(4,\) but X_test of shape"),
])
def test_bad_arguments_are_refused_naming_them(victim, kwargs, error, message):
    pool, _, X_test, y_test = fraud_like()
    arguments = {"thief_factory": RecordingTree(), "X_test": X_test, "y_test": y_test[:len(kwargs.get("X_test", X_test))],
                 **kwargs}
    with pytest.raises(error, match=message):
        mla.model_extraction(victim, pool, **arguments)


PROJECT = '''
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

def test_steal(mlaudit):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(700, 3)); y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    victim = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:200], y[:200])
    mlaudit.model_extraction(victim, X[200:500], thief_factory=DecisionTreeClassifier(), budgets=[20, 100, 300],
                             X_test=X[500:], y_test=y[500:])
'''


def test_the_same_seed_gives_the_same_json(pytester):
    pytester.makepyfile(test_steal_project=PROJECT)
    documents = []
    for run in range(2):
        pytester.runpytest("-p", "no:cacheprovider", "--mlaudit-seed=4", f"--mlaudit-json=run{run}.json").assert_outcomes(
            passed=1)
        audits = json.loads((pytester.path / f"run{run}.json").read_text())["audits"]
        documents.append([{k: v for k, v in audit.items() if k != "duration_s"} for audit in audits])
    assert documents[0] == documents[1]
    assert documents[0][0]["category"] == "extraction" and "fidelity@budget=300" in documents[0][0]["metrics"]
