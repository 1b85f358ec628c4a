"""CIFAR-10 python batches are read without running code: a crafted pickle in the data directory is refused."""

import builtins
import importlib.util
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from reference_models.datasets import UnsafePickleError, read_cifar10_batch

SHARED_CIFAR10 = Path("/work/shared/data/cifar10")
CONVERTER = SHARED_CIFAR10 / "to_python_batches.py"


def genuine_batch(n=3, seed=0):
    """A batch as the original files hold one: bytes keys, uint8 rows, a list of int labels, protocol 2."""
    data = np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [i % 10 for i in range(n)]
    batch = {b"batch_label": b"testing batch 1 of 1", b"labels": labels, b"data": data,
             b"filenames": [f"image_{i}.png".encode() for i in range(n)]}
    return batch, pickle.dumps(batch, protocol=2)


class RunsCode:
    """Unpickling calls ``function(*arguments)``: what a crafted batch does."""

    def __init__(self, function, *arguments):
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return self.function, self.arguments


def crafted_batch(path, function, *arguments):
    data = np.zeros((1, 3072), np.uint8)
    path.write_bytes(pickle.dumps({b"data": data, b"labels": [0], b"payload": RunsCode(function, *arguments)},
                                  protocol=2))


def test_genuine_format_batch_loads(tmp_path):
    batch, content = genuine_batch()
    (tmp_path / "test_batch").write_bytes(content)
    images, labels = read_cifar10_batch(tmp_path / "test_batch")
    assert np.array_equal(images.reshape(3, -1), batch[b"data"]) and images.shape == (3, 3, 32, 32)
    assert labels.tolist() == [0, 1, 2]


def test_python2_numpy_core_name_of_the_original_files_loads(tmp_path):
    batch, content = genuine_batch()
    assert b"numpy._core.multiarray\n_reconstruct" in content  # protocol 2 names globals as text
    (tmp_path / "test_batch").write_bytes(content.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    images, _ = read_cifar10_batch(tmp_path / "test_batch")
    assert np.array_equal(images.reshape(3, -1), batch[b"data"])


def test_batch_calling_exec_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    crafted_batch(tmp_path / "data_batch_1", builtins.exec, f"open({str(marker)!r}, 'w').close()")
    with pytest.raises(UnsafePickleError) as refused:
        read_cifar10_batch(tmp_path / "data_batch_1")
    # protocol 2 spells builtins the Python 2 way
    assert str(refused.value).startswith(f"{tmp_path / 'data_batch_1'}: refused to load the global __builtin__.exec")
    assert not marker.exists()


def test_batch_calling_os_system_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    crafted_batch(tmp_path / "data_batch_1", os.system, f"touch {marker}")
    with pytest.raises(UnsafePickleError, match=rf"refused to load the global {os.name}\.system"):
        read_cifar10_batch(tmp_path / "data_batch_1")
    assert not marker.exists()


def test_codecs_encode_is_admitted_for_latin1_bytes_only(tmp_path):
    import _codecs

    crafted_batch(tmp_path / "batch", _codecs.encode, "payload", "rot13")
    with pytest.raises(ValueError, match="is not a CIFAR-10 batch.*is not how a pickle spells bytes"):
        read_cifar10_batch(tmp_path / "batch")


@pytest.mark.skipif(not CONVERTER.exists(), reason="the shared CIFAR-10 data is not on this machine")
def test_real_images_in_the_shared_converters_batch_format_load(tmp_path):
    """The first real test images, pickled by the shared data's own converter (str keys, protocol 2)."""
    spec = importlib.util.spec_from_file_location("to_python_batches", CONVERTER)
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)
    from PIL import Image

    rows, labels, names = [], [], []
    with tarfile.open(SHARED_CIFAR10 / "cifar10-jpeg.tar.gz", "r|gz") as archive:
        for member in archive:
            if member.isfile() and len(rows) < 50:
                _, cls, name = member.name.split("/")
                image = Image.open(io.BytesIO(archive.extractfile(member).read())).convert("RGB")
                rows.append(np.asarray(image, dtype=np.uint8).transpose(2, 0, 1).reshape(-1))
                labels.append(converter.CLASSES.index(cls))
                names.append(f"{cls}_{name}")
            if len(rows) == 50:
                break
    converter.dump(tmp_path / "test_batch", np.stack(rows), labels, names, "testing batch 1 of 1")
    images, read_labels = read_cifar10_batch(tmp_path / "test_batch")
    assert images.shape == (50, 3, 32, 32) and np.array_equal(images.reshape(50, -1), np.stack(rows))
    assert read_labels.tolist() == labels
