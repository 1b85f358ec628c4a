"""The CNN of "Robust and Fair AI: Addressing Adversarial Attacks, Data Bias and Privacy
Challenges", and its training.

The paper's network for 32x32 CIFAR-10: four blocks Conv3x3 (3-64, 64-128, 128-256,
256-512) with BatchNorm, ReLU and 2x2 max-pooling, then dropout 0.5 and the fully
connected layers 2048-1024-512-10; Adam, lr 1e-3, batch 64, 10 epochs.

For 8x8 inputs (scikit-learn's digits, the embedded data) the same layers are kept
but the fourth block does not pool (8 -> 4 -> 2 -> 1 -> 1), so the first fully
connected layer takes 512 features instead of 2048: a documented variant, not the
paper's exact network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


def build_paper_cnn(in_channels: int = 3, image_size: int = 32, n_classes: int = 10) -> Any:
    import torch.nn as nn

    if image_size not in (8, 32):
        raise ValueError(f"image_size must be 32 (the paper's CIFAR-10 network) or 8 (the digits variant), got {image_size}")
    pools = (True, True, True, True) if image_size == 32 else (True, True, True, False)
    layers: list[nn.Module] = []
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


@dataclass(frozen=True)
class TrainingConfig:
    """The paper's training recipe (Adam, lr 1e-3, batch 64, 10 epochs)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_classifier(model: Any, X: Any, y: Any, config: TrainingConfig) -> Any:
    """Train ``model`` with Adam and cross-entropy; seeded initialisation-independent shuffling."""
    import numpy as np
    import torch

    generator = torch.Generator().manual_seed(config.seed)
    X_t, y_t = torch.as_tensor(np.asarray(X, dtype=np.float32)), torch.as_tensor(np.asarray(y, dtype=np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    model.train()
    for _epoch in range(config.epochs):
        order = torch.randperm(len(X_t), generator=generator)
        for start in range(0, len(order), config.batch_size):
            batch = order[start:start + config.batch_size]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X_t[batch]), y_t[batch])
            loss.backward()
            optimizer.step()
    model.eval()
    return model


def trained_digits_cnn(split: Any, config: TrainingConfig = TrainingConfig()) -> Any:
    """The paper's CNN (8x8 variant) trained on the digits split, through the weight cache."""
    import torch

    from pytest_mlaudit.validation import fingerprint

    from .cache import cached_weights

    torch.manual_seed(config.seed)
    model = build_paper_cnn(in_channels=1, image_size=8)
    fp = fingerprint(split.X_train, split.y_train)["sha256"]
    model, _ = cached_weights(model, "paper-cnn-digits", config.as_dict(), fp,
                              lambda m: train_classifier(m, split.X_train, split.y_train, config))
    return model.eval()
