"""A digits classifier trained with Gaussian noise augmentation, for certification by randomized smoothing.

Randomized smoothing certifies the classifier ``g(x) = argmax_c P(f(x + delta) = c)``
with ``delta ~ N(0, sigma^2 I)``: it certifies much more when the base classifier
``f`` was trained on such noisy inputs (Cohen et al. 2019 train with the ``sigma``
they certify with). This is that recipe on scikit-learn's 8x8 digits: an MLP
(64-128-10) on flat pixels in [0, 1], each training batch with fresh Gaussian
noise of std ``SIGMA``, seeded; the weights go through :mod:`reference_models.cache`.
"""

from __future__ import annotations

from typing import Any

from .training import Progress, TrainingConfig, fit

SIGMA = 0.25
NOISE_TRAINING = TrainingConfig(epochs=20, batch_size=64, lr=1e-3)


def build_digits_mlp() -> Any:
    import torch.nn as nn

    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def noise_trained_digits_mlp(split: Any, seed: int = 0, sigma: float = SIGMA, *,
                             progress: Progress | None = None) -> Any:
    """The MLP trained on ``split``'s flat training pixels plus N(0, sigma^2) noise (through the cache), in eval mode."""
    import torch
    import torch.nn.functional as F

    from .cache import cached_weights, data_digest

    torch.manual_seed(seed)
    model = build_digits_mlp()
    X = split.X_train.reshape(len(split.X_train), -1)

    def train(module):
        noise = torch.Generator().manual_seed(seed + 1)

        def noisy_loss(network, xb, yb):
            return F.cross_entropy(network(xb + sigma * torch.randn(xb.shape, generator=noise)), yb)

        fit(module, X, split.y_train, noisy_loss, epochs=NOISE_TRAINING.epochs, batch_size=NOISE_TRAINING.batch_size,
            lr=NOISE_TRAINING.lr, seed=seed, progress=progress, label=f"digits MLP, Gaussian noise sigma={sigma:g}")

    config = {"training": {**NOISE_TRAINING.as_dict(), "seed": seed}, "sigma": sigma}
    model, _ = cached_weights(model, "digits-mlp-gaussian-noise", config, data_digest(X, split.y_train), train,
                              progress=progress)
    return model.eval()
