"""Tiny trained models and data for the robustness tests (seconds to train, cached per process).

Digits (scikit-learn's 8x8 images, pixels scaled to [0, 1]) as flat vectors or as
1x8x8 images, a 2-layer MLP and a small CNN trained on them, and a scikit-learn
logistic regression; all seeded.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def digits():
    """(X_train, y_train, X_test, y_test): flat float32 pixels in [0, 1], a fixed split."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = (data.data / 16.0).astype(np.float32)
    return X[:1200], data.target[:1200], X[1200:], data.target[1200:]


def _train(model, X, y, steps: int):
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()
    return model.eval()


@functools.cache
def digits_mlp():
    """64 -> 32 -> 10 MLP on flat digits (about 96% test accuracy)."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    X, y, _, _ = digits()
    return _train(model, X, y, steps=100)


@functools.cache
def digits_cnn():
    """A one-convolution CNN on 1x8x8 digit images."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10),
    )
    X, y, _, _ = digits()
    return _train(model, X.reshape(-1, 1, 8, 8), y, steps=60)


@functools.cache
def digits_logistic():
    from sklearn.linear_model import LogisticRegression

    X, y, _, _ = digits()
    return LogisticRegression(max_iter=300).fit(X, y)
