"""FraudNet: the fraud-detection MLP of the FraudNet study, standard and secured.

The study's network: in -> 32 -> 16 -> 2 with ReLU, Adam lr 0.01, batch 64, 25
epochs, on standardized features; attacked with FGSM (ART) and secured by
adversarial training in FGSM rounds at eps 0.1, 0.25, 0.35, 0.5. It reports about
98% clean accuracy, 15-20% under FGSM at eps 0.35 for the standard model and 85-92%
for the secured one.

**Standardization is the model's first layer** (:class:`FraudNet.standardize`, the
training data's mean and std), so the model takes raw transactions.

**Units of eps.** The study's eps is in standardized units (it attacked the scaled
features), and so is ours: eps 0.35 moves feature j by at most 0.35 * std_j in raw
units (e.g. 0.35 of a standard deviation of the amount), clipped to each feature's
declared raw bounds. One eps in raw units would be meaningless across features in
dollars, days and counts. :func:`standardized_domain` gives what the audit attacks:
the network behind the standardization, the standardized inputs and the
standardized bounds. Because standardization is a per-feature increasing affine
map, FGSM there is exactly FGSM in the raw domain with the per-feature budget
eps * std_j and the raw bounds (the tests check this).

**Threat model, honestly.** Like the study, the attack treats every feature as
continuous: it may move a bounced-check count or a signature-match score by a
fraction. Real attackers control fewer features, in discrete steps; the audit
measures the study's threat model, not a realistic fraudster.

**Embedded data.** :func:`generate_transactions`: seeded synthetic bank transactions
with five features (see :data:`FEATURES`), the riskiest 20% by :func:`risk_score`
labelled fraud. The real-data tier uses the Kaggle ``creditcard.csv`` layout
(:mod:`reference_models.creditcard`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from .normalization import Normalize
from .training import AdversarialConfig, Progress, TrainingConfig, adversarial_training, train_classifier

FEATURES = ("amount", "account_age_days", "bounced_checks", "distance_km", "signature_match")
# Declared raw domain of each feature (the generator stays inside it): dollars, days, count, km, score.
BOUNDS = ((0.0, 20_000.0), (0.0, 3_650.0), (0.0, 10.0), (0.0, 5_000.0), (0.0, 1.0))
FRAUD_RATE = 0.2

FRAUDNET_TRAINING = TrainingConfig(epochs=25, batch_size=64, lr=0.01)
SECURING_EPS = (0.1, 0.25, 0.35, 0.5)
# One FGSM round per eps, on the standard model's weights: 5 epochs each (our choice;
# the study gives the rounds, not their length), half clean half adversarial loss.
SECURING_ROUND = AdversarialConfig(eps=0.1, epochs=5, batch_size=64, lr=0.01, clean_weight=0.5, lr_step=None)


@dataclass(frozen=True)
class TabularSplit:
    """Raw features and binary labels, train and test, with the declared per-feature domain."""

    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any
    feature_names: tuple[str, ...]
    bounds: tuple[Any, Any]  # (low, high), one value per feature, raw units
    source: str


def risk_score(X: Any) -> Any:
    """The composite fraud risk of the generated transactions (higher is riskier).

    ``z(log1p amount) - z(log1p account age) + z(bounced checks) + z(log1p distance)
    - 2 z(signature match)``, each z-score over the data set: large amounts, young
    accounts, bounced checks, far from home and a poor signature match are risky; the
    signature counts double.
    """
    import numpy as np

    X = np.asarray(X, dtype=np.float64)
    columns = (np.log1p(X[:, 0]), np.log1p(X[:, 1]), X[:, 2], np.log1p(X[:, 3]), X[:, 4])
    z = [(c - c.mean()) / c.std() for c in columns]
    return z[0] - z[1] + z[2] + z[3] - 2.0 * z[4]


def generate_transactions(n: int = 6000, seed: int = 0) -> tuple[Any, Any]:
    """``n`` synthetic transactions ``(X, y)``: exactly ``round(0.2 n)`` labelled fraud.

    amount ~ lognormal (median $90), account age ~ exponential (mean 2 years), bounced
    checks ~ Poisson(0.3), distance from home ~ lognormal (median 12 km), signature
    match ~ Beta(8, 2); each clipped to :data:`BOUNDS`. Labels: the ``round(0.2 n)``
    highest :func:`risk_score` values are fraud (1).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.lognormal(np.log(90.0), 1.0, n),
        rng.exponential(730.0, n),
        rng.poisson(0.3, n).astype(np.float64),
        rng.lognormal(np.log(12.0), 1.2, n),
        rng.beta(8.0, 2.0, n),
    ])
    low, high = np.array(BOUNDS).T
    X = np.clip(X, low, high).astype(np.float32)
    y = np.zeros(n, dtype=np.int64)
    y[np.argsort(-risk_score(X), kind="stable")[:round(FRAUD_RATE * n)]] = 1
    return X, y


