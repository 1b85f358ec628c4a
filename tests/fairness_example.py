"""The ten-applicant example of the fairness tests, counted by hand.

Group A (six): y = 1 1 1 0 0 0, predicted 1 1 0 1 0 0 -> tp 2, fn 1, fp 1, tn 2.
Group B (four): y = 1 1 0 0, predicted 1 0 0 0 -> tp 1, fn 1, fp 0, tn 2.
"""

import numpy as np

Y = np.array([1, 1, 1, 0, 0, 0, 1, 1, 0, 0])
PRED = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
GROUP = np.array(["A"] * 6 + ["B"] * 4)
X = np.arange(10).reshape(-1, 1)


class FixedPredictions:
    """A classifier whose prediction for row i of X = [[i], ...] is labels[i]."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def predict(self, X):
        return self.labels[np.asarray(X)[:, 0].astype(int)]
