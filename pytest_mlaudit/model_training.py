"""Models that audits train or query themselves: poisoning audits retrain the model on
poisoned data, extraction audits train a thief.

- :func:`fit_with_factory` trains a model from a user's factory: an unfitted
  scikit-learn-style estimator (cloned, its unset ``random_state`` seeded) or a
  function ``(X, y, seed) -> fitted model`` (any library: torch, XGBoost, ...);
- :func:`predicted_labels` asks a fitted model for its labels: a torch module's argmax
  of the logits, in batches, in eval mode; anything else's ``predict``;
- :func:`seeded_global_rngs` runs library code that draws from numpy's and torch's
  global generators (ART's extraction attacks and poison detectors do) with a fixed seed,
  restoring the generators' state afterwards, so the audit is repeatable and the
  user's own random streams are left untouched.

scikit-learn, numpy and torch are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from .adapters import _is_torch_module
from .estimators import seeded_clone

PREDICT_BATCH = 512


def fit_with_factory(factory: Any, X: Any, y: Any, seed: int, name: str = "model_factory") -> Any:
    """A model fitted on ``(X, y)`` by ``factory``, repeatable from ``seed``."""
    if _is_torch_module(factory):
        raise TypeError(f"{name} must be a function (X, y, seed) -> fitted model, or an unfitted scikit-learn "
                        f"estimator; got a torch module ({type(factory).__name__}): wrap its training in a function")
    if callable(getattr(factory, "fit", None)):
        estimator, _ = seeded_clone(factory, seed)
        return estimator.fit(X, y)
    if not callable(factory):
        raise TypeError(f"{name} must be a function (X, y, seed) -> fitted model, or an unfitted scikit-learn "
                        f"estimator; got {type(factory).__name__}")
    model = factory(X, y, seed)
    if model is None:
        raise TypeError(f"{name} returned None: it must return the fitted model")
    return model


def describe_factory(factory: Any) -> str:
    """How the report names a factory: the estimator's repr, or the function's qualified name."""
    if callable(getattr(factory, "fit", None)):
        return repr(factory)[:200]
    return getattr(factory, "__qualname__", type(factory).__name__)


def predicted_labels(model: Any, X: Any, name: str = "model", features_name: str = "X") -> Any:
    """The labels ``model`` predicts for ``X`` (a numpy array of one label per row)."""
    import numpy as np

    if _is_torch_module(model):
        import torch

        from .adapters import as_classifier

        classifier = as_classifier(model, device="cpu", name=name)
        out = []
        with classifier.audit_mode(), torch.no_grad():
            for start in range(0, len(X), PREDICT_BATCH):
                batch = torch.as_tensor(np.ascontiguousarray(X[start:start + PREDICT_BATCH]), dtype=torch.float32)
                out.append(_applied(classifier.logits, batch, name, features_name, X).argmax(dim=1).numpy())
        return np.concatenate(out)
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"{name} must be a fitted classifier with predict, or a torch module returning logits; "
                        f"got {type(model).__name__}")
    labels = np.asarray(_applied(model.predict, X, name, features_name, X))
    if labels.ndim != 1 or len(labels) != len(X):
        raise ValueError(f"{name}.predict returned shape {labels.shape} for {len(X)} rows of {features_name}: "
                         "expected one label per row")
    return labels


def _applied(predict, X, name: str, features_name: str, whole: Any):
    try:
        return predict(X)
    except Exception as exc:
        raise ValueError(f"{name} could not be applied to {features_name} (samples of shape {tuple(whole.shape[1:])}): "
                         f"{type(exc).__name__}: {exc}") from exc


@contextlib.contextmanager
def seeded_global_rngs(seed: int) -> Iterator[None]:
    """numpy's and torch's global generators seeded with ``seed`` inside the block, restored after it."""
    import numpy as np

    numpy_state = np.random.get_state()
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")  # not imported yet: nothing in the block can have drawn from it before
    torch_state = None
    if torch is not None:
        torch_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(numpy_state)
        if torch_state is not None:
            torch.random.set_rng_state(torch_state)
