"""What a membership attacker reads from a model: the log-probability of each sample's
true label, and of all the other labels together.

From those two numbers come the loss (``-log p_y``, the loss-threshold attack) and the
logit-scaled confidence ``log(p_y / (1 - p_y))`` that LiRA fits Gaussians to. Both are
computed from log-probabilities (``log(1 - p_y)`` as the log-sum of the other classes,
never as ``1 - p_y``), so a confident model's scores keep their order instead of
rounding to the same 1.0.

Models: fitted scikit-learn-style classifiers (``predict_proba``, ``classes_``) and torch
modules returning class logits (through the classifier adapter).
"""

from __future__ import annotations

import numpy as np

from .. import validation
from ..adapters import _is_torch_module, as_classifier
from ..estimators import require_fitted

# Probabilities of exactly 0 (a fully grown tree) are floored here before the log.
SMALLEST_PROBABILITY = 1e-300


def true_label_log_probabilities(model, X, y, labels_name: str = "y", features_name: str = "X"):
    """``(log p_y, log(1 - p_y))`` of each sample under a fitted classifier or a torch module (float64 arrays)."""
    if _is_torch_module(model):
        import torch

        classifier = as_classifier(model, device="cpu")
        with classifier.audit_mode(), torch.no_grad():
            logits = applied(classifier.logits, torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32),
                             features_name)
        validation.check_labels_fit(y, logits.shape[1], labels_name)
        log_p = torch.log_softmax(logits.double(), dim=1).numpy()
        rows = np.arange(len(y))
        labels = np.asarray(y, dtype=np.int64)
    else:
        if not callable(getattr(model, "predict_proba", None)):
            raise TypeError(f"model must be a fitted classifier with predict_proba or a torch module returning logits, "
                            f"got {type(model).__name__}")
        require_fitted(model, "membership inference audits a trained model; fit it on X_train first")
        classes = np.asarray(model.classes_)
        validation.check_known_labels(y, classes, labels_name, "the model does not know")
        proba = np.asarray(applied(model.predict_proba, X, features_name), dtype=np.float64)
        log_p = np.clip(proba, SMALLEST_PROBABILITY, None)
        del proba
        np.log(log_p, out=log_p)
        rows = np.arange(len(y))
        labels = np.searchsorted(classes, y)
    log_true = log_p[rows, labels]
    log_p[rows, labels] = -np.inf  # the audit's own array: the other classes' log probabilities, in place
    log_rest = np.logaddexp.reduce(log_p, axis=1)
    return log_true, np.maximum(log_rest, np.log(SMALLEST_PROBABILITY))


def logit_confidence(model, X, y, labels_name: str = "y", features_name: str = "X"):
    """LiRA's statistic: ``log(p_y / (1 - p_y))`` of each sample's true label (Carlini et al. 2022, Sec. IV.C)."""
    log_true, log_rest = true_label_log_probabilities(model, X, y, labels_name, features_name)
    return log_true - log_rest


def applied(predict, X, features_name: str):
    """``predict(X)``; a model/data mismatch becomes one error naming the data argument."""
    try:
        return predict(X)
    except Exception as exc:
        raise ValueError(f"model could not be applied to {features_name} (samples of shape {tuple(X.shape[1:])}): "
                         f"{type(exc).__name__}: {exc}") from exc
