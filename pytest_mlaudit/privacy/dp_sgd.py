"""DP-SGD for torch models with Opacus, as a DP estimator the privacy audits take.

:class:`DPSGDClassifier` trains a torch module with Opacus' ``PrivacyEngine`` to a
target (epsilon, delta): Opacus picks the noise multiplier for the sampling rate
(``batch_size / n``, Poisson sampling) and the number of steps, clips each sample's
gradient to ``max_grad_norm`` and accounts the spend. It has fit / predict /
predict_proba and an ``epsilon`` parameter, so it is a factory's product for
:func:`~pytest_mlaudit.dp_utility` and :func:`~pytest_mlaudit.assert_dp_accuracy_floor`::

    def dp_fraudnet(epsilon, seed):          # the factory form: (epsilon, seed) -> unfitted model
        return mla.DPSGDClassifier(lambda n_features, n_classes: MyNet(n_features, n_classes),
                                   epsilon=epsilon, delta=1e-5, epochs=5, batch_size=256,
                                   max_grad_norm=1.0, lr=0.5, random_state=seed)

After ``fit`` it states its accounting the way the privacy family reads any model's
(:func:`~pytest_mlaudit.privacy.training.stated_accounting`): ``epsilon_`` (the epsilon
Opacus' accountant computed for the training actually run, at most the target),
``delta_``, ``accountant_``, and ``accounting_``, the numbers the report shows
(accountant, noise multiplier, clipping norm, sampling rate, steps, epochs).

The module is built by ``module(n_features, n_classes)``, so that each fit starts from
fresh weights (seeded by ``random_state``). Anything it computes from the training
data (a standardization's mean and std, say) is released outside the accounted
epsilon: build it from public knowledge of the features' ranges.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .. import validation
from ..dependencies import load


class DPSGDClassifier(ClassifierMixin, BaseEstimator):
    """A torch classifier trained by DP-SGD (Opacus ``PrivacyEngine.make_private_with_epsilon``).

    ``module(n_features, n_classes)`` returns the network (logits out); ``epsilon``,
    ``delta`` the privacy target; ``epochs``, ``batch_size`` (expected batch, Poisson
    sampled), ``lr`` (plain SGD) and ``max_grad_norm`` (per-sample clipping norm) the
    recipe; ``accountant`` Opacus' accountant (``"rdp"``, ``"prv"`` or ``"gdp"``).
    """

    def __init__(self, module: Callable | None = None, *, epsilon: float = 1.0, delta: float = 1e-5, epochs: int = 5,
                 batch_size: int = 64, lr: float = 0.1, max_grad_norm: float = 1.0, accountant: str = "rdp",
                 random_state: int | None = None):
        self.module = module
        self.epsilon = epsilon
        self.delta = delta
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.max_grad_norm = max_grad_norm
        self.accountant = accountant
        self.random_state = random_state

    def fit(self, X, y):
        load("torch", "robustness", "DPSGDClassifier")
        load("opacus", "privacy", "DPSGDClassifier")
        import torch
        from opacus import PrivacyEngine

        if not callable(self.module):
            raise TypeError(f"module must be a callable module(n_features, n_classes) returning a torch module, "
                            f"got {type(self.module).__name__}")
        X = validation.features(X, "X")
        y = validation.labels(y, len(X), "y", "X")
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"y holds a single class ({self.classes_[0]}): a classifier learns from at least two")
        targets = torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.int64)
        inputs = torch.as_tensor(np.asarray(X, dtype=np.float32).reshape(len(X), -1))
        seed = 0 if self.random_state is None else int(self.random_state)
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            # Opacus warns that its noise is not from a cryptographically secure generator (secure_mode=False: a
            # seeded audit needs a reproducible one; accounting_ says so), and torch that the inputs need no gradient
            warnings.filterwarnings("ignore", message="Secure RNG turned off")
            warnings.filterwarnings("ignore", message="Full backward hook is firing")
            torch.manual_seed(seed)
            network = self.module(inputs.shape[1], int(self.classes_.size))
            generator = torch.Generator().manual_seed(seed)
            loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, targets),
                                                 batch_size=self.batch_size, generator=generator)
            optimizer = torch.optim.SGD(network.parameters(), lr=self.lr)
            engine = PrivacyEngine(accountant=self.accountant)
            private, optimizer, loader = engine.make_private_with_epsilon(
                module=network, optimizer=optimizer, data_loader=loader, target_epsilon=float(self.epsilon),
                target_delta=float(self.delta), epochs=int(self.epochs), max_grad_norm=float(self.max_grad_norm),
                noise_generator=generator)
            steps = 0
            private.train()
            for _ in range(int(self.epochs)):
                for batch_inputs, batch_targets in loader:
                    optimizer.zero_grad()
                    if len(batch_targets):  # Poisson sampling may draw an empty batch: Opacus still adds the noise
                        loss = torch.nn.functional.cross_entropy(private(batch_inputs), batch_targets)
                        loss.backward()
                    optimizer.step()
                    steps += 1
        self.module_ = private._module.eval()
        self.parameters_ = np.concatenate([p.detach().numpy().ravel() for p in self.module_.parameters()])
        self.epsilon_ = float(engine.get_epsilon(float(self.delta)))
        self.delta_ = float(self.delta)
        self.accountant_ = f"opacus {engine.accountant.mechanism()} accountant"
        self.accounting_ = {
            "accountant": self.accountant_,
            "noise_multiplier": float(optimizer.noise_multiplier),
            "max_grad_norm": float(self.max_grad_norm),
            "sample_rate": float(loader.sample_rate),
            "steps": steps,
            "epochs": int(self.epochs),
            "target_epsilon": float(self.epsilon),
            "delta": float(self.delta),
            "secure_rng": False,
        }
        return self

    def logits(self, X):
        import torch

        with torch.no_grad():
            inputs = torch.as_tensor(np.asarray(X, dtype=np.float32).reshape(len(X), -1))
            return self.module_(inputs).double()

    def predict_proba(self, X):
        import torch

        return torch.softmax(self.logits(X), dim=1).numpy()

    def predict(self, X):
        return self.classes_[self.logits(X).argmax(dim=1).numpy()]
