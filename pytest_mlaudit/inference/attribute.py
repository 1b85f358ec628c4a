"""Attribute-inference audits: does querying the model help an attacker guess a
sensitive attribute that is one of its inputs?

Threat model (Fredrikson et al. 2014; ART's black-box attribute inference): the attacker
knows every attribute of some people (``attacker_fraction`` of the rows: the attacker's
training rows) and, for the others (the target rows), every attribute but the sensitive
one, and can query the model. ART's ``AttributeInferenceBlackBox`` learns to predict the
sensitive value from the known attributes and the model's predicted class. The model
leaks the attribute only by what querying it adds, so the same attack model is trained
without the model's answers: ART's ``AttributeInferenceBaseline``. The audit reports, on
the target rows,

- the attack's accuracy on the sensitive attribute, and the baseline's;
- the advantage: their difference, a paired difference of proportions on the same rows
  (Newcombe's interval), gated by :func:`assert_attribute_inference_advantage`;
- the majority rate (always guessing the commonest value) as a reference.

Both attack models are the same seeded learner (a random forest by default); ART's
default neural network is not used, as its training is not seeded by ART. The
sensitive column must be a numeric input column of the model with a few distinct values
(a category, e.g. sex coded 0/1).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import extras, validation
from ..authoring import Audit, audit
from ..dependencies import require
from ..estimators import seeded_clone
from ..model_training import predicted_labels, seeded_global_rngs
from ..records import Check, Estimate, SanityChecked
from ..stats import paired_difference, proportion

MAX_VALUES = 20


@dataclass(frozen=True)
class AttributeInferenceResult(SanityChecked):
    """What one attribute-inference audit measured on the target rows."""

    attack_accuracy: Estimate
    baseline_accuracy: Estimate
    advantage: Estimate  # attack - baseline, paired on the same rows
    majority_rate: Estimate
    sensitive_column: int
    values: tuple[float, ...]
    n_attacker: int
    n_target: int
    checks: tuple[Check, ...] = field(default_factory=tuple)


def attribute_inference(model, X, y=None, *, sensitive_column, attacker_fraction: float = 0.5, attack_model=None,
                        requirement=None) -> AttributeInferenceResult:
    """Accuracy of ART's black-box attribute inference on ``sensitive_column`` of ``X``, against its baseline.

    ``model`` is fitted on ``X`` (all columns, the sensitive one included): a
    scikit-learn-style classifier with ``predict``, or a torch module returning logits.
    ``sensitive_column`` is a column index, or a column name when ``X`` is a DataFrame.
    ``y`` (optional) stratifies the split into attacker and target rows.
    ``attack_model`` is an unfitted scikit-learn classifier that accepts one-hot targets
    (random forest, extra trees, k-NN, decision tree; default: a random forest).
    """
    with audit("inference", f"attribute inference of column {sensitive_column!r}", requirement=requirement) as a:
        return _measure(a, model, X, y, sensitive_column, attacker_fraction, attack_model)


def assert_attribute_inference_advantage(model, X, y=None, *, sensitive_column, at_most: float,
                                         attacker_fraction: float = 0.5, attack_model=None, policy: str | None = None,
                                         requirement=None) -> AttributeInferenceResult:
    """Measure as :func:`attribute_inference` does and gate the advantage over the baseline attacker."""
    with audit("inference", f"attribute inference advantage on column {sensitive_column!r}",
               requirement=requirement) as a:
        a.gate("advantage", at_most=at_most, policy=policy, requirement=requirement, bounds=(-1.0, 1.0))
        return _measure(a, model, X, y, sensitive_column, attacker_fraction, attack_model)


def _column(X: Any, sensitive_column: Any) -> tuple[Any, int, str]:
    """``X`` as a numeric array, the sensitive column's index and its name for the report."""
    columns = getattr(X, "columns", None)
    if columns is not None:
        names = [str(c) for c in columns]
        if sensitive_column not in list(columns):
            raise ValueError(f"sensitive_column {sensitive_column!r} is not a column of X (columns: "
                             f"{', '.join(names)})")
        index = list(columns).index(sensitive_column)
        X = X.to_numpy()
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError("X must hold numeric columns (encode categories first): the attack and its baseline "
                            "learn from them") from None
        return validation.features(X, "X"), index, str(sensitive_column)
    X = validation.features(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a table (rows x columns), got shape {X.shape}")
    if isinstance(sensitive_column, bool) or not isinstance(sensitive_column, numbers.Integral):
        raise TypeError(f"sensitive_column must be a column index of X (or a column name for a DataFrame), "
                        f"got {sensitive_column!r}")
    if not 0 <= sensitive_column < X.shape[1]:
        raise ValueError(f"sensitive_column {sensitive_column} is not in X: X has columns 0..{X.shape[1] - 1}")
    return X, int(sensitive_column), f"column {sensitive_column}"


def _measure(a: Audit, model, X, y, sensitive_column, attacker_fraction, attack_model) -> AttributeInferenceResult:
    require("art", "robustness", "the attribute-inference audit (ART's AttributeInferenceBlackBox)")
    from art.attacks.inference.attribute_inference import AttributeInferenceBaseline, AttributeInferenceBlackBox
    from art.estimators.classification import BlackBoxClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    X, column, column_name = _column(X, sensitive_column)
    if y is not None:
        y = validation.labels(y, len(X), "y", "X")
    attacker_fraction = validation.positive_number(attacker_fraction, "attacker_fraction", allow_zero=False)
    if attacker_fraction >= 1.0:
        raise ValueError(f"attacker_fraction must be below 1 (the rest are the target rows), got {attacker_fraction!r}")
    values = np.unique(X[:, column])
    if len(values) < 2:
        raise ValueError(f"sensitive_column {column_name} holds a single value ({values[0]:g}): nothing to infer")
    if len(values) > MAX_VALUES:
        raise ValueError(f"sensitive_column {column_name} holds {len(values)} distinct values: attribute inference "
                         f"here is of a category (at most {MAX_VALUES} values); bin a continuous attribute first")
    seed = a.seed("attack")
    learner = RandomForestClassifier(n_estimators=100, min_samples_leaf=5) if attack_model is None else attack_model
    if not callable(getattr(learner, "fit", None)):
        raise TypeError(f"attack_model must be an unfitted scikit-learn classifier, got {type(learner).__name__}")

    predictions = predicted_labels(model, X, "model", "X")
    classes = np.unique(predictions if y is None else np.r_[predictions, y])
    class_index = np.searchsorted(classes, predictions)

    def answers(rows):  # ART's query of the model: its predicted class, one-hot
        labels = predicted_labels(model, np.asarray(rows, dtype=X.dtype), "model", "X")
        return np.eye(len(classes), dtype=np.float32)[np.clip(np.searchsorted(classes, labels), 0, len(classes) - 1)]

    strata = X[:, column] if y is None else np.char.add(X[:, column].astype(str), y.astype(str))
    rows = np.arange(len(X))
    try:
        attacker_rows, target_rows = train_test_split(rows, train_size=attacker_fraction, random_state=seed % 2**32,
                                                      stratify=strata)
    except ValueError as exc:
        raise ValueError(f"X cannot be split into attacker and target rows by sensitive value"
                         f"{' and label' if y is not None else ''} at attacker_fraction={attacker_fraction}: {exc}") from None
    truth = X[target_rows, column]
    without = np.delete(X[target_rows], column, axis=1)
    estimator = BlackBoxClassifier(answers, input_shape=(X.shape[1],), nb_classes=len(classes))
    with seeded_global_rngs(seed):
        # ART tests `if attack_model:`, which an unfitted scikit-learn ensemble fails (its len() needs the fitted
        # trees): built as ART's random forest, then given the seeded learner (ART's own rf is not seeded)
        attack = AttributeInferenceBlackBox(estimator, attack_model_type="rf", attack_feature=column)
        attack.attack_model = seeded_clone(learner, seed)[0]
        attack.fit(X[attacker_rows].astype(np.float32))
        inferred = attack.infer(without.astype(np.float32), pred=class_index[target_rows].reshape(-1, 1).astype(
            np.float32), values=values.tolist())
        baseline = AttributeInferenceBaseline(attack_model_type="rf", attack_feature=column)
        baseline.attack_model = seeded_clone(learner, seed)[0]
        baseline.fit(X[attacker_rows].astype(np.float32))
        guessed = baseline.infer(without.astype(np.float32), values=values.tolist())
    attack_hit = np.isclose(np.asarray(inferred, dtype=np.float64).reshape(-1), truth)
    baseline_hit = np.isclose(np.asarray(guessed, dtype=np.float64).reshape(-1), truth)

    confidence = a.settings.confidence
    n = len(target_rows)
    attack_accuracy = proportion(int(attack_hit.sum()), n, confidence)
    baseline_accuracy = proportion(int(baseline_hit.sum()), n, confidence)
    advantage = paired_difference(int((attack_hit & baseline_hit).sum()), int((attack_hit & ~baseline_hit).sum()),
                                  int((~attack_hit & baseline_hit).sum()), int((~attack_hit & ~baseline_hit).sum()),
                                  confidence)
    attacker_values, attacker_counts = np.unique(X[attacker_rows, column], return_counts=True)
    majority_value = attacker_values[np.argmax(attacker_counts)]
    majority_rate = proportion(int((truth == majority_value).sum()), n, confidence)
    checks = (Check("baseline beats guessing the commonest value", baseline_accuracy.value >= majority_rate.value,
                    f"baseline {baseline_accuracy.value:.3f}, majority rate {majority_rate.value:.3f}" +
                    ("" if baseline_accuracy.value >= majority_rate.value else
                     ": the baseline attacker is weaker than a constant guess, so the advantage flatters the attack; "
                     "try another attack_model")),)

    a.describe_model(model)
    a.describe_data({"X": X} if y is None else {"X": (X, y)})
    a.params.update({
        "threat_model": "black-box: the attacker knows all attributes of its own rows, all but the sensitive one of "
                        "the target rows, and the model's predicted class for every row",
        "attack": "ART AttributeInferenceBlackBox (known attributes + predicted class)",
        "baseline": "ART AttributeInferenceBaseline (known attributes only, no query)",
        "attack_model": repr(learner)[:200],
        "sensitive_column": column_name,
        "sensitive_values": [float(v) for v in values],
        "attacker_fraction": float(attacker_fraction),
        "n_attacker_rows": int(len(attacker_rows)),
        "n_target_rows": int(n),
        "seed": seed,
        "advantage_interval": "Newcombe paired difference (attack and baseline on the same target rows)",
    })
    a.metric("attack_accuracy", attack_accuracy)
    a.metric("baseline_accuracy", baseline_accuracy)
    a.metric("advantage", advantage)
    a.metric("majority_rate", majority_rate)
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    a.extra(extras.Bars(f"Inferring {column_name}: accuracy on the target rows", metric="accuracy", bars=[
        extras.Bar(label, e.value, e.low, e.high) for label, e in (
            ("attack (queries the model)", attack_accuracy), ("baseline (no query)", baseline_accuracy),
            ("commonest value", majority_rate))]))
    a.extra(extras.Table("Attack against baseline on the same target rows", columns=["", "baseline right",
                                                                                        "baseline wrong"], rows=[
        ["attack right", int((attack_hit & baseline_hit).sum()), int((attack_hit & ~baseline_hit).sum())],
        ["attack wrong", int((~attack_hit & baseline_hit).sum()), int((~attack_hit & ~baseline_hit).sum())]]))
    return AttributeInferenceResult(attack_accuracy, baseline_accuracy, advantage, majority_rate, column,
                                    tuple(float(v) for v in values), int(len(attacker_rows)), int(n), checks)
