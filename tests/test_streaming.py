"""Streamed inputs: a DataLoader or any iterable of (X, y) batches audited in one pass, as the arrays would be."""

import numpy as np
import pandas as pd
import pytest
from extras import need

torch = need("torch")

import pytest_mlaudit as mla  # noqa: E402
from pytest_mlaudit import validation  # noqa: E402


@pytest.fixture(scope="module")
def model_and_data():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    X = np.random.default_rng(0).random((300, 6)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(X)).argmax(1).numpy()
    y[::7] = (y[::7] + 1) % 3  # some misclassified samples
    return model, X, y


def _audit(mlaudit, model, X, y=None, attack=None):
    return mlaudit.robustness(model, X, y, attack=attack or mla.PGD(eps=0.05, steps=5), clip=(0.0, 1.0),
                              batch_size=64)


def test_a_dataloader_gives_the_array_results_and_fingerprint(mlaudit, model_and_data):
    model, X, y = model_and_data
    whole = _audit(mlaudit, model, X, y)
    whole_record = mlaudit.records[-1]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
                                         batch_size=64)
    streamed = _audit(mlaudit, model, loader)
    record = mlaudit.records[-1]
    for name in ("clean_accuracy", "robust_accuracy", "attack_success_rate", "accuracy_drop"):
        assert getattr(streamed, name) == getattr(whole, name), name
    assert record.data == whole_record.data
    assert record.params["input"] == "stream of 5 batches" and record.params["n_samples"] == 300
    assert [c.name for c in record.checks] == [c.name for c in whole_record.checks]


def test_batches_of_any_sizes_give_the_same_fingerprint():
    X = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.arange(10) % 3
    running = validation.Fingerprint()
    for start, stop in ((0, 3), (3, 4), (4, 10)):
        running.update(X[start:stop], y[start:stop])
    assert running.describe() == validation.fingerprint(X, y)
    assert running.describe()["class_counts"] == {"0": 4, "1": 3, "2": 3}


def test_a_generator_of_dataframe_chunks_is_a_stream(mlaudit, model_and_data):
    model, X, y = model_and_data
    whole = _audit(mlaudit, model, X, y, mla.FGSM(eps=0.05))
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    chunks = ((frame.iloc[start:start + 100], pd.Series(y[start:start + 100])) for start in range(0, 300, 100))
    streamed = _audit(mlaudit, model, chunks, attack=mla.FGSM(eps=0.05))
    assert streamed.robust_accuracy == whole.robust_accuracy


def test_a_batch_outside_the_domain_is_refused_naming_it(mlaudit, model_and_data):
    model, X, y = model_and_data
    bad = X[64:128] + 2.0
    with pytest.raises(ValueError, match="batch 1 of X has 384 values outside the declared domain"):
        _audit(mlaudit, model, iter([(X[:64], y[:64]), (bad, y[64:128])]))


def test_a_batch_that_is_not_a_pair_is_refused(mlaudit, model_and_data):
    model, X, _ = model_and_data
    with pytest.raises(TypeError, match=r"batch 0 of X must be a pair \(X, y\)"):
        _audit(mlaudit, model, iter([X[:64]]))


def test_an_array_without_labels_is_refused(mlaudit, model_and_data):
    model, X, _ = model_and_data
    with pytest.raises(TypeError, match="y is required with an array X"):
        _audit(mlaudit, model, X)


def test_an_empty_stream_is_refused(mlaudit, model_and_data):
    model, _, _ = model_and_data
    with pytest.raises(ValueError, match="empty stream"):
        _audit(mlaudit, model, iter([]))


def test_a_dataframe_is_audited_as_its_values(mlaudit, model_and_data):
    model, X, y = model_and_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    assert _audit(mlaudit, model, frame, pd.Series(y)).robust_accuracy == _audit(mlaudit, model, X, y).robust_accuracy
