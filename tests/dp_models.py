"""A differentially private model that is not diffprivlib's, for the tests of the privacy audits."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class OutputPerturbed(ClassifierMixin, BaseEstimator):
    """A logistic regression with Laplace noise on its weights; states its own (epsilon, delta)."""

    def __init__(self, epsilon=1.0, random_state=None, state=True, spend=1.0):
        self.epsilon = epsilon
        self.random_state = random_state
        self.state = state
        self.spend = spend

    def fit(self, X, y):
        model = LogisticRegression().fit(X, y)
        rng = np.random.default_rng(self.random_state)
        self.coef_ = model.coef_ + rng.laplace(scale=0.5 / self.epsilon, size=model.coef_.shape)
        self.intercept_ = model.intercept_
        self.classes_ = model.classes_
        if self.state:
            self.epsilon_ = self.epsilon * self.spend
            self.delta_ = 1e-5
            self.accountant_ = "RDP accountant (as Opacus reports it)"
        return self

    def predict(self, X):
        return self.classes_[((X @ self.coef_.T + self.intercept_).ravel() > 0).astype(int)]
