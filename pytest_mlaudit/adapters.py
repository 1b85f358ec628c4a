"""Models behind one classifier interface: logits, input gradients, a description.

Audits never call a user's model directly: :func:`as_classifier` wraps it, asking
other plugins first (``pytest_mlaudit_adapt_model``), so that the attack code is
written once. torch is imported inside the functions: loading this module is free.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .records import jsonable
from .session import current_settings, plugin_hook


def resolve_device(device: str | None) -> str:
    """``auto`` means CUDA when torch sees a GPU, else the CPU."""
    import torch

    device = device or current_settings().device
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for, but torch sees no CUDA device")
    return device


class TorchClassifier:
    """A PyTorch module that maps inputs to class logits, seen by the audits.

    ``normalization=(mean, std)`` puts the normalization inside the classifier, so
    that attacks perturb and clip inputs in their own domain (pixels in [0, 1]),
    never in normalized units.
    """

    kind = "torch"

    def __init__(self, model: Any, device: str | None = None, normalization: tuple[Sequence[float], Sequence[float]] | None = None):
        import torch

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.device = torch.device(resolve_device(device))
        self.normalization = normalization
        self._mean = self._std = None
        if normalization is not None:
            self._mean, self._std = self._normalization_tensors(normalization)
        self.n_classes: int | None = None

    def _normalization_tensors(self, normalization):
        import torch

        try:
            mean, std = normalization
            mean = torch.as_tensor(mean, dtype=torch.float32, device=self.device).flatten()
            std = torch.as_tensor(std, dtype=torch.float32, device=self.device).flatten()
        except (TypeError, ValueError) as exc:
            raise TypeError(f"normalization must be a pair (mean, std) of numbers or sequences: {exc}") from None
        if mean.shape != std.shape:
            raise ValueError(f"normalization mean has {mean.numel()} values but std has {std.numel()}")
        if not torch.all(std > 0):
            raise ValueError("normalization std must be positive in every channel")
        return mean, std

    def _normalize(self, x):
        if self._mean is None:
            return x
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self._mean.numel() not in (1, x.shape[1]):
            raise ValueError(
                f"normalization has {self._mean.numel()} values but the input has {x.shape[1]} channels"
            )
        return (x - self._mean.view(shape)) / self._std.view(shape)

    def logits(self, x):
        return self.model(self._normalize(x))

    def loss_gradient(self, x, y):
        """Gradient of the summed cross-entropy with respect to the input (not the weights)."""
        import torch

        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = torch.nn.functional.cross_entropy(self.logits(x), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, x)
        return grad

    @contextmanager
    def audit_mode(self) -> Iterator[None]:
        """Evaluation mode for the audit; every submodule's own mode restored afterwards."""
        modes = [(module, module.training) for module in self.model.modules()]
        self.model.eval()
        try:
            yield
        finally:
            for module, training in modes:
                module.training = training

    def describe(self) -> dict[str, Any]:
        parameters = list(self.model.parameters())
        digest = hashlib.sha256()
        for tensor in self.model.state_dict().values():
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        summary = repr(self.model)
        return {
            "name": type(self.model).__name__,
            "kind": self.kind,
            "parameters": int(sum(p.numel() for p in parameters)),
            "trainable_parameters": int(sum(p.numel() for p in parameters if p.requires_grad)),
            "architecture": summary if len(summary) <= 4000 else summary[:4000] + "\n...",
            "normalization": None
            if self.normalization is None
            else {"mean": self._mean.tolist(), "std": self._std.tolist()},
            "fingerprint": digest.hexdigest()[:16],
        }


def as_classifier(model: Any, device: str | None = None, normalization=None):
    """The classifier adapter for ``model``: another plugin's, else the built-in one."""
    hook = plugin_hook()
    if hook is not None:
        adapted = hook.pytest_mlaudit_adapt_model(model=model, device=device)
        if adapted is not None:
            return adapted
    if _is_torch_module(model):
        return TorchClassifier(model, device=device, normalization=normalization)
    raise TypeError(
        f"model must be a torch.nn.Module returning class logits (or a type an installed "
        f"plugin adapts through pytest_mlaudit_adapt_model), got {type(model).__module__}.{type(model).__name__}"
    )


def _is_torch_module(model: Any) -> bool:
    """Without importing torch: a model can only be a torch module if torch is loaded."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def describe_model(model: Any) -> dict[str, Any]:
    """A JSON-native description of any model for the report's model card.

    torch modules are described by :class:`TorchClassifier`; estimators with
    ``get_params`` (scikit-learn, imbalanced-learn pipelines, diffprivlib, XGBoost's
    scikit-learn wrapper) by their class, library and parameters.
    """
    if _is_torch_module(model):
        return TorchClassifier(model, device="cpu").describe()
    library = type(model).__module__.split(".")[0]
    description: dict[str, Any] = {"name": type(model).__name__, "kind": library}
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        description["steps"] = [f"{name}: {type(step).__name__}" for name, step in steps]
        description["params"] = {name: _jsonable_params(step) for name, step in steps}
    elif hasattr(model, "get_params"):
        description["params"] = _jsonable_params(model)
    return description


def _jsonable_params(estimator: Any) -> dict[str, Any]:
    if not hasattr(estimator, "get_params"):
        return {}
    return {key: jsonable(value) for key, value in estimator.get_params(deep=False).items()}
