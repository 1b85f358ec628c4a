"""The CIFAR-10 reproduction of the paper's experiment: its attack expressed in pixel space, the
JPEG-archive loader, and the training speed options."""

import importlib.util
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from extras import need

need("torch")

import torch
import torch.nn.functional as F

from reference_models.cifar10_paper import (CIFAR10_MEAN, CIFAR10_STD, NormalizedFGSM, cached_models,
                                            paper_attack_accuracy, paper_clamp, paper_clamp_bounds)
from reference_models.datasets import CIFAR10_CLASSES, ImageSplit, load_cifar10
from reference_models.paper_cnn import build_paper_cnn
from reference_models.training import Speed, TrainingConfig, train_classifier

CONVERTER = Path("/work/shared/data/cifar10/to_python_batches.py")
MEAN = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return build_paper_cnn(3, 8, 10, CIFAR10_MEAN, CIFAR10_STD).eval()


def images(n=16, side=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, side, side, generator=generator), torch.randint(0, 10, (n,), generator=generator)


def test_paper_attack_in_pixel_space_equals_the_papers_normalized_space_procedure():
    """FGSM on normalized images then clamp to [0, 1], as the paper wrote it, against our pixel-space form."""
    from pytest_mlaudit.adapters import TorchClassifier

    model = small_cnn()
    x, y = images()
    body = model[1:]
    z = ((x - MEAN) / STD).requires_grad_(True)
    F.cross_entropy(body(z), y, reduction="sum").backward()
    papers_logits = body(torch.clamp(z + 0.1 * z.grad.sign(), 0.0, 1.0)).detach()

    x_adv = NormalizedFGSM(0.1).generate(TorchClassifier(model), x, y, paper_clamp_bounds())
    with torch.no_grad():
        ours = model(x_adv)
    assert torch.allclose(ours, papers_logits, atol=1e-4)
    assert torch.equal(ours.argmax(1), papers_logits.argmax(1))


def test_the_papers_clamp_alone_keeps_each_channel_between_its_mean_and_mean_plus_std():
    x, _ = images()
    clamped = paper_clamp(x)
    assert torch.allclose((clamped - MEAN) / STD, torch.clamp((x - MEAN) / STD, 0.0, 1.0), atol=1e-6)
    assert float(clamped[:, 0].min()) == pytest.approx(0.4914) and float(clamped[:, 0].max()) == pytest.approx(0.6937)


def test_pixel_space_fgsm_moves_each_channel_by_eps_times_its_std():
    from pytest_mlaudit.adapters import TorchClassifier

    x = torch.full((4, 3, 8, 8), 0.5)
    y = torch.arange(4)
    x_adv = NormalizedFGSM(0.1).generate(TorchClassifier(small_cnn()), x, y, (torch.tensor(0.0), torch.tensor(1.0)))
    moved = (x_adv - x).abs().amax(dim=(0, 2, 3))
    assert torch.allclose(moved, 0.1 * torch.tensor(CIFAR10_STD), atol=1e-6)
    assert "eps" not in NormalizedFGSM(0.1).describe()  # no scalar eps for the sanity checks to misuse


def test_paper_attack_accuracy_counts_clean_clamped_and_attacked_images():
    model = small_cnn()
    x, y = images(40)
    with torch.no_grad():
        y = model(x).argmax(1)  # every image right when clean
    result = paper_attack_accuracy(model, x.numpy(), y.numpy())
    assert result.clean_accuracy.value == 1.0 and result.clean_accuracy.n == 40
    with torch.no_grad():
        clamp_right = int((model(paper_clamp(x)).argmax(1) == y).sum())
    assert result.clamp_only_accuracy.value == clamp_right / 40
    assert result.clamp_only_accuracy.low <= result.clamp_only_accuracy.value <= result.clamp_only_accuracy.high


def test_bf16_channels_last_training_returns_a_float32_contiguous_model_and_reports_an_eta():
    model = build_paper_cnn(3, 8, 10)
    x, y = images(32)
    lines = []
    train_classifier(model, x.numpy(), y.numpy(), TrainingConfig(epochs=1, batch_size=8), progress=lines.append,
                     speed=Speed(bf16=True, channels_last=True, log_every=2))
    assert [line for line in lines if "ETA" in line][0].startswith("training model: epoch 1/1 step 2/4")
    conv = model[1].weight
    assert conv.dtype == torch.float32 and conv.is_contiguous()
    assert not model.training