def transactions_split(n: int = 6000, seed: int = 0, test_size: float = 0.3) -> TabularSplit:
    """The embedded FraudNet data: :func:`generate_transactions`, split stratified 70 / 30."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    X, y = generate_transactions(n, seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    low, high = np.array(BOUNDS, dtype=np.float32).T
    return TabularSplit(X_train, y_train, X_test, y_test, FEATURES, (low, high),
                        source=f"generated bank transactions (n={n}, seed={seed}, 20% fraud)")


def creditcard_split(path: Any, seed: int = 0, test_size: float = 0.3) -> TabularSplit:
    """The Kaggle credit-card data as a FraudNet split; its domain is each feature's observed range."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from .creditcard import load_creditcard

    data = load_creditcard(path)
    X = data.X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, data.y, test_size=test_size, random_state=seed, stratify=data.y)
    return TabularSplit(X_train, y_train, X_test, y_test, data.feature_names, (X.min(axis=0), X.max(axis=0)),
                        source=f"Kaggle creditcard layout ({data.source})")


class FraudNet(nn.Module):
    """Standardization, then in -> 32 -> 16 -> 2 with ReLU; takes raw features, returns logits."""

    def __init__(self, mean: Any, std: Any):
        super().__init__()
        self.standardize = Normalize(mean, std)
        n_features = self.standardize.mean.numel()
        self.network = nn.Sequential(nn.Linear(n_features, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 2))

    @classmethod
    def for_data(cls, X_train: Any) -> FraudNet:
        stats = Normalize.fit(X_train)
        return cls(stats.mean, stats.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(self.standardize(x))


def standardized_domain(model: FraudNet, X: Any, bounds: tuple[Any, Any]) -> tuple[Any, Any, tuple[Any, Any]]:
    """``(network, X_std, (low_std, high_std))``: what an attack with eps in standardized units works on."""
    import numpy as np

    mean, std = model.standardize.mean.numpy(), model.standardize.std.numpy()

    def scale(values):
        return ((np.asarray(values, dtype=np.float32) - mean) / std).astype(np.float32)

    return model.network, scale(X), (scale(bounds[0]), scale(bounds[1]))


def _fingerprint(split: TabularSplit) -> str:
    from .cache import data_digest

    return data_digest(split.X_train, split.y_train)


def trained_fraudnet(split: TabularSplit, seed: int = 0, *, progress: Progress | None = None) -> FraudNet:
    """FraudNet trained on ``split`` with the study's recipe, through the weight cache."""
    from .cache import cached_weights

    config = replace(FRAUDNET_TRAINING, seed=seed)
    torch.manual_seed(seed)
    model = FraudNet.for_data(split.X_train)

    def train(m):
        network, X_std, _ = standardized_domain(m, split.X_train, split.bounds)
        train_classifier(network, X_std, split.y_train, config, progress=progress, label="FraudNet")

    model, _ = cached_weights(model, f"fraudnet-{len(split.feature_names)}f", {"training": config.as_dict()},
                              _fingerprint(split), train, progress=progress)
    return model.eval()


def secured_fraudnet(split: TabularSplit, seed: int = 0, *, progress: Progress | None = None) -> FraudNet:
    """The standard FraudNet after adversarial training in FGSM rounds at :data:`SECURING_EPS`.

    Each round crafts examples against the current model at that round's eps (in
    standardized units, clipped to the standardized bounds).
    """
    from .cache import cached_weights

    config = replace(FRAUDNET_TRAINING, seed=seed)
    rounds = [replace(SECURING_ROUND, eps=eps, seed=seed + index) for index, eps in enumerate(SECURING_EPS)]
    model = FraudNet.for_data(split.X_train)

    def train(m):
        m.load_state_dict(trained_fraudnet(split, seed, progress=progress).state_dict())
        network, X_std, clip = standardized_domain(m, split.X_train, split.bounds)
        for round_config in rounds:
            adversarial_training(network, X_std, split.y_train, round_config, clip=clip, progress=progress,
                                 label="FraudNet")

    model, _ = cached_weights(model, f"fraudnet-{len(split.feature_names)}f-secured",
                              {"training": config.as_dict(), "rounds": [r.as_dict() for r in rounds]},
                              _fingerprint(split), train, progress=progress)
    return model.eval()
