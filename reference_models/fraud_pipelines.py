"""The XGBoost fraud pipelines of "Robust and Fair AI", and the data they are audited on.

The paper's pipeline: a 70/30 stratified split, ``StandardScaler`` fitted on the
training split, ``XGBClassifier(random_state=42)``; alone, after SMOTE, and after
random under-sampling of the training split. Here the classifier also gets
``n_jobs=1`` and ``tree_method="hist"`` so that a run is bit-for-bit repeatable.

Embedded data (:func:`generated_fraud_data`) is **generated**, not real: a population
shaped like the Kaggle ``creditcard.csv`` (Time, V1..V28, Amount; 0.2% fraud), made
so that the audits run anywhere in seconds. The real-data tier reads the Kaggle
layout through :func:`reference_models.creditcard.load_creditcard`
(:func:`real_fraud_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .creditcard import FEATURES, TabularData, load_creditcard

SPLIT_SEED = 42
TEST_SIZE = 0.3
XGB_PARAMS = {"random_state": 42, "n_jobs": 1, "tree_method": "hist"}

# The components that separate fraud in the real data (mean of the fraud class, in
# units of the normal class's spread, from the real subset): V14, V12, V10, V17, V3,
# V4, V11 (see generated_fraud_data).
_FRAUD_SHIFTS = {"V14": -7.0, "V12": -6.0, "V10": -5.0, "V17": -6.0, "V3": -4.5, "V4": 3.5, "V11": 3.5,
                 "V1": -2.5, "V7": -3.5, "V16": -4.0}


def generated_fraud_data(n_samples: int = 60_000, fraud_rate: float = 0.002, seed: int = 0) -> TabularData:
    """A generated population in the Kaggle credit-card layout (30 features, ``fraud_rate`` positives).

    How it is made (all from ``numpy.random.default_rng(seed)``):

    - **Time**: seconds over two days (0 to 172,792, the real range), uniform, sorted.
    - **V1..V28** (the real data's PCA components): for normal transactions, Student-t
      (3 degrees of freedom, so that a few normal transactions look unusual) with
      standard deviations falling from 1.9 (V1) to 0.3 (V28), as in the real data.
      Frauds start from the same distribution and are shifted along the components
      that separate fraud in the real data (:data:`_FRAUD_SHIFTS`), by a random
      strength: 90% of frauds get a strength from 0.15 to 1.0 (from borderline to
      obvious), 10% one from 0 to 0.1 (they look normal: no model should catch them).
    - **Amount**: log-normal, median about 22 (normal) and 9 (fraud), in cents.

    Exactly ``round(n_samples * fraud_rate)`` rows are frauds, in random positions.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n_fraud = int(round(n_samples * fraud_rate))
    if not 0 < n_fraud < n_samples:
        raise ValueError(f"n_samples={n_samples} and fraud_rate={fraud_rate} leave no fraud or no normal transaction")
    y = np.zeros(n_samples, dtype=np.int64)
    y[rng.choice(n_samples, n_fraud, replace=False)] = 1
    fraud = y == 1

    spread = np.linspace(1.9, 0.3, 28)
    components = rng.standard_t(3, size=(n_samples, 28)) / np.sqrt(3.0) * spread
    direction = np.zeros(28)
    for name, shift in _FRAUD_SHIFTS.items():
        direction[int(name[1:]) - 1] = shift
    detectable = rng.random(n_fraud) < 0.9
    strength = np.where(detectable, rng.uniform(0.15, 1.0, n_fraud), rng.uniform(0.0, 0.1, n_fraud))
    components[fraud] += strength[:, None] * direction * spread

    time = np.sort(rng.uniform(0, 172_792, n_samples)).round()
    amount = np.round(np.where(fraud, rng.lognormal(2.2, 1.8, n_samples), rng.lognormal(3.1, 1.3, n_samples)), 2)
    X = np.column_stack([time, components, amount])
    return TabularData(X=X, y=y, feature_names=FEATURES,
                       source=f"generated (Kaggle credit-card layout, {n_samples} rows, {fraud_rate:.2%} fraud, seed {seed})")


def real_fraud_data(path, fraud_rate: float = 0.05, seed: int = 0) -> TabularData:
    """The Kaggle layout from ``path``, deduplicated, with frauds downsampled to ``fraud_rate``.

    The real subset in ``shared/data/creditcard`` holds all 492 frauds of the full
    data set but only 1,230 of its normal transactions (28.6% fraud). The full set's
    0.172% would leave two frauds beside those 1,230 normal rows, too few to measure
    anything, so frauds are drawn at random (``seed``) down to ``fraud_rate`` (5% by
    default: 65 frauds, 20 in the test split): imbalanced enough for under-sampling
    to cost precision, and still measurable, with wide intervals.
    Exact duplicate rows (the data holds some) are dropped first: a transaction in
    both splits would be leakage. Files that are already that imbalanced are kept.
    """
    import numpy as np

    data = load_creditcard(path)
    _, first = np.unique(np.column_stack([data.X, data.y]), axis=0, return_index=True)
    X, y = data.X[np.sort(first)], data.y[np.sort(first)]
    frauds, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    keep = int(round(fraud_rate * normals.size / (1.0 - fraud_rate)))
    if frauds.size > keep:
        frauds = np.random.default_rng(seed).choice(frauds, keep, replace=False)
    rows = np.sort(np.concatenate([frauds, normals]))
    return TabularData(X=X[rows], y=y[rows], feature_names=data.feature_names,
                       source=f"{data.source} (deduplicated, frauds downsampled to {fraud_rate:.1%}, seed {seed})")


@dataclass(frozen=True)
class FraudSplit:
    """The paper's 70/30 stratified split of a fraud data set."""

    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any
    source: str


def paper_split(data: TabularData, seed: int = SPLIT_SEED) -> FraudSplit:
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=TEST_SIZE, stratify=data.y,
                                                        random_state=seed)
    return FraudSplit(X_train, y_train, X_test, y_test, data.source)


def paper_model():
    """StandardScaler then ``XGBClassifier(random_state=42)``, unfitted; the scaler is fitted on the training split."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from xgboost import XGBClassifier

    return Pipeline([("scaler", StandardScaler()), ("xgb", XGBClassifier(**XGB_PARAMS))])


def paper_resamplers(seed: int = SPLIT_SEED) -> dict[str, Any]:
    """The paper's three arms: no resampling, SMOTE and random under-sampling (seeded)."""
    from imblearn.over_sampling import SMOTE
    from imblearn.under_sampling import RandomUnderSampler

    return {"original": None, "SMOTE": SMOTE(random_state=seed), "undersampling": RandomUnderSampler(random_state=seed)}


# The paper's reported minority-class (fraud) results, per arm.
PUBLISHED = {
    "original": {"recall": 0.82, "precision": 0.94},
    "SMOTE": {"recall": 0.87, "precision": 0.73},
    "undersampling": {"recall": 0.93, "precision": 0.04},
}
PUBLISHED_SOURCE = "Robust and Fair AI (paper), XGBoost on the Kaggle credit-card fraud data"


def paper_pipeline(resampler=None):
    """The paper's pipeline with ``resampler`` (None, SMOTE, ...) between the scaler and XGBoost, unfitted.

    The resampler sees scaled features, as in the paper, and runs on the training
    split only (an imbalanced-learn pipeline resamples in ``fit``, never in ``predict``).
    """
    from imblearn.pipeline import Pipeline

    scaler, xgb = paper_model().steps
    return Pipeline([scaler, *([("resampler", resampler)] if resampler is not None else []), xgb])
