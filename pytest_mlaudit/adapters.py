"""Models behind one classifier interface: logits, input gradients, a description.

Audits never call a user's model directly: :func:`as_classifier` wraps it, asking
other plugins first (``pytest_mlaudit_adapt_model``), so that the attack code is
written once. torch is imported inside the functions: loading this module is free.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, runtime_checkable

from .records import jsonable
from .session import current_settings, plugin_hook


@runtime_checkable
class Classifier(Protocol):
    """The model adapter contract: every member the audits use on a classifier adapter.

    :class:`TorchClassifier` and its scikit-learn subclasses implement it; an adapter
    returned by another plugin's ``pytest_mlaudit_adapt_model`` must too. Tensors are
    torch tensors on ``device``.
    """

    kind: str  # "torch", "scikit-learn", "black-box", ...
    differentiable: bool  # False: no input gradients (logits_and_gradient raises TypeError)
    device: Any  # torch.device the inputs go to
    n_classes: int | None  # None when only the logits tell
    normalization: tuple[Sequence[float], Sequence[float]] | None  # (mean, std) as given

    @property
    def normalization_tensors(self) -> tuple[Any, Any] | None:
        """(mean, std) as flat float32 tensors on ``device``, or None without normalization."""
        ...

    def logits(self, x: Any) -> Any:
        """Class logits for inputs ``x`` (un-normalized, in the audit's domain)."""
        ...

    def loss_gradient(self, x: Any, y: Any) -> Any:
        """Gradient of the summed cross-entropy with respect to ``x``."""
        ...

    def logits_and_gradient(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Logits and input gradient from one forward and one backward pass."""
        ...

    def torch_module(self) -> Any:
        """The torch network mapping un-normalized inputs to logits (for ART), or None for a black box."""
        ...

    def audit_mode(self) -> AbstractContextManager[None]:
        """A context in which the model is in evaluation mode, restored afterwards."""
        ...

    def describe(self) -> dict[str, Any]:
        """A JSON-native description for the report's model card."""
        ...


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
    differentiable = True

    def __init__(self, model: Any, device: str | None = None, normalization: tuple[Sequence[float], Sequence[float]] | None = None,
                 output: int | str | Callable[[Any], Any] | None = None):
        import torch

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if output is not None and not (isinstance(output, (int, str)) or callable(output)) or isinstance(output, bool):
            raise TypeError(f"output must be an index (tuple output), a key (dict output) or a function of the "
                            f"model's output returning the logits, got {output!r}")
        self.model = model
        self.output = output
        self.device = torch.device(resolve_device(device))
        self.normalization = normalization
        self._mean = self._std = None
        if normalization is not None:
            self._mean, self._std = self._normalization_tensors(normalization)
        self.n_classes: int | None = None
        # the model runs in its own floating dtype (float64, bfloat16, float16): audit inputs are
        # float32 and are cast to it on the way in, the logits cast to float32 on the way out
        self.model_dtype = next((t.dtype for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()),
                                torch.float32)

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

    @property
    def normalization_tensors(self):
        """(mean, std) as flat float32 tensors on the device, or None without normalization."""
        return None if self._mean is None else (self._mean, self._std)

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
        import torch

        out = self._selected(self.model(self._normalize(x).to(self.model_dtype)))
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the model returned {type(out).__name__}, not a tensor of class logits")
        return out.float() if out.dtype != torch.float32 and out.is_floating_point() else out

    def _selected(self, out):
        """The logits among the model's outputs, as ``output=`` selects them."""
        import torch

        if self.output is None:
            if isinstance(out, (tuple, list)):
                raise TypeError(f"the model returned a {type(out).__name__} of {len(out)} outputs, not a tensor of "
                                f"logits: choose one with mla.as_classifier(model, output=<index>) and audit that")
            if isinstance(out, dict):
                raise TypeError(f"the model returned a dict with keys {sorted(map(str, out))}, not a tensor of "
                                f"logits: choose one with mla.as_classifier(model, output=<key>) and audit that")
            return out
        if callable(self.output):
            return self.output(out)
        try:
            return out[self.output]
        except (KeyError, IndexError, TypeError) as exc:
            what = f"keys {sorted(map(str, out))}" if isinstance(out, dict) else (
                f"{len(out)} outputs" if isinstance(out, (tuple, list)) else f"a {type(out).__name__}")
            if isinstance(out, torch.Tensor):
                what = "a single tensor (no output= needed)"
            raise TypeError(f"output={self.output!r} does not select an output of the model: it returned {what} "
                            f"({type(exc).__name__})") from None

    def loss_gradient(self, x, y):
        """Gradient of the summed cross-entropy with respect to the input (not the weights)."""
        return self.logits_and_gradient(x, y)[1]

    def logits_and_gradient(self, x, y):
        """The logits and the input gradient from one forward and one backward pass.

        Attacks that need the clean predictions as well as the gradient (an FGSM
        sweep) get both for the price of the gradient alone.
        """
        import torch

        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            logits = self.logits(x)
            loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, x)
        return logits.detach(), grad

    def torch_module(self):
        """The network that maps (un-normalized) inputs to logits, for ART's PyTorchClassifier."""
        return self.model

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
        import torch

        parameters = list(self.model.parameters())
        digest = hashlib.sha256()
        for tensor in self.model.state_dict().values():
            tensor = tensor.detach().cpu()
            if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds its values exactly
                tensor = tensor.float()
            digest.update(tensor.contiguous().numpy().tobytes())
        summary = repr(self.model)
        casts = {} if self.model_dtype == torch.float32 else {
            "dtype": str(self.model_dtype).removeprefix("torch."),
            "audit_cast": f"inputs cast from float32 to {str(self.model_dtype).removeprefix('torch.')} for the model, "
                          f"logits cast to float32 for the audit",
        }
        return {**casts,
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


def as_classifier(model: Any, device: str | None = None, normalization=None, name: str = "model",
                  output: int | str | Callable[[Any], Any] | None = None) -> Classifier:
    """The classifier adapter for ``model``: another plugin's, else the built-in one.

    ``name`` is the argument the model came in, for the errors (``model``, ``Transfer surrogate``).
    ``output`` selects the logits of a torch model returning several outputs: an index
    into a tuple, a key of a dict, or a function of the output; the adapter it returns
    can be given to any audit in place of the model. An adapter given as ``model`` is
    returned as it is.
    """
    if isinstance(model, TorchClassifier) or (not _is_torch_module(model) and isinstance(model, Classifier)):
        if normalization is not None or output is not None:
            raise TypeError(f"{name} is already a classifier adapter: give normalization= and output= to "
                            f"mla.as_classifier when making it")
        return model
    hook = plugin_hook()
    if hook is not None:
        adapted = hook.pytest_mlaudit_adapt_model(model=model, device=device)
        if adapted is not None:
            return adapted
    if _is_torch_module(model):
        return TorchClassifier(model, device=device, normalization=normalization, output=output)
    if output is not None:
        raise TypeError(f"output= selects among a torch model's outputs; {name} is a "
                        f"{type(model).__module__}.{type(model).__name__}")
    if callable(getattr(model, "fit", None)) and callable(getattr(model, "predict_proba", None)):
        from .estimators import require_fitted

        require_fitted(model, "audits attack a trained model; fit it first", name)
    if _is_logistic_regression(model):
        return LogisticRegressionClassifier(model, normalization=normalization)
    if callable(getattr(model, "predict_proba", None)) and hasattr(model, "classes_"):
        return ProbabilityClassifier(model, normalization=normalization)
    raise TypeError(
        f"{name} must be a torch.nn.Module returning class logits, a fitted scikit-learn LogisticRegression, "
        f"a fitted classifier with predict_proba (scikit-learn, XGBClassifier), or a type an installed plugin "
        f"adapts through pytest_mlaudit_adapt_model; got {type(model).__module__}.{type(model).__name__}"
    )


def _is_logistic_regression(model: Any) -> bool:
    linear_model = sys.modules.get("sklearn.linear_model")
    return linear_model is not None and isinstance(model, linear_model.LogisticRegression)


def _class_count(estimator: Any) -> int:
    """Classes of a fitted estimator; they must be 0..K-1 so that labels index the logits."""
    import numpy as np

    classes = np.asarray(getattr(estimator, "classes_", None))
    if classes.ndim != 1 or classes.size < 2:
        raise ValueError(f"{type(estimator).__name__} must be fitted on at least 2 classes before an audit")
    if not np.issubdtype(classes.dtype, np.integer) or not np.array_equal(classes, np.arange(classes.size)):
        raise ValueError(
            f"{type(estimator).__name__} was fitted on classes {classes.tolist()}; audits need integer labels "
            f"0..n_classes-1 (encode them, e.g. with sklearn.preprocessing.LabelEncoder)"
        )
    return int(classes.size)


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
    if isinstance(model, TorchClassifier):
        return model.describe()
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
        description["changed_params"] = _changed_params(model, description["params"])
    return description


def _changed_params(estimator: Any, params: dict[str, Any]) -> list[str]:
    """The parameters set away from the constructor's defaults (scikit-learn's convention), for a short name."""
    import inspect

    try:
        signature = inspect.signature(type(estimator).__init__)
    except (TypeError, ValueError):
        return sorted(params)
    changed = []
    for name, value in params.items():
        parameter = signature.parameters.get(name)
        if parameter is None or parameter.default is inspect.Parameter.empty or jsonable(parameter.default) != value:
            changed.append(name)
    return changed


def _jsonable_params(estimator: Any) -> dict[str, Any]:
    if not hasattr(estimator, "get_params"):
        return {}
    return {key: jsonable(value) for key, value in estimator.get_params(deep=False).items()}


class LogisticRegressionClassifier(TorchClassifier):
    """A fitted scikit-learn LogisticRegression, white-box: its logits in closed form.

    The linear decision function ``x @ coef_.T + intercept_`` becomes a torch
    ``Linear`` layer, so every gradient attack runs on it unchanged. The logits are
    chosen so that their softmax is ``predict_proba``: ``[0, z]`` for two classes,
    the decision function for multinomial models, ``log sigmoid`` of it for
    one-vs-rest models. Input gradients are therefore exact (the tests compare them
    with ART's ``ScikitlearnLogisticRegression``).
    """

    kind = "scikit-learn"

    def __init__(self, estimator: Any, normalization=None):
        self.estimator = estimator
        n_classes = _class_count(estimator)
        super().__init__(_torch_modules().linear_logits(estimator), device="cpu", normalization=normalization)
        self.n_classes = n_classes

    def describe(self) -> dict[str, Any]:
        network = super().describe()
        return {**describe_model(self.estimator), "gradients": "closed form (linear logits)",
                "fingerprint": network["fingerprint"], "normalization": network["normalization"]}


class ProbabilityClassifier(TorchClassifier):
    """A fitted classifier known only through ``predict_proba`` (XGBClassifier, forests, pipelines).

    Black-box: its logits are the log-probabilities (argmax and softmax agree with
    the model), and it has no input gradients, so only decision-based attacks
    (HopSkipJump), random noise and transfer attacks from a differentiable
    surrogate apply. Inputs go to the model as float32 numpy arrays on the CPU.
    """

    kind = "black-box"
    differentiable = False

    def __init__(self, estimator: Any, normalization=None):
        self.estimator = estimator
        n_classes = _class_count(estimator)
        super().__init__(_torch_modules().ProbabilityModule(estimator), device="cpu", normalization=normalization)
        self.n_classes = n_classes

    def logits_and_gradient(self, x, y):
        raise TypeError(
            f"{type(self.estimator).__name__} gives no input gradients: gradient attacks (FGSM, PGD, BIM, C&W, "
            f"DeepFool, Square) do not apply. Use a decision-based attack (HopSkipJump), RandomNoise, or "
            f"Transfer(attack, surrogate=<a differentiable model trained on the same task>)"
        )

    def torch_module(self):
        return None

    def describe(self) -> dict[str, Any]:
        return {**describe_model(self.estimator), "gradients": "none (black-box: predict_proba only)",
                "normalization": super().describe()["normalization"]}


@functools.lru_cache(maxsize=1)
def _torch_modules() -> Any:
    """The torch modules behind the scikit-learn adapters, defined on first use (torch imported here)."""
    import numpy as np
    import torch

    class PrependZero(torch.nn.Module):
        """``z -> [0, z]``: a binary model's one score as two logits (their softmax is sigmoid(z))."""

        def forward(self, z):
            return torch.cat([torch.zeros_like(z), z], dim=1)

    class ProbabilityModule(torch.nn.Module):
        """``log predict_proba`` as a (non-differentiable) torch module."""

        def __init__(self, estimator):
            super().__init__()
            self.estimator = estimator

        def forward(self, x):
            array = x.detach().cpu().numpy().reshape(len(x), -1).astype(np.float32)
            probabilities = torch.as_tensor(np.asarray(self.estimator.predict_proba(array)), dtype=torch.float32)
            return torch.log(probabilities.clamp_min(1e-12)).to(x.device)

    def linear_logits(estimator):
        coef = torch.as_tensor(np.asarray(estimator.coef_), dtype=torch.float32)
        layer = torch.nn.Linear(coef.shape[1], coef.shape[0])
        with torch.no_grad():
            layer.weight.copy_(coef)
            layer.bias.copy_(torch.as_tensor(np.asarray(estimator.intercept_), dtype=torch.float32))
        layer.requires_grad_(False)
        if coef.shape[0] == 1:
            return torch.nn.Sequential(layer, PrependZero())
        multi_class = getattr(estimator, "multi_class", "deprecated")
        one_vs_rest = multi_class == "ovr" or (multi_class in ("auto", "deprecated") and estimator.solver == "liblinear")
        return torch.nn.Sequential(layer, torch.nn.LogSigmoid()) if one_vs_rest else torch.nn.Sequential(layer)

    return types.SimpleNamespace(ProbabilityModule=ProbabilityModule, linear_logits=linear_logits)
