"""Guards against a test split that was resampled: the classic imbalance leak.

Resampling before the train/test split (SMOTE, random over- or under-sampling of the
whole data set) puts copies or interpolations of training rows into the test split,
or changes its class ratio; the audit then measures a population that does not
exist. Each guard is cheap and documented:

- **shared rows**: a test row identical to a training row (after casting to float64).
  Zero tolerance: a row in both splits is leakage whatever its cause, including
  duplicated transactions in the raw data (deduplicate before splitting).
- **duplicated minority rows in the test split**: what random over-sampling leaves.
- **synthetic minority rows**: a test minority row lying exactly, up to rounding, on
  the segment between two other minority rows (training or test), strictly between
  them. SMOTE, BorderlineSMOTE and ADASYN make every synthetic point this way
  (``x + lambda * (neighbour - x)``, lambda in (0, 1)). The candidate parents are each
  test minority row's 10 nearest minority rows (standardized features), so the cost
  is ``45`` segment tests per test minority row. SMOTE's parents are near neighbours,
  so they are usually among them, not always: on SMOTE-before-split data the guard
  finds most synthetic test rows (195 of 285 in the tests), and one is enough to refuse. Continuous features never meet this
  by chance; on discrete features (integer grids, one-hot columns) genuine rows can be
  collinear: use ``leakage_guard="record"`` there.
- **class ratio**: the number of positives in the test split against a binomial with
  the training split's positive rate (before resampling). "Far" means a one-sided
  binomial test at ``alpha = 1e-6`` (:data:`RATIO_ALPHA`): a stratified or random
  split essentially never gets there, a test split rebalanced from 0.2% always does.
  A test split richer in positives is refused (resampling raised its minority share);
  one poorer in positives is recorded as a failed check (it more likely means the
  *training* split was resampled before the audit, which hides its real ratio).

The minority class here is the positive label.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.stats import binomtest
from sklearn.neighbors import NearestNeighbors

from ..records import Check

RATIO_ALPHA = 1e-6
NEIGHBOURS = 10
GUARD_MODES = ("refuse", "record")


class LeakageError(ValueError):
    """The test split looks resampled or shares rows with the training split."""


def split_checks(X_train, train_positive, X_test, test_positive) -> list[Check]:
    """All guards on a train/test split (``*_positive`` are boolean masks of the positive class)."""
    return [
        shared_rows(X_train, X_test),
        duplicated_minority_rows(X_test, test_positive),
        synthetic_minority_rows(X_test[test_positive], X_train[train_positive]),
        class_ratio(int(train_positive.sum()), train_positive.size, int(test_positive.sum()), test_positive.size),
    ]


def test_only_checks(X_test, test_positive) -> list[Check]:
    """The guards that need no training split (a prefitted model audited on its test split alone)."""
    return [duplicated_minority_rows(X_test, test_positive), synthetic_minority_rows(X_test[test_positive], None)]


def enforce(checks: list[Check], mode: str) -> None:
    """Raise :class:`LeakageError` for the failed checks that mean leakage, unless only recording."""
    if mode == "record":
        return
    refused = [check for check in checks if not check.passed and check.name != "training class ratio"]
    if refused:
        problems = "\n".join(f"- {check.name}: {check.detail}" for check in refused)
        raise LeakageError(
            "the test split (X_test, y_test) looks resampled or leaks training rows; resample the training split only "
            "(pass resampler=... and the original split), or pass leakage_guard='record' to audit anyway "
            f"with the audit marked suspect:\n{problems}"
        )


def _row_keys(X) -> list[bytes]:
    if X.shape[0] == 0:
        return []
    rows = np.ascontiguousarray(X.reshape(X.shape[0], -1), dtype=np.float64) + 0.0  # -0.0 becomes 0.0
    return [row.tobytes() for row in rows]


def _row_hashes(X):
    """A 64-bit hash of each row's float64 values, built a column at a time: O(rows) memory.

    Equal rows get equal hashes; rows with equal hashes are compared exactly by
    :func:`_row_keys` (few of them), so the guards stay exact on a million rows without
    holding a Python object per row.
    """
    flat = X.reshape(X.shape[0], -1)
    hashes = np.zeros(flat.shape[0], dtype=np.uint64)
    multiplier = np.uint64(0x9E3779B97F4A7C15)
    values = np.empty(flat.shape[0], dtype=np.float64)  # one column at a time, reused: two arrays per row in all
    bits = values.view(np.uint64)
    with np.errstate(over="ignore"):
        for column in range(flat.shape[1]):
            values[:] = flat[:, column]
            values += 0.0  # -0.0 becomes 0.0
            bits += np.uint64(column)
            hashes ^= bits
            hashes *= multiplier
            np.right_shift(hashes, np.uint64(29), out=bits)
            hashes ^= bits
    return hashes


def _found_in(hashes, among):
    """Which of ``hashes`` occur in ``among``: a binary search in the sorted ``among``, one byte per hash."""
    among = np.sort(among)
    if among.size == 0:
        return np.zeros(hashes.shape, dtype=bool)
    positions = np.searchsorted(among, hashes)
    np.minimum(positions, among.size - 1, out=positions)
    return among[positions] == hashes


def shared_rows(X_train, X_test) -> Check:
    train_hashes, test_hashes = _row_hashes(X_train), _row_hashes(X_test)
    candidates = _found_in(test_hashes, train_hashes)
    del test_hashes
    shared = 0
    if candidates.any():
        train = set(_row_keys(X_train[_found_in(train_hashes, _row_hashes(X_test[candidates]))]))
        shared = sum(key in train for key in _row_keys(X_test[candidates]))
    detail = (f"{shared} of {X_test.shape[0]} test rows also occur in the training split"
              if shared else f"no test row occurs in the training split ({X_test.shape[0]} checked)")
    return Check("no rows shared between train and test", shared == 0, detail)


def duplicated_minority_rows(X_test, test_positive) -> Check:
    minority = X_test[test_positive]
    hashes = _row_hashes(minority)
    values, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    candidates = counts[inverse.ravel()] > 1
    counted = Counter(_row_keys(minority[candidates]))
    duplicated = sum(count for count in counted.values() if count > 1)
    detail = (f"{duplicated} of {int(test_positive.sum())} test minority rows are exact duplicates"
              if duplicated else "no duplicated minority rows in the test split")
    return Check("no duplicated minority rows in test", duplicated == 0, detail)


def synthetic_minority_rows(test_minority, train_minority) -> Check:
    """Test minority rows on a segment between two other minority rows (SMOTE's interpolation)."""
    name = "no interpolated (SMOTE-like) minority rows in test"
    dtype = np.result_type(test_minority.dtype, np.float32)
    test = test_minority.reshape(test_minority.shape[0], -1).astype(np.float64)
    pool = test if train_minority is None else np.vstack([test, train_minority.reshape(train_minority.shape[0], -1)])
    if test.shape[0] == 0 or pool.shape[0] < 3:
        return Check(name, True, "fewer than three minority rows: nothing to test")
    scale = pool.std(axis=0)
    scale[scale == 0] = 1.0
    k = min(NEIGHBOURS + 1, pool.shape[0])
    _, neighbours = NearestNeighbors(n_neighbors=k).fit(pool / scale).kneighbors(test / scale)
    rtol = 1e3 * np.finfo(dtype).eps
    flagged = 0
    for row, candidates in enumerate(neighbours):
        parents = pool[[c for c in candidates if c != row]]
        if _on_a_segment(test[row], parents, rtol):
            flagged += 1
    detail = (f"{flagged} of {test.shape[0]} test minority rows lie on a segment between two other minority rows "
              "(synthetic points from SMOTE, ADASYN or BorderlineSMOTE applied before the split)"
              if flagged else f"no test minority row is an interpolation of two others ({test.shape[0]} checked)")
    return Check(name, flagged == 0, detail)


def _on_a_segment(point, parents, rtol: float) -> bool:
    first, second = np.triu_indices(parents.shape[0], k=1)
    a, b = parents[first], parents[second]
    direction = b - a
    length2 = np.einsum("ij,ij->i", direction, direction)
    usable = length2 > 0
    t = np.divide(np.einsum("ij,ij->i", point - a, direction), length2, out=np.zeros_like(length2), where=usable)
    residual = np.linalg.norm(a + t[:, None] * direction - point, axis=1)
    size = np.linalg.norm(a, axis=1) + np.linalg.norm(b, axis=1)
    inside = (t > rtol) & (t < 1 - rtol)
    return bool(np.any(usable & inside & (residual <= rtol * size)))


def class_ratio(train_positives: int, n_train: int, test_positives: int, n_test: int) -> Check:
    rate = train_positives / n_train
    observed = test_positives / n_test
    richer = binomtest(test_positives, n_test, rate, alternative="greater").pvalue
    poorer = binomtest(test_positives, n_test, rate, alternative="less").pvalue
    ratio = f"test positive rate {observed:.4%} ({test_positives}/{n_test}) against training {rate:.4%}"
    if richer < RATIO_ALPHA:
        return Check("test class ratio matches training", False,
                     f"{ratio}: far richer in positives (binomial p = {richer:.2g} < {RATIO_ALPHA:g})")
    if poorer < RATIO_ALPHA:
        return Check("training class ratio", False,
                     f"{ratio}: the training split is far richer in positives (binomial p = {poorer:.2g} < "
                     f"{RATIO_ALPHA:g}); was it resampled before the audit? Pass the original split and resampler=")
    return Check("test class ratio matches training", True, f"{ratio} (binomial p >= {RATIO_ALPHA:g} both ways)")
