"""Fairness figures from per-group confusion counts: equal to fairlearn's, the same from chunks of a table."""

import numpy as np
import pandas as pd
import pytest
from extras import need

need("fairlearn")

from fairlearn import metrics as fm
from outside_pytest import as_a_script
from sklearn.metrics import precision_score

import pytest_mlaudit as mla


class RowPredictions:
    """A classifier predicting ``labels[i]`` for the row whose first feature is i (any chunk of the rows)."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def predict(self, X):
        return self.labels[np.asarray(X)[:, 0].astype(int)]


def _three_groups(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["north", "south", "west"]), n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < np.where(group == "west", 0.3, 0.5)).astype(np.int64)
    bias = np.select([group == "north", group == "south"], [0.1, -0.1], -0.2)
    predicted = np.where(rng.random(n) < 0.75 + bias * (2 * y - 1), y, 1 - y)
    X = np.c_[np.arange(n), rng.normal(size=(n, 2))]
    return X, y, group, predicted


def test_count_based_figures_equal_fairlearns_metric_frame_on_three_groups():
    X, y, group, predicted = _three_groups()
    result = mla.fairness(RowPredictions(predicted), X, y, sensitive_features=group, n_bootstrap=50)
    frame = fm.MetricFrame(
        metrics={"selection_rate": fm.selection_rate, "recall": fm.true_positive_rate,
                 "false_positive_rate": fm.false_positive_rate,
                 "precision": lambda t, p: precision_score(t, p, zero_division=0.0)},
        y_true=y, y_pred=predicted, sensitive_features=group)
    assert [g.group for g in result.groups] == ["north", "south", "west"]
    for metrics in result.groups:
        expected = frame.by_group.loc[metrics.group]
        assert metrics.size == int(np.count_nonzero(group == metrics.group))
        for key in ("selection_rate", "recall", "false_positive_rate", "precision"):
            assert getattr(metrics, key).value == pytest.approx(expected[key], abs=1e-12), (metrics.group, key)
    differences, ratios = frame.difference(method="between_groups"), frame.ratio(method="between_groups")
    assert result.demographic_parity_difference.value == pytest.approx(differences["selection_rate"], abs=1e-12)
    assert result.demographic_parity_ratio.value == pytest.approx(ratios["selection_rate"], abs=1e-12)
    assert result.equal_opportunity_difference.value == pytest.approx(differences["recall"], abs=1e-12)
    assert result.equalized_odds_difference.value == pytest.approx(
        fm.equalized_odds_difference(y, predicted, sensitive_features=group), abs=1e-12)
    assert result.demographic_parity_difference.value == pytest.approx(
        fm.demographic_parity_difference(y, predicted, sensitive_features=group), abs=1e-12)
    assert result.accuracy.value == pytest.approx(np.mean(predicted == y), abs=1e-12)


def test_count_based_figures_equal_fairlearns_for_intersections_of_two_features():
    X, y, group, predicted = _three_groups(seed=1)
    second = np.where(np.arange(len(y)) % 3 == 0, "young", "old")
    result = mla.fairness(RowPredictions(predicted), X, y, sensitive_features={"region": group, "age": second},
                          n_bootstrap=50)
    both = pd.DataFrame({"region": group, "age": second})
    assert result.demographic_parity_difference.value == pytest.approx(
        fm.demographic_parity_difference(y, predicted, sensitive_features=both), abs=1e-12)
    assert result.equalized_odds_difference.value == pytest.approx(
        fm.equalized_odds_difference(y, predicted, sensitive_features=both), abs=1e-12)
    (region, age) = result.by_feature
    assert region.demographic_parity_ratio.value == pytest.approx(
        fm.demographic_parity_ratio(y, predicted, sensitive_features=group), abs=1e-12)
    assert age.equal_opportunity_difference.value == pytest.approx(
        fm.equal_opportunity_difference(y, predicted, sensitive_features=second), abs=1e-12)


def _table(seed=2):
    X, y, group, predicted = _three_groups(n=1000, seed=seed)
    frame = pd.DataFrame({"row": X[:, 0], "f1": X[:, 1], "f2": X[:, 2], "hired": y, "region": group})
    return frame, RowPredictions(predicted)


def _chunks(frame, sizes):
    """``(X, y, sensitive_features)`` chunks of the table, cut at ``sizes``."""
    edges = np.cumsum([0, *sizes])
    for start, stop in zip(edges[:-1], edges[1:]):
        part = frame.iloc[start:stop]
        yield part[["row", "f1", "f2"]], part["hired"], part[["region"]]


def test_chunks_give_the_in_memory_result_and_fingerprint(mlaudit):
    frame, model = _table()
    whole = as_a_script(lambda: mla.fairness(model, frame[["row", "f1", "f2"]], frame["hired"],
                                             sensitive_features=frame[["region"]], n_bootstrap=200), seed=3)
    chunked = as_a_script(lambda: mla.fairness(model, _chunks(frame, [1, 300, 250, 449]), n_bootstrap=200), seed=3)
    assert chunked == whole
    mla.fairness(model, frame[["row", "f1", "f2"]], frame["hired"], sensitive_features=frame[["region"]])
    mla.fairness(model, _chunks(frame, [500, 500]))
    in_memory, from_chunks = mlaudit.records[-2:]
    assert from_chunks.data["sha256"] == in_memory.data["sha256"]
    assert from_chunks.data["shape"] == in_memory.data["shape"] == [1000, 3]
    assert from_chunks.params["confusion_counts"] == in_memory.params["confusion_counts"]
    assert from_chunks.params["input"] == "1,000 rows in chunks"


def test_chunks_read_from_a_csv_file_give_the_in_memory_result(tmp_path):
    frame, model = _table(seed=4)
    path = tmp_path / "applicants.csv"
    frame.to_csv(path, index=False)

    def from_csv():
        chunks = ((part[["row", "f1", "f2"]], part["hired"], part[["region"]])
                  for part in pd.read_csv(path, chunksize=128))
        return mla.assert_demographic_parity(model, chunks, at_most=0.5, n_bootstrap=100)

    whole = as_a_script(lambda: mla.assert_demographic_parity(
        model, frame[["row", "f1", "f2"]], frame["hired"], sensitive_features=frame[["region"]], at_most=0.5,
        n_bootstrap=100), seed=5)
    assert as_a_script(from_csv, seed=5) == whole


def test_a_chunk_that_is_not_a_triple_is_refused_naming_it():
    frame, model = _table()
    chunks = iter([(frame[["row"]], frame["hired"], frame[["region"]]), (frame[["row"]], frame["hired"])])
    with pytest.raises(TypeError, match=r"chunk 1 of X must be a triple \(X, y, sensitive_features\), got tuple of 2"):
        mla.fairness(model, chunks)


def test_chunks_with_other_sensitive_columns_are_refused():
    frame, model = _table()
    chunks = iter([(frame[["row"]][:10], frame["hired"][:10], frame[["region"]][:10]),
                   (frame[["row"]][10:], frame["hired"][10:], frame[["region", "f1"]][10:])])
    with pytest.raises(ValueError, match=r"sensitive_features of chunk 1 has columns \['region', 'f1'\], the first "
                                         r"chunk's \['region'\]"):
        mla.fairness(model, chunks)


def test_a_group_seen_in_one_chunk_only_is_counted():
    frame, model = _table()
    frame = frame.sort_values("region", kind="stable").reset_index(drop=True)  # each chunk one region
    whole = as_a_script(lambda: mla.fairness(model, frame[["row", "f1", "f2"]], frame["hired"],
                                             sensitive_features=frame["region"], n_bootstrap=50), seed=1)
    chunked = as_a_script(lambda: mla.fairness(model, _chunks(frame, [400] * 2 + [200]), n_bootstrap=50), seed=1)
    assert chunked == whole


def test_an_empty_iterable_of_chunks_is_refused():
    with pytest.raises(ValueError, match="X is an empty iterable of chunks"):
        mla.fairness(RowPredictions([1, 0]), iter([]))


def test_chunks_with_string_labels_give_the_in_memory_result():
    frame, model = _table(seed=6)
    labels = np.where(frame["hired"] == 1, ">50K", "<=50K")
    named = RowPredictions(np.where(model.labels == 1, ">50K", "<=50K"))
    whole = as_a_script(lambda: mla.fairness(named, frame[["row"]], labels, sensitive_features=frame["region"],
                                             positive_label=">50K", n_bootstrap=50), seed=2)
    chunks = ((frame[["row"]][i:i + 300], labels[i:i + 300], frame["region"][i:i + 300]) for i in range(0, 1000, 300))
    chunked = as_a_script(lambda: mla.fairness(named, chunks, positive_label=">50K", n_bootstrap=50), seed=2)
    assert chunked == whole
