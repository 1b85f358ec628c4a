"""Loaders of the real data sets, on small files the tests write."""

import pickle

import numpy as np
import pytest

from reference_models.datasets import (CIFAR10_TEST_BATCH, CIFAR10_TRAIN_BATCHES, cifar10_dir,
                                       load_cifar10, read_cifar10_batch)


def write_cifar(root, per_batch=4, bytes_keys=True, seed=0):
    """A miniature CIFAR-10 in the python-batches layout; returns the images of every batch."""
    rng = np.random.default_rng(seed)
    directory = root / "cifar-10-batches-py"
    directory.mkdir(parents=True)
    written = {}
    for index, name in enumerate((*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [(index + i) % 10 for i in range(per_batch)]
        batch = {b"data": data, b"labels": labels} if bytes_keys else {"data": data, "labels": labels}
        with open(directory / name, "wb") as stream:
            pickle.dump(batch, stream, protocol=2)
        written[name] = (data, labels)
    return written


@pytest.mark.parametrize("bytes_keys", [True, False], ids=["original bytes keys", "str keys"])
def test_cifar_batches_read_as_channel_major_images(tmp_path, bytes_keys):
    written = write_cifar(tmp_path, bytes_keys=bytes_keys)
    images, labels = read_cifar10_batch(tmp_path / "cifar-10-batches-py" / "test_batch")
    data, expected_labels = written["test_batch"]
    assert images.shape == (4, 3, 32, 32) and images.dtype == np.uint8
    assert np.array_equal(images[1, 2].ravel(), data[1, 2048:])  # the blue plane is the last 1024 values
    assert labels.tolist() == expected_labels


def test_load_cifar10_scales_pixels_and_joins_the_five_training_batches(tmp_path):
    written = write_cifar(tmp_path)
    split = load_cifar10(tmp_path)
    assert split.X_train.shape == (20, 3, 32, 32) and split.X_test.shape == (4, 3, 32, 32)
    assert split.X_train.dtype == np.float32 and 0.0 <= split.X_train.min() and split.X_train.max() <= 1.0
    assert np.allclose(split.X_train[4].ravel() * 255, written["data_batch_2"][0][0])
    assert split.y_train[:4].tolist() == written["data_batch_1"][1]
    assert split.classes[0] == "airplane"


def test_load_cifar10_keeps_the_first_images_when_asked(tmp_path):
    write_cifar(tmp_path)
    split = load_cifar10(tmp_path, n_train=0, n_test=3)
    assert (len(split.X_train), len(split.X_test)) == (0, 3)


def test_the_batches_directory_itself_is_accepted(tmp_path):
    write_cifar(tmp_path)
    assert cifar10_dir(tmp_path / "cifar-10-batches-py") == cifar10_dir(tmp_path)


def test_a_directory_without_batches_is_refused_with_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="to_python_batches.py"):
        load_cifar10(tmp_path)


def test_a_batch_of_the_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "batch"
    with open(path, "wb") as stream:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, stream)
    with pytest.raises(ValueError, match=r"\(n, 3072\)"):
        read_cifar10_batch(path)


def test_creditcard_split_keeps_30_features_and_the_observed_range(tmp_path):
    from reference_models.creditcard import FEATURES
    from reference_models.fraudnet import creditcard_split

    rng = np.random.default_rng(0)
    rows = np.column_stack([rng.normal(size=(40, 30)), np.repeat([0, 1], 20)])
    lines = [",".join(["", *FEATURES, "Class"])] + [",".join([str(i), *map(str, row[:-1]), str(int(row[-1]))])
                                                    for i, row in enumerate(rows)]
    (tmp_path / "creditcard.csv").write_text("\n".join(lines) + "\n")
    split = creditcard_split(tmp_path / "creditcard.csv", seed=0)
    assert split.X_train.shape == (28, 30) and split.X_test.shape == (12, 30)
    assert np.allclose(split.bounds[0], rows[:, :-1].min(axis=0)) and np.allclose(split.bounds[1], rows[:, :-1].max(axis=0))


PROGRESS_TEST = """
from pytest_mlaudit.progress import terminal_writer

def test_trains(pytestconfig):
    report = terminal_writer(pytestconfig)
    if report is not None:
        report("epoch 1/1")
"""


def test_training_progress_reaches_the_terminal_past_capture(pytester):
    pytester.makepyfile(PROGRESS_TEST)
    assert "mlaudit: epoch 1/1" in pytester.runpytest_subprocess().stdout.str()


def test_training_progress_is_silent_under_quiet(pytester):
    pytester.makepyfile(PROGRESS_TEST)
    assert "epoch 1/1" not in pytester.runpytest_subprocess("-q").stdout.str()
