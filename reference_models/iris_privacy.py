"""The privacy experiment of "Robust and Fair AI": (DP) logistic regression on Iris.

The paper's set-up: Iris, setosa against the rest, a 70/30 split with
``random_state=42``, a StandardScaler fitted on the training split,
``LogisticRegression(max_iter=1000)`` and diffprivlib's
``LogisticRegression(epsilon, data_norm=2.0, max_iter=1000)`` at epsilon 10 and 60.

Why our numbers differ from the paper's. The paper reports 100% (non-private), 42%
at epsilon 10 and 84% at epsilon 60. 42% is exactly the share of setosa in the 45
test samples: at epsilon 10 its model predicted one class for everything. diffprivlib
0.6.6 (its PR #98, March 2025) rescaled the objective perturbation of
LogisticRegression to scikit-learn >= 1.4's 1/n-scaled loss; before, the noise term
and the extra regularization were scaled wrongly and added more noise than the
epsilon required. With the fix the same code is about 100% accurate at both epsilons,
and accuracy only falls below epsilon of about 3 (see :data:`CURVE_EPSILONS`).

``data_norm=2.0`` does not bound the standardized rows: their L2 norms reach 3.6 and
47% of the training rows are longer than 2.0. diffprivlib then clips (scales those
rows down to norm 2.0) before training: the epsilon guarantee still holds, because
clipping enforces the bound the noise is calibrated to, but the model learns from
shrunk rows (and is tested on unclipped ones). Reading the norm from the data
instead (``data_norm=None``) is the privacy leak diffprivlib warns about. Note also
that the paper's StandardScaler is fitted on the private training split without
noise, so its mean and standard deviation are released outside the accounted
epsilon; an honest pipeline scales with public constants or with diffprivlib's
StandardScaler given domain bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SOURCE = "Robust and Fair AI: Addressing Adversarial Attacks, Data Bias and Privacy Challenges (privacy experiment)"
PUBLISHED_ACCURACY = {"non-private": 1.00, 10.0: 0.42, 60.0: 0.84}
PAPER_EPSILONS = (10.0, 60.0)
CURVE_EPSILONS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 60.0)
DATA_NORM = 2.0


@dataclass(frozen=True)
class IrisSplit:
    """Standardized Iris features (scaler fitted on the training split), label 1 = setosa."""

    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any
    source: str


def load_iris_setosa(test_size: float = 0.3, random_state: int = 42) -> IrisSplit:
    """The paper's split: setosa against the rest, 70/30, standardized on the training split."""
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, target = load_iris(return_X_y=True)
    y = (target == 0).astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=random_state)
    scaler = StandardScaler().fit(X_train)
    return IrisSplit(scaler.transform(X_train), y_train, scaler.transform(X_test), y_test,
                     source="scikit-learn load_iris (Fisher 1936), setosa vs rest, StandardScaler on the training split")


def nonprivate_model():
    """The paper's non-private baseline (unfitted)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def dp_model(epsilon: float, seed: int, data_norm: float = DATA_NORM):
    """The paper's DP logistic regression (unfitted): a factory for ``dp_utility``."""
    from diffprivlib.models import LogisticRegression

    return LogisticRegression(epsilon=epsilon, data_norm=data_norm, max_iter=1000, random_state=seed)

