"""Data-sharded runs: k jobs each audit one block of rows; the report command pools them exactly."""

import dataclasses
import json as jsonlib

import numpy as np
import pytest
from extras import needs

import pytest_mlaudit as mla
from pytest_mlaudit.__main__ import main
from pytest_mlaudit.report import json
from pytest_mlaudit.report.shards import ShardMergeError
from pytest_mlaudit.stats import auc_interval

ROBUSTNESS_METRICS = ("clean_accuracy", "robust_accuracy", "attack_success_rate", "accuracy_drop")


def _data(n=403):
    rng = np.random.default_rng(0)
    X = rng.random((n, 4)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.random(n) > 0.65).astype(np.int64)
    return X, y


def _documents(mlaudit, run, shards):
    """One JSON document per job: the unsharded run, then each shard (as the k jobs would write them)."""
    documents = []
    for shard in [None, *((i, shards) for i in range(1, shards + 1))]:
        with mla.settings(shard=shard):
            run()
        record = dataclasses.replace(mlaudit.records[-1], index=0)  # each job runs the test once
        documents.append(json.build_document([record], environment={}))
    return documents[0], documents[1:]


def _robustness_run():
    from sklearn.linear_model import LogisticRegression

    X, y = _data()
    model = LogisticRegression().fit(X, y)
    return lambda: mla.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0),
                                              at_least=0.5, sanity_samples=0)


@needs("torch")
def test_four_shards_merge_into_exactly_the_single_run_counts_and_intervals(mlaudit):
    single, shards = _documents(mlaudit, _robustness_run(), 4)
    merged = json.merge(shards, [f"shard{i}.json" for i in range(1, 5)])
    (audit,) = merged["audits"]
    (whole,) = single["audits"]
    for name in ROBUSTNESS_METRICS:
        assert audit["metrics"][name] == whole["metrics"][name], name
    assert audit["metrics"]["robust_accuracy"]["counts"][1] == 403
    assert audit["gates"] == whole["gates"]
    assert audit["outcome"] == whole["outcome"] == "passed"
    assert audit["params"]["shard"]["merged"] == 4 and audit["params"]["shard_merge"]["not_pooled"] == {}


@needs("torch")
def test_each_shard_records_its_block_of_rows_and_the_fingerprint_of_all_of_them(mlaudit):
    _, shards = _documents(mlaudit, _robustness_run(), 4)
    blocks = [document["audits"][0]["params"]["shard"] for document in shards]
    assert [block["rows"] for block in blocks] == [[0, 100], [100, 201], [201, 302], [302, 403]]
    assert len({block["of_data"] for block in blocks}) == 1 and {block["of_rows"] for block in blocks} == {403}
    assert [document["audits"][0]["data"]["n"] for document in shards] == [100, 101, 101, 101]


@needs("imblearn")
def test_counted_imbalance_metrics_pool_and_bootstrap_ones_say_they_cannot(mlaudit):
    from sklearn.linear_model import LogisticRegression

    X, y = _data()
    model = LogisticRegression().fit(X + 0.01, y)
    single, shards = _documents(mlaudit, lambda: mla.imbalance(model, X_test=X, y_test=y, prefit=True,
                                                               n_resamples=50), 4)
    (audit,) = json.merge(shards, ["a", "b", "c", "d"])["audits"]
    for name in ("recall", "precision", "specificity", "test_positive_rate"):
        assert audit["metrics"][name] == single["audits"][0]["metrics"][name], name
    not_pooled = audit["params"]["shard_merge"]["not_pooled"]
    assert set(not_pooled) == {"f1", "pr_auc", "roc_auc", "balanced_accuracy", "g_mean"}
    assert not_pooled["f1"].startswith("bootstrap-percentile-stratified: the interval is not determined by counts")
    assert "f1" not in audit["metrics"] and "f1 [shard 3/4]" in audit["metrics"]


@needs("torch")
def test_a_missing_shard_is_refused(mlaudit):
    _, shards = _documents(mlaudit, _robustness_run(), 4)
    with pytest.raises(ShardMergeError, match=r"shard\(s\) 3/4 missing"):
        json.merge([shards[0], shards[1], shards[3]], ["a", "b", "d"])


@needs("torch")
def test_a_shard_given_twice_is_refused(mlaudit):
    _, shards = _documents(mlaudit, _robustness_run(), 4)
    with pytest.raises(ShardMergeError, match=r"shard\(s\) 2/4 appear in more than one report"):
        json.merge([shards[0], shards[1], shards[1], shards[2], shards[3]], list("abbcd"))


@needs("torch")
def test_shards_cut_from_different_data_are_refused(mlaudit):
    _, shards = _documents(mlaudit, _robustness_run(), 2)
    shards[1]["audits"][0]["params"]["shard"]["of_data"] = "0" * 16
    with pytest.raises(ShardMergeError, match="cut from different data"):
        json.merge(shards, ["a", "b"])


def test_given_shards_holding_the_same_data_are_refused():
    documents = []
    for index in (1, 2):
        with mla.audit("custom", "given shard", data=np.arange(10.0), shard=(index, 2)) as a:
            a.metric("rate", mla.proportion(3, 10))
        documents.append(json.build_document([dataclasses.replace(a._record, nodeid="t", index=0)], environment={}))
    with pytest.raises(ShardMergeError, match="shards 1/2 and 2/2 hold the same data"):
        json.merge(documents, ["a", "b"])