def test_cached_models_are_none_until_the_command_has_run(tmp_path, monkeypatch):
    monkeypatch.setenv("MLAUDIT_CACHE_DIR", str(tmp_path))
    x = np.zeros((2, 3, 32, 32), np.float32)
    split = ImageSplit(x, np.zeros(2, np.int64), x, np.zeros(2, np.int64), "two black images", CIFAR10_CLASSES)
    assert cached_models(split) == {}


def write_jpeg_tar(path, per_split=(6, 3), seed=0):
    """A miniature of cifar10-jpeg.tar.gz (PNG content, lossless); returns {member name: (image, label)}."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    written = {}
    with tarfile.open(path, "w:gz") as archive:
        for split, count in zip(("train", "test"), per_split):
            for i in range(count):
                cls = CIFAR10_CLASSES[(3 * i + 1) % 10]
                name = f"{split}/{cls}/{9 - i:04d}.jpg"
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                stream = io.BytesIO()
                Image.fromarray(pixels).save(stream, format="PNG")
                info = tarfile.TarInfo(name)
                info.size = stream.tell()
                stream.seek(0)
                archive.addfile(info, stream)
                written[name] = (pixels.transpose(2, 0, 1), CIFAR10_CLASSES.index(cls))
    return written


def test_jpeg_archive_loads_like_the_python_batches_in_the_converters_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MLAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    written = write_jpeg_tar(tmp_path / "cifar10-jpeg.tar.gz")
    split = load_cifar10(tmp_path)
    assert split.X_train.shape == (6, 3, 32, 32) and split.X_test.shape == (3, 3, 32, 32)
    train = {f"{CIFAR10_CLASSES[label]}_{name.rsplit('/', 1)[1]}": (image, label)
             for name, (image, label) in written.items() if name.startswith("train/")}
    names = sorted(train)
    expected = [names[i] for i in np.random.default_rng(20261123).permutation(len(names))]
    assert split.y_train.tolist() == [train[name][1] for name in expected]
    assert np.array_equal(np.rint(split.X_train * 255).astype(np.uint8), np.stack([train[name][0] for name in expected]))
    assert len(list((tmp_path / "cache").glob("cifar10-jpeg-*.npz"))) == 1


@pytest.mark.skipif(not CONVERTER.exists(), reason="the shared data's converter script is not on this machine")
def test_jpeg_archive_loader_agrees_with_the_shared_converter(tmp_path, monkeypatch):
    """Cross-check: the converter's own read and shuffle of the same archive give the same arrays."""
    monkeypatch.setenv("MLAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    write_jpeg_tar(tmp_path / "cifar10-jpeg.tar.gz", per_split=(7, 4), seed=1)
    spec = importlib.util.spec_from_file_location("to_python_batches", CONVERTER)
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)
    with tarfile.open(tmp_path / "cifar10-jpeg.tar.gz", "r|gz") as archive:
        splits = converter.read_all(archive)
    split = load_cifar10(tmp_path)
    for part, (X, y) in (("train", (split.X_train, split.y_train)), ("test", (split.X_test, split.y_test))):
        rows, labels, _ = converter.shuffled(*splits[part])
        assert np.array_equal(np.rint(X * 255).astype(np.uint8).reshape(len(X), -1), rows)
        assert y.tolist() == labels


def test_results_table_puts_the_papers_numbers_beside_ours_and_marks_a_missing_model():
    from reference_models.cifar10_paper import results_table

    estimate = {"value": 0.2, "low": 0.19, "high": 0.21}
    standard = dict.fromkeys(("clean", "paper_clamp_only", "paper_fgsm", "pixel_fgsm_equivalent", "fgsm_8_255",
                              "pgd20_8_255"), estimate)
    table = results_table({"standard": standard, "pgd": {"samples": 2000}})
    fgsm_row = [line for line in table.splitlines() if "as published" in line][0]
    assert fgsm_row.split(" | ")[1:] == ["20.00% [19.0%, 21.0%]", "22.38%", "not trained yet", "47.61% |"]
    assert "PGD-20 8/255 (2,000 images)" in table
