"""Attacks run through ART (adversarial-robustness-toolbox), with its estimator set up for the audit.

The estimator sees the model exactly as the native attacks do: logits (not
probabilities) with a cross-entropy loss, the audit's domain as ``clip_values``, the
classifier's ``normalization`` as ART's preprocessing (so ART perturbs raw inputs),
and the audit's device. A model without gradients (XGBoost, any ``predict_proba``
model) becomes an ART ``BlackBoxClassifier``: only the decision-based HopSkipJump and
the score-based Square attack apply to it.

Every ART parameter is set explicitly from the attack's fields; ART's defaults (eps
0.3, batch size 1 for C&W, ...) are not audit settings. ART draws its randomness from
numpy's global generator: it is seeded from the audit's generator for the call and
restored afterwards.

C&W and DeepFool search for the smallest perturbation, so their examples can be
arbitrarily large: with ``eps`` set, an example farther than ``eps`` (L2) from its
input is discarded (the sample counts as robust at that budget), which makes their
robust accuracy comparable with the eps-bounded attacks.

This module shares only :mod:`.geometry` with the native attacks of :mod:`.attacks`;
:mod:`.registry` names both. torch and ART are imported inside the functions that
use them (the ``robustness`` extra).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dependencies import load
from ..validation import positive_int, positive_number
from .geometry import budget, first_misclassified, norm_label, norm_name, perturbation_size, seeded_generator


def art_estimator(classifier: Any, x: Any, clip: tuple[Any, Any]) -> Any:
    """The ART classifier for ``classifier`` on inputs shaped like ``x`` in the domain ``clip``."""
    import torch

    low, high = (bound.detach().cpu().numpy().astype(np.float32) for bound in clip)
    clip_values = (float(low), float(high)) if low.ndim == 0 else (low, high)
    with torch.no_grad():
        n_classes = classifier.logits(x[:1]).shape[1]
    module = classifier.torch_module()
    if module is None:
        load("art", "robustness", "this ART-backed attack")
        from art.estimators.classification import BlackBoxClassifier

        def predict(array):
            with torch.no_grad():
                logits = classifier.logits(torch.as_tensor(array, dtype=torch.float32, device=classifier.device))
            return torch.softmax(logits, dim=1).cpu().numpy()

        return BlackBoxClassifier(predict, input_shape=tuple(x.shape[1:]), nb_classes=n_classes,
                                  clip_values=clip_values)

    load("art", "robustness", "this ART-backed attack")
    from art.estimators.classification import PyTorchClassifier

    preprocessing = None
    if classifier.normalization_tensors is not None:
        shape = [-1] + [1] * (x.dim() - 2)
        preprocessing = tuple(t.cpu().numpy().reshape(shape) for t in classifier.normalization_tensors)
    return PyTorchClassifier(
        model=_Float32Inputs(module),
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=tuple(x.shape[1:]),
        nb_classes=n_classes,
        clip_values=clip_values,
        preprocessing=preprocessing,
        channels_first=True,
        device_type="gpu" if classifier.device.type == "cuda" else "cpu",
    )


def _Float32Inputs(module: Any) -> Any:
    """``module`` fed float32: some ART attacks (HopSkipJump) hand the estimator float64 arrays."""
    import torch

    class Float32Inputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = module

        def forward(self, x):
            return self.module(x.float())

    return Float32Inputs()


@contextmanager
def numpy_seeded(generator: Any) -> Any:
    """Seed numpy's global generator (ART's source of randomness) from ``generator``; restore it after."""
    import torch

    seed = 0 if generator is None else int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _run_art(make: Any, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any,
             eps: float | None = None, norm: str = "2", **generate_kwargs: Any) -> Any:
    """Run the ART attack that ``make(estimator)`` builds; examples beyond ``eps`` fall back to ``x``."""
    import torch

    attack = make(art_estimator(classifier, x, clip))
    with numpy_seeded(generator):
        x_adv = attack.generate(x.detach().cpu().numpy().astype(np.float32), y=y.detach().cpu().numpy(),
                                **generate_kwargs)
    low, high = clip
    x_adv = torch.clamp(torch.as_tensor(x_adv, dtype=x.dtype, device=x.device), low, high)
    if eps is not None:
        too_far = perturbation_size(x_adv - x, norm) > eps * (1 + 1e-6)
        x_adv[too_far] = x[too_far]
    return x_adv


def _optional_eps(eps: float | None, name: str) -> None:
    if eps is not None:
        budget(eps, f"{name} eps")


@dataclass(frozen=True)
class CarliniWagnerParams:
    """The parameters of C&W-L2, validated once, for both implementations.

    :class:`ArtCarliniWagnerL2` (ART's ``CarliniL2Method``) is these parameters as they
    are; :class:`.cw.CarliniWagnerL2`, the native attack, adds ``implementation``.
    ``eps`` optionally bounds the examples in L2 (beyond it the sample counts as robust).
    """

    eps: float | None = None
    confidence: float = 0.0
    learning_rate: float = 0.01
    binary_search_steps: int = 5
    max_iter: int = 50
    initial_const: float = 0.1
    batch_size: int = 128

    def __post_init__(self) -> None:
        _optional_eps(self.eps, "CarliniWagnerL2")
        positive_number(self.confidence, "CarliniWagnerL2 confidence")
        positive_number(self.learning_rate, "CarliniWagnerL2 learning_rate", allow_zero=False)
        positive_int(self.binary_search_steps, "CarliniWagnerL2 binary_search_steps")
        positive_int(self.max_iter, "CarliniWagnerL2 max_iter")
        positive_number(self.initial_const, "CarliniWagnerL2 initial_const", allow_zero=False)
        positive_int(self.batch_size, "CarliniWagnerL2 batch_size")

    def describe(self) -> dict[str, Any]:
        return {"attack": "CarliniWagnerL2", "norm": "L2", "eps": self.eps, "confidence": self.confidence,
                "learning_rate": self.learning_rate, "binary_search_steps": self.binary_search_steps,
                "max_iter": self.max_iter, "initial_const": self.initial_const, "batch_size": self.batch_size,
                "targeted": False, "knowledge": "white-box", "implementation": "ART CarliniL2Method"}


def art_carlini_wagner_l2(params: CarliniWagnerParams, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any],
                          generator: Any = None) -> Any:
    """ART's ``CarliniL2Method`` with ``params``; examples beyond ``params.eps`` fall back to ``x``."""
    load("art", "robustness", "this ART-backed attack")
    from art.attacks.evasion import CarliniL2Method

    def make(estimator):
        return CarliniL2Method(estimator, confidence=params.confidence, targeted=False,
                               learning_rate=params.learning_rate, binary_search_steps=params.binary_search_steps,
                               max_iter=params.max_iter, initial_const=params.initial_const, max_halving=5,
                               max_doubling=5, batch_size=params.batch_size, verbose=False)

    return _run_art(make, classifier, x, y, clip, generator, params.eps, "2")


@dataclass(frozen=True)
class ArtCarliniWagnerL2(CarliniWagnerParams):
    """Carlini & Wagner's L2 attack through ART's ``CarliniL2Method`` (``CarliniWagnerL2(implementation="art")``)."""

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        return art_carlini_wagner_l2(self, classifier, x, y, clip, generator)


@dataclass(frozen=True)
class DeepFool:
    """DeepFool (Moosavi-Dezfooli et al. 2016, ART ``DeepFool``): minimal L2 steps to the nearest boundary."""

    eps: float | None = None
    max_iter: int = 50
    overshoot: float = 0.02
    nb_grads: int = 10
    batch_size: int = 128

    def __post_init__(self) -> None:
        _optional_eps(self.eps, "DeepFool")
        positive_int(self.max_iter, "DeepFool max_iter")
        positive_number(self.overshoot, "DeepFool overshoot")
        positive_int(self.nb_grads, "DeepFool nb_grads")
        positive_int(self.batch_size, "DeepFool batch_size")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        load("art", "robustness", "this ART-backed attack")
        from art.attacks.evasion import DeepFool as ArtDeepFool

        def make(estimator):
            return ArtDeepFool(estimator, max_iter=self.max_iter, epsilon=self.overshoot,
                               nb_grads=min(self.nb_grads, estimator.nb_classes), batch_size=self.batch_size,
                               verbose=False)

        return _run_art(make, classifier, x, y, clip, generator, self.eps, "2")

    def describe(self) -> dict[str, Any]:
        return {"attack": "DeepFool", "norm": "L2", "eps": self.eps, "max_iter": self.max_iter,
                "overshoot": self.overshoot, "nb_grads": self.nb_grads, "batch_size": self.batch_size,
                "targeted": False, "knowledge": "white-box", "implementation": "ART DeepFool"}


@dataclass(frozen=True)
class HopSkipJump:
    """HopSkipJump (Chen et al. 2020, ART ``HopSkipJump``): decision-based, needs only predicted labels.

    Works on any model, XGBoost included. ``eps`` bounds the examples in ``norm``.
    """

    eps: float | None = None
    norm: str = "2"
    max_iter: int = 20
    max_eval: int = 1000
    init_eval: int = 100
    init_size: int = 100
    batch_size: int = 64

    def __post_init__(self) -> None:
        _optional_eps(self.eps, "HopSkipJump")
        object.__setattr__(self, "norm", norm_name(self.norm))
        for name in ("max_iter", "max_eval", "init_eval", "init_size", "batch_size"):
            positive_int(getattr(self, name), f"HopSkipJump {name}")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        load("art", "robustness", "this ART-backed attack")
        from art.attacks.evasion import HopSkipJump as ArtHopSkipJump

        def make(estimator):
            return ArtHopSkipJump(estimator, batch_size=self.batch_size, targeted=False,
                                  norm=np.inf if self.norm == "inf" else 2, max_iter=self.max_iter,
                                  max_eval=self.max_eval, init_eval=self.init_eval, init_size=self.init_size,
                                  verbose=False)

        start = self.starting_points(classifier, x, y, clip, generator)
        return _run_art(make, classifier, x, y, clip, generator, self.eps, self.norm,
                        x_adv_init=start.detach().cpu().numpy())

    def starting_points(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any) -> Any:
        """Seeded uniform points of the domain that the model misclassifies (up to ``init_size`` draws).

        ART draws these from an unseeded ``np.random.RandomState()``; drawn here, the
        attack is reproducible. A sample with no misclassified draw keeps ``x`` and
        ART searches from scratch for it.
        """
        import torch

        generator = seeded_generator(generator)
        low, high = clip

        def draw(points):
            return low + (high - low) * torch.rand(points.shape, generator=generator).to(points.device)

        return first_misclassified(classifier, x, y, self.init_size, draw)

    def describe(self) -> dict[str, Any]:
        return {"attack": "HopSkipJump", "norm": norm_label(self.norm), "eps": self.eps, "max_iter": self.max_iter,
                "max_eval": self.max_eval, "init_eval": self.init_eval, "init_size": self.init_size,
                "batch_size": self.batch_size, "targeted": False, "knowledge": "black-box",
                "implementation": "ART HopSkipJump"}


@dataclass(frozen=True)
class Square:
    """Square attack (Andriushchenko et al. 2020, ART ``SquareAttack``): score-based black-box, eps-bounded.

    For images only (ART's implementation perturbs square patches of channels-first images).
    """

    eps: float
    norm: str = "inf"
    max_iter: int = 200
    p_init: float = 0.8
    restarts: int = 1
    batch_size: int = 128

    def __post_init__(self) -> None:
        budget(self.eps, "Square eps")
        object.__setattr__(self, "norm", norm_name(self.norm))
        positive_int(self.max_iter, "Square max_iter")
        if positive_number(self.p_init, "Square p_init", allow_zero=False) > 1:
            raise ValueError(f"Square p_init must be at most 1 (the initial fraction of the image a square covers), "
                             f"got {self.p_init!r}")
        positive_int(self.restarts, "Square restarts")
        positive_int(self.batch_size, "Square batch_size")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        load("art", "robustness", "this ART-backed attack")
        from art.attacks.evasion import SquareAttack

        if x.dim() != 4:
            raise ValueError(
                f"Square attacks images of shape (batch, channels, height, width); got inputs of shape "
                f"{tuple(x.shape)}. For tabular data use HopSkipJump or a Transfer attack"
            )
        def make(estimator):
            return SquareAttack(estimator, norm=np.inf if self.norm == "inf" else 2, max_iter=self.max_iter,
                                eps=self.eps, p_init=self.p_init, nb_restarts=self.restarts,
                                batch_size=self.batch_size, verbose=False)

        return _run_art(make, classifier, x, y, clip, generator, self.eps, self.norm)

    def describe(self) -> dict[str, Any]:
        return {"attack": "Square", "norm": norm_label(self.norm), "eps": self.eps, "max_iter": self.max_iter,
                "p_init": self.p_init, "restarts": self.restarts, "batch_size": self.batch_size,
                "targeted": False, "knowledge": "black-box", "implementation": "ART SquareAttack"}