def test_given_shards_pool_their_proportions():
    documents = []
    for index, (k, n) in enumerate([(3, 10), (5, 20)], start=1):
        with mla.audit("custom", "given shard", data=np.arange(n, dtype=float) + 100 * index, shard=f"{index}/2") as a:
            a.metric("rate", mla.proportion(k, n))
            a.gate("rate", at_most=0.35)
        documents.append(json.build_document([dataclasses.replace(a._record, nodeid="t", index=0)], environment={}))
    (audit,) = json.merge(documents, ["a", "b"])["audits"]
    assert audit["metrics"]["rate"] == mla.proportion(8, 30).to_dict()
    assert audit["gates"][0]["value"] == pytest.approx(8 / 30) and audit["gates"][0]["passed"]
    assert audit["gates"][0]["high"] == mla.proportion(8, 30).high


@needs("torch")
def test_the_report_command_exits_2_naming_the_missing_shard(mlaudit, tmp_path, capsys):
    _, shards = _documents(mlaudit, _robustness_run(), 2)
    path = tmp_path / "shard1.json"
    path.write_text(jsonlib.dumps(shards[0]))
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(path), "--json", str(tmp_path / "merged.json")])
    assert exit_info.value.code == 2
    assert "shard(s) 2/2 missing" in capsys.readouterr().err


@pytest.mark.parametrize("given, message", [("0/4", "1 <= i <= k"), ("5/4", "1 <= i <= k"), ("2-4", "'i/k'")])
def test_a_bad_shard_setting_is_refused(given, message):
    with pytest.raises(ValueError, match=message):
        with mla.settings(shard=given):
            pass


def _jobs(run, shards):
    """One JSON document per CI job, each job a fresh run of one test (so the audit's seeds are the same in each)."""
    import contextvars

    from pytest_mlaudit.session import TestAudit, current_settings, open_test

    documents = []
    for shard in [None, *((i, shards) for i in range(1, shards + 1))]:
        def job():
            test = TestAudit("tests/test_ci.py::test_fairness", current_settings())
            open_test(test)
            with mla.settings(shard=shard):
                run()
            return test.records[-1]
        record = contextvars.Context().run(job)
        documents.append(json.build_document([record], environment={}))
    return documents[0], documents[1:]


def _fairness_run(gated: bool):
    from fairness_example import FixedPredictions

    rng = np.random.default_rng(1)
    n = 1203
    group = rng.choice(np.array(["a", "b", "c"]), n)
    y = (rng.random(n) < 0.4).astype(np.int64)
    predicted = np.where(rng.random(n) < np.select([group == "a", group == "b"], [0.8, 0.7], 0.6), y, 1 - y)
    X = np.arange(n).reshape(-1, 1)
    model = FixedPredictions(predicted)
    if gated:
        return lambda: mla.assert_demographic_parity(model, X, y, sensitive_features={"region": group}, at_most=0.2,
                                                     n_bootstrap=300)
    return lambda: mla.fairness(model, X, y, sensitive_features={"region": group, "parity": np.arange(n) % 2},
                                n_bootstrap=300)


@needs("fairlearn")
@pytest.mark.parametrize("gated", [True, False], ids=["gated", "two-features"])
def test_four_fairness_shards_merge_into_exactly_the_single_run_counts_intervals_and_gates(gated):
    single, shards = _jobs(_fairness_run(gated), 4)
    (audit,) = json.merge(shards, [f"shard{i}.json" for i in range(1, 5)])["audits"]
    (whole,) = single["audits"]
    assert [document["audits"][0]["params"]["shard"]["rows"] for document in shards] == \
        [[0, 300], [300, 601], [601, 902], [902, 1203]]
    assert audit["metrics"] == whole["metrics"]
    assert audit["gates"] == whole["gates"]
    assert audit["outcome"] == whole["outcome"]
    assert audit["params"]["confusion_counts"] == whole["params"]["confusion_counts"]
    assert audit["params"]["group_sizes"] == whole["params"]["group_sizes"]
    assert sum(whole["params"]["group_sizes"]) == 1203
    merge = audit["params"]["shard_merge"]
    assert merge["not_pooled"] == {} and "exactly the result of one run" in merge["recomputed_from_counts"]
    shard_intervals = {(d["audits"][0]["metrics"]["demographic_parity_difference"]["low"]) for d in shards}
    assert whole["metrics"]["demographic_parity_difference"]["low"] not in shard_intervals


def test_an_auc_is_kept_per_shard_and_the_merge_says_why():
    documents = []
    rng = np.random.default_rng(0)
    for index in (1, 2):
        members, holdout = rng.normal(0.3, 1.0, 50), rng.normal(0.0, 1.0, 50)
        with mla.audit("privacy", "membership inference", data=np.r_[members, holdout], shard=(index, 2)) as a:
            a.metric("auc", auc_interval(members, holdout))
        documents.append(json.build_document([dataclasses.replace(a._record, nodeid="t", index=0)], environment={}))
    (audit,) = json.merge(documents, ["a", "b"])["audits"]
    assert "auc" not in audit["metrics"] and {"auc [shard 1/2]", "auc [shard 2/2]"} <= set(audit["metrics"])
    assert audit["params"]["shard_merge"]["not_pooled"]["auc"].startswith(
        "delong: an AUC ranks every score of one shard against every score of the others")
