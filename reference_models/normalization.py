"""The normalization layer that puts a model's preprocessing inside the model.

The reference models take inputs in their own domain (pixels in [0, 1], raw
transaction features) and normalize them in their first layer, so an attack perturbs
and clips the inputs a user would feed, never normalized values (the paper clamped
*normalized* CIFAR images to [0, 1]; with the layer inside the model that mistake
cannot happen). Mean and std are buffers: saved in the state dict, never trained.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel (images, ``(n, C, H, W)``) or per feature (tables, ``(n, F)``)."""

    def __init__(self, mean: Any, std: Any):
        super().__init__()
        mean = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean.shape != std.shape:
            raise ValueError(f"Normalize: mean has {mean.numel()} values but std has {std.numel()}")
        if not torch.all(std > 0):
            raise ValueError("Normalize: std must be positive in every channel")
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    @classmethod
    def fit(cls, X: Any) -> Normalize:
        """Mean and std of training data, per channel (axis 1) over all other axes."""
        import numpy as np

        X = np.asarray(X, dtype=np.float64)
        axes = tuple(axis for axis in range(X.ndim) if axis != 1)
        std = X.std(axis=axes)
        return cls(X.mean(axis=axes), np.where(std > 0, std, 1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = [1, -1] + [1] * (x.dim() - 2)
        return (x - self.mean.view(shape)) / self.std.view(shape)

    def extra_repr(self) -> str:
        return f"channels={self.mean.numel()}"
