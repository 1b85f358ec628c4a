"""The CNN of "Robust and Fair AI: Addressing Adversarial Attacks, Data Bias and Privacy
Challenges", its training and its FGSM adversarial training.

The paper's network for 32x32 CIFAR-10: four blocks Conv3x3 (3-64, 64-128, 128-256,
256-512) with BatchNorm, ReLU and 2x2 max-pooling, then dropout 0.5 and the fully
connected layers 2048-1024-512-10; Adam, lr 1e-3, batch 64, 10 epochs. Adversarial
training: 10 more epochs on ``0.3 * clean + 0.7 * FGSM`` loss, StepLR (step 5, gamma
0.1), eps 0.1.

Here the first module is :class:`~reference_models.normalization.Normalize`, with the
training data's per-channel mean and std: the model takes pixels in [0, 1], and eps
0.1 is in pixel units. **The paper applied eps 0.1 to normalized images** (about
0.025 in pixels for CIFAR's std of 0.25) and then clamped the normalized images to
[0, 1]; that mistake is reproduced separately, in
:mod:`reference_models.cifar10_paper`. This module trains correctly
in pixel space.

For 8x8 inputs (scikit-learn's digits, the embedded data) the same layers are kept
but the fourth block does not pool (8 -> 4 -> 2 -> 1 -> 1), so the first fully
connected layer takes 512 features instead of 2048: a documented variant, not the
paper's exact network.

Trained weights go through :mod:`reference_models.cache`. The CIFAR-10 network is
trained by hand, never inside a test run, by the paper's protocol:
``python -m reference_models.cifar10_paper`` (see that module), whose weights the
real-data tier ``audits/test_paper_cifar10.py`` finds in the cache.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .training import AdversarialConfig, Progress, TrainingConfig, adversarial_training, train_classifier

PAPER_TRAINING = TrainingConfig(epochs=10, batch_size=64, lr=1e-3)
PAPER_ADVERSARIAL = AdversarialConfig(eps=0.1, epochs=10, batch_size=64, lr=1e-3, clean_weight=0.3, lr_step=5, lr_gamma=0.1)
PIXEL_DOMAIN = (0.0, 1.0)


def paper_recipe(seed: int = 0) -> tuple[TrainingConfig, AdversarialConfig]:
    """The paper's training and adversarial-training configurations with ``seed``."""
    return replace(PAPER_TRAINING, seed=seed), replace(PAPER_ADVERSARIAL, seed=seed)


def build_paper_cnn(in_channels: int = 3, image_size: int = 32, n_classes: int = 10,
                    mean: Any = None, std: Any = None) -> Any:
    """The paper's CNN behind a Normalize layer (``mean`` / ``std`` per channel; default 0 / 1)."""
    import torch.nn as nn

    from .normalization import Normalize

    if image_size not in (8, 32):
        raise ValueError(f"image_size must be 32 (the paper's CIFAR-10 network) or 8 (the digits variant), got {image_size}")
    mean = [0.0] * in_channels if mean is None else mean
    std = [1.0] * in_channels if std is None else std
    pools = (True, True, True, True) if image_size == 32 else (True, True, True, False)
    layers: list[nn.Module] = [Normalize(mean, std)]
    channels = (in_channels, 64, 128, 256, 512)
    for block, pool in enumerate(pools):
        layers += [nn.Conv2d(channels[block], channels[block + 1], 3, padding=1),
                   nn.BatchNorm2d(channels[block + 1]), nn.ReLU(inplace=True)]
        if pool:
            layers.append(nn.MaxPool2d(2))
    side = image_size // 2 ** sum(pools)
    flat = 512 * side * side
    return nn.Sequential(
        *layers,
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(flat, 1024), nn.ReLU(inplace=True),
        nn.Linear(1024, 512), nn.ReLU(inplace=True),
        nn.Linear(512, n_classes),
    )


def _untrained(split: Any, seed: int) -> Any:
    """The network for ``split``'s image shape, normalized with its training data's statistics."""
    import torch

    from .normalization import Normalize

    torch.manual_seed(seed)
    channels, side, _ = split.shape
    stats = Normalize.fit(split.X_train)
    return build_paper_cnn(channels, side, len(split.classes), stats.mean, stats.std)


def _cache_name(split: Any) -> str:
    return f"paper-cnn-{split.shape[1]}px"


def _data_fingerprint(split: Any) -> str:
    from .cache import data_digest

    return data_digest(split.X_train, split.y_train)


def trained_paper_cnn(split: Any, config: TrainingConfig = PAPER_TRAINING, *, progress: Progress | None = None,
                      data_fingerprint: str | None = None) -> Any:
    """The paper's CNN trained on ``split`` with the paper's recipe (CPU, one thread), through the weight cache.

    ``data_fingerprint`` is the training arrays' hash when the caller has it already.
    """
    from .cache import cached_weights

    model = _untrained(split, config.seed)
    label = f"paper CNN ({split.source})"
    model, _ = cached_weights(
        model, _cache_name(split), {"training": config.as_dict()}, data_fingerprint or _data_fingerprint(split),
        lambda m: train_classifier(m, split.X_train, split.y_train, config, progress=progress, label=label),
        progress=progress,
    )
    return model.eval()


def adversarially_trained_paper_cnn(split: Any, config: TrainingConfig = PAPER_TRAINING,
                                    adversarial: AdversarialConfig = PAPER_ADVERSARIAL, *,
                                    progress: Progress | None = None) -> Any:
    """The standard CNN of :func:`trained_paper_cnn` after the paper's FGSM adversarial training."""
    from .cache import cached_weights

    fingerprint = _data_fingerprint(split)
    model = _untrained(split, config.seed)
    label = f"paper CNN ({split.source})"

    def train(m):
        standard = trained_paper_cnn(split, config, progress=progress, data_fingerprint=fingerprint)
        m.load_state_dict(standard.state_dict())
        adversarial_training(m, split.X_train, split.y_train, adversarial, clip=PIXEL_DOMAIN, progress=progress,
                             label=label)

    model, _ = cached_weights(model, _cache_name(split) + "-fgsm-at",
                              {"training": config.as_dict(), "adversarial": adversarial.as_dict()}, fingerprint, train,
                              progress=progress)
    return model.eval()
