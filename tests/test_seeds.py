"""Everything random is seeded from --mlaudit-seed, and the record says how."""

import json

import pytest

pytest.importorskip("imblearn")

UNSEEDED_FOREST = '''
    import numpy as np
    from imblearn.over_sampling import SMOTE
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def test_forest(mlaudit):
        X, y = make_classification(n_samples=600, weights=[0.9], flip_y=0.05, random_state=0)
        mlaudit.imbalance(make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=20)),
                          X[:400], y[:400], X[400:], y[400:], resampler=SMOTE(), n_resamples=50)

    def test_user_seeded_sampler(mlaudit):
        X, y = make_classification(n_samples=600, weights=[0.9], flip_y=0.05, random_state=0)
        mlaudit.imbalance(RandomForestClassifier(n_estimators=20, random_state=7), X[:400], y[:400], X[400:], y[400:],
                          resampler=SMOTE(random_state=0), n_resamples=50)
'''


def without_timings(document):
    return [{key: value for key, value in audit.items() if key != "duration_s"} for audit in document["audits"]]


def run_twice(pytester, *args):
    pytester.makepyfile(test_unseeded=UNSEEDED_FOREST)
    documents = []
    for name in ("first.json", "second.json"):
        pytester.runpytest("-p", "no:cacheprovider", f"--mlaudit-json={name}", *args).assert_outcomes(passed=2)
        documents.append(json.loads((pytester.path / name).read_text()))
    return documents


def test_two_runs_of_an_unseeded_estimator_with_one_seed_give_identical_audits(pytester):
    first, second = run_twice(pytester, "--mlaudit-seed=3")
    assert without_timings(first) == without_timings(second)


def test_the_seed_the_audit_gave_each_unset_random_state_is_recorded(pytester):
    first, _ = run_twice(pytester)
    seeds = first["audits"][0]["params"]["seeds"]
    given = seeds["model"]["randomforestclassifier__random_state"]
    assert given["set_by"] == "mlaudit" and seeds["resampler"]["random_state"] == given


def test_a_random_state_the_user_set_is_kept_and_recorded_as_the_users(pytester):
    first, _ = run_twice(pytester)
    seeds = first["audits"][1]["params"]["seeds"]
    assert seeds == {"model": {"random_state": {"seed": 7, "set_by": "user"}},
                     "resampler": {"random_state": {"seed": 0, "set_by": "user"}}}


def test_another_run_seed_gives_the_unseeded_forest_another_seed(pytester):
    pytester.makepyfile(test_unseeded=UNSEEDED_FOREST)
    seeds = []
    for run_seed in (0, 1):
        pytester.runpytest("-p", "no:cacheprovider", f"--mlaudit-seed={run_seed}", f"--mlaudit-json={run_seed}.json",
                           "-k", "forest").assert_outcomes(passed=1)
        audit = json.loads((pytester.path / f"{run_seed}.json").read_text())["audits"][0]
        seeds.append(audit["params"]["seeds"]["model"]["randomforestclassifier__random_state"]["seed"])
    assert seeds[0] != seeds[1]
