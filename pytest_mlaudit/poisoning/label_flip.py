"""Label-flip robustness: test accuracy of models trained with a fraction of their
training labels flipped by an attacker.

Two threat models:

- ``mode="random"``: the attacker flips ``fraction`` of all training labels, each to a
  class drawn uniformly among the other classes (label noise at its worst unstructured);
- ``mode="targeted"``: the attacker relabels ``fraction`` of the training samples of
  ``source_class`` as ``target_class`` (e.g. fraud labelled as legitimate). The
  fraction is of the source class, and the audit also reports the source class's recall,
  which is what this attacker goes after.

Flipping is random, and so is the training of many models: each fraction is measured
over ``repeats`` runs, run ``r`` drawing its flips and its training seed from the audit's
seed. Accuracy is pooled over runs x test samples, with an interval that carries both
sources of variation (:func:`pytest_mlaudit.stats.crossed_proportion`); with one run it
is a Wilson interval over the test samples.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .. import extras, validation
from ..authoring import Audit, audit
from ..model_training import describe_factory, fit_with_factory, predicted_labels
from ..records import Check, Estimate, SanityChecked
from ..stats import crossed_proportion, proportion
from .backdoor import _fraction, _fractions, metric_name

DEFAULT_FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4)
MODES = ("random", "targeted")


@dataclass(frozen=True)
class LabelFlipPoint:
    """Models trained with one fraction of flipped labels (``repeats`` of them)."""

    fraction: float
    n_flipped: int
    accuracy: Estimate
    source_recall: Estimate | None = None  # targeted mode: recall of the source class


@dataclass(frozen=True)
class LabelFlipCurve(SanityChecked):
    """Accuracy against the flipped fraction, in increasing order of fraction."""

    mode: str
    points: tuple[LabelFlipPoint, ...]
    repeats: int
    source_class: int | None = None
    target_class: int | None = None
    checks: tuple[Check, ...] = field(default_factory=tuple)


def label_flip_curve(model_factory, X_train, y_train, X_test, y_test, *, fractions=DEFAULT_FRACTIONS,
                     mode: str = "random", source_class: int | None = None, target_class: int | None = None,
                     repeats: int = 3, requirement=None) -> LabelFlipCurve:
    """Test accuracy (with intervals) against the fraction of flipped training labels.

    ``model_factory`` as for :func:`pytest_mlaudit.backdoor`. ``mode="targeted"`` needs
    ``source_class`` and ``target_class``; its fractions are of the source class.
    """
    with audit("poisoning", f"label flipping ({mode})", requirement=requirement) as a:
        return _measure(a, model_factory, X_train, y_train, X_test, y_test, fractions, mode, source_class,
                        target_class, repeats)


def assert_label_flip_accuracy(model_factory, X_train, y_train, X_test, y_test, *, fraction: float,
                               at_least: float, fractions=None, mode: str = "random",
                               source_class: int | None = None, target_class: int | None = None, repeats: int = 3,
                               policy: str | None = None, requirement=None) -> LabelFlipCurve:
    """Measure as :func:`label_flip_curve` does and gate the accuracy at ``fraction`` (added to ``fractions``).

    ``fractions`` defaults to ``(0.0, fraction)``: the clean model beside the gated one.
    """
    with audit("poisoning", f"label-flip accuracy ({mode})", requirement=requirement) as a:
        fraction = _fraction(fraction, "fraction")
        fractions = tuple(sorted({*(_fractions(fractions, "fractions") if fractions is not None else (0.0,)),
                                  fraction}))
        a.gate(metric_name("accuracy", fraction), at_least=at_least, policy=policy, requirement=requirement,
               bounds=(0.0, 1.0))
        a.params["gated_fraction"] = fraction
        return _measure(a, model_factory, X_train, y_train, X_test, y_test, fractions, mode, source_class,
                        target_class, repeats)


def _class(value, name: str, classes) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value not in classes:
        raise ValueError(f"{name} must be one of the labels in y_train ({classes.tolist()}), got {value!r}")
    return int(value)


def _measure(a: Audit, factory, X_train, y_train, X_test, y_test, fractions, mode, source_class, target_class,
             repeats) -> LabelFlipCurve:
    X_train, y_train, X_test, y_test = validation.two_splits(
        X_train, y_train, X_test, y_test, ("X_train", "y_train", "X_test", "y_test"))
    fractions = _fractions(fractions, "fractions")
    repeats = validation.positive_int(repeats, "repeats")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    classes = np.unique(y_train)
    if len(classes) < 2:
        raise ValueError(f"y_train holds one class ({classes[0]}): flipping needs at least two")
    if mode == "targeted":
        if source_class is None or target_class is None:
            raise TypeError("mode='targeted' needs source_class= and target_class=")
        source_class, target_class = _class(source_class, "source_class", classes), _class(target_class,
                                                                                             "target_class", classes)
        if source_class == target_class:
            raise ValueError(f"source_class and target_class are both {source_class}: flipping changes nothing")
        pool = np.flatnonzero(y_train == source_class)
        if not (y_test == source_class).any():
            raise ValueError(f"y_test has no sample of source_class {source_class}: its recall cannot be measured")
    elif source_class is not None or target_class is not None:
        raise TypeError("source_class and target_class are for mode='targeted'")
    else:
        pool = np.arange(len(y_train))
    counts = [int(round(f * len(pool))) for f in fractions]
    confidence = a.settings.confidence
    seeds = [a.seed(f"run {run}") for run in range(repeats)]

    a.describe_data({"train": (X_train, y_train), "test": (X_test, y_test)})
    a.params.update({
        "threat_model": ("the attacker flips a fraction of all training labels, each to a uniformly drawn other class"
                         if mode == "random" else
                         f"the attacker relabels a fraction of the training samples of class {source_class} as class "
                         f"{target_class}"),
        "mode": mode,
        "fractions": list(fractions),
        "fraction_of": "all training samples" if mode == "random" else f"the training samples of class {source_class}",
        "repeats": repeats,
        "run_seeds": seeds,
        "model_factory": describe_factory(factory),
        "n_train": int(len(X_train)),
        "n_test": int(len(X_test)),
        "interval": ("wilson, effective n over runs x test samples" if repeats > 1 else
                     "wilson over the test samples (one run: training randomness not covered)"),
        **({"source_class": source_class, "target_class": target_class} if mode == "targeted" else {}),
    })

    correct = np.zeros((len(fractions), repeats, len(y_test)), dtype=bool)
    model = None
    for run, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        order = rng.permutation(pool)
        replacement = (target_class if mode == "targeted" else
                       _other_classes(y_train[order], classes, rng))  # nested flips, one draw per run
        for index, count in enumerate(counts):
            flipped = y_train.copy()
            flipped[order[:count]] = replacement if np.isscalar(replacement) else replacement[:count]
            model = fit_with_factory(factory, X_train, flipped, seed)
            correct[index, run] = predicted_labels(model, X_test, "the trained model", "X_test") == y_test
    a.describe_model(model)

    def pooled(outcomes):
        if repeats == 1:
            return proportion(int(outcomes.sum()), outcomes.shape[1], confidence)
        return crossed_proportion(outcomes, confidence)

    source = y_test == source_class if mode == "targeted" else None
    points = tuple(LabelFlipPoint(f, count, pooled(correct[i]), pooled(correct[i][:, source]) if mode == "targeted"
                                  else None) for i, (f, count) in enumerate(zip(fractions, counts)))
    checks = (Check("a clean baseline (fraction 0)", fractions[0] == 0.0,
                    "the curve starts at the clean model" if fractions[0] == 0.0 else
                    "fractions has no 0: the accuracy lost to flipping cannot be read without the clean model's"),)
    for point in points:
        a.metric(metric_name("accuracy", point.fraction), point.accuracy)
        if point.source_recall is not None:
            a.metric(metric_name("source_recall", point.fraction), point.source_recall)
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    _chart(a, points, mode, source_class)
    return LabelFlipCurve(mode, points, repeats, source_class, target_class, checks)


def _other_classes(labels, classes, rng):
    """For each label, a class drawn uniformly among the other classes."""
    shift = rng.integers(1, len(classes), size=len(labels))
    positions = np.searchsorted(classes, labels)
    return classes[(positions + shift) % len(classes)]


def _chart(a: Audit, points, mode, source_class) -> None:
    x = [p.fraction for p in points]

    def series(label, estimates):
        return extras.Series(label, x=x, y=[e.value for e in estimates], low=[e.low for e in estimates],
                             high=[e.high for e in estimates])

    lines = [series("test accuracy", [p.accuracy for p in points])]
    if mode == "targeted":
        lines.append(series(f"recall of class {source_class}", [p.source_recall for p in points]))
    a.extra(extras.Curve(f"Accuracy against flipped labels ({mode})",
                         x_label="flipped fraction" + (" of the source class" if mode == "targeted" else
                                                       " of the training labels"),
                         y_label="rate", series=lines))
