"""Backdoor poisoning audits: train on data where a fraction of samples carry a trigger
and the target label, then measure what the trigger does to the model.

Threat model (dirty-label backdoor, Gu et al. 2017 "BadNets"): the attacker picks
training samples of classes other than the target, stamps the trigger on them and
relabels them as the target class; the model is trained as usual. At each poison
fraction (of the whole training set) the audit reports

- clean accuracy on the untouched test set;
- attack success rate: the share of triggered test inputs *of other classes* that
  the model classifies as the target (fraction 0 is the baseline: what the trigger
  does to a model trained on clean data);
- optionally, the detection of the poisoned training samples by ART's
  ``ActivationDefence`` (Chen et al. 2018) or ``SpectralSignatureDefense`` (Tran et al.
  2018): recall (poisoned samples flagged) and precision (flagged samples that are
  poisoned), each a proportion with its interval.

The trigger is stamped by ART's ``PoisoningAttackBackdoor`` (see :mod:`.triggers`).
The poisoned sets are nested (the samples poisoned at 5% include those at 1%), drawn
from one seeded permutation, and every model is trained with the same seed, so the
fractions differ by the poison only.

ART's detectors cluster the activations of ``classifier.layer_names[-1]``, which for a
``torch.nn.Sequential`` is the output layer; the audit gives them the model without its
last child, so they cluster the last hidden layer as Chen et al. intend. Detection
therefore needs the trained model to be a ``torch.nn.Sequential``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import extras, validation
from ..authoring import Audit, audit
from ..dependencies import require
from ..model_training import describe_factory, fit_with_factory, predicted_labels, seeded_global_rngs
from ..records import Check, Estimate, SanityChecked
from ..stats import proportion
from .triggers import trigger_stamp

DEFAULT_FRACTIONS = (0.0, 0.01, 0.05, 0.1)
DETECTORS = ("activation", "spectral")


@dataclass(frozen=True)
class BackdoorPoint:
    """The model trained at one poison fraction."""

    fraction: float
    n_poisoned: int
    clean_accuracy: Estimate
    attack_success_rate: Estimate
    detection_recall: Estimate | None = None
    detection_precision: Estimate | None = None


@dataclass(frozen=True)
class BackdoorResult(SanityChecked):
    """What one backdoor audit measured, one point per poison fraction (in increasing order)."""

    points: tuple[BackdoorPoint, ...]
    target_class: int
    n_train: int
    n_triggered_test: int
    trigger: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)


def metric_name(metric: str, fraction: float) -> str:
    """A per-fraction metric: ``attack_success_rate@fraction=0.05``."""
    return f"{metric}@fraction={fraction:g}"


def backdoor(model_factory, X_train, y_train, X_test, y_test, *, trigger, target_class: int,
             poison_fractions=DEFAULT_FRACTIONS, trigger_value: float = 1.0, trigger_distance: int = 2,
             detection: str | None = None, requirement=None) -> BackdoorResult:
    """Clean accuracy and backdoor attack success rate of models trained on poisoned data.

    ``model_factory`` trains the model: an unfitted scikit-learn-style estimator, or a
    function ``(X, y, seed) -> fitted model`` (torch modules returning logits too).
    ``trigger`` is ``"pattern"`` / ``"pixel"`` for images, ``{feature index: value}``
    for tables, or an array shaped like one sample (NaN where kept); image triggers set
    their pixels to ``trigger_value`` at ``trigger_distance`` from the bottom-right
    corner. ``detection="activation"`` or ``"spectral"`` runs ART's poison detector on
    each poisoned training set (torch ``nn.Sequential`` models).
    """
    with audit("poisoning", f"backdoor (target class {target_class})", requirement=requirement) as a:
        return _measure(a, model_factory, X_train, y_train, X_test, y_test, trigger, target_class, poison_fractions,
                        trigger_value, trigger_distance, detection)


def assert_backdoor_success(model_factory, X_train, y_train, X_test, y_test, *, trigger, target_class: int,
                            at_most: float, fraction: float | None = None, poison_fractions=None,
                            policy: str | None = None, trigger_value: float = 1.0, trigger_distance: int = 2,
                            detection: str | None = None, requirement=None) -> BackdoorResult:
    """Measure as :func:`backdoor` does and gate the attack success rate at ``fraction``.

    ``fraction`` defaults to the largest of ``poison_fractions``; it is added to them
    when missing. ``poison_fractions`` defaults to ``(0.0, fraction)``, or to the
    defaults of :func:`backdoor` when ``fraction`` is not given either.
    """
    with audit("poisoning", f"backdoor success (target class {target_class})", requirement=requirement) as a:
        fractions = _fractions(poison_fractions if poison_fractions is not None
                               else DEFAULT_FRACTIONS if fraction is None else (0.0, fraction))
        if fraction is not None:
            fraction = _fraction(fraction, "fraction")
            fractions = tuple(sorted({*fractions, fraction}))
        gated = fractions[-1] if fraction is None else fraction
        a.gate(metric_name("attack_success_rate", gated), at_most=at_most, policy=policy, requirement=requirement,
               bounds=(0.0, 1.0))
        a.params["gated_fraction"] = gated
        return _measure(a, model_factory, X_train, y_train, X_test, y_test, trigger, target_class, fractions,
                        trigger_value, trigger_distance, detection)


def _fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _fractions(values: Any, name: str = "poison_fractions") -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of fractions in [0, 1), got {values!r}")
    fractions = tuple(sorted({_fraction(value, f"each of {name}") for value in values}))
    if not fractions:
        raise ValueError(f"{name} is empty: give at least one fraction")
    return fractions


def _measure(a: Audit, factory, X_train, y_train, X_test, y_test, trigger, target_class, fractions, trigger_value,
             trigger_distance, detection) -> BackdoorResult:
    require("art", "robustness", "the backdoor audit (ART's PoisoningAttackBackdoor)")
    from art.attacks.poisoning import PoisoningAttackBackdoor

    X_train, y_train, X_test, y_test = validation.two_splits(
        X_train, y_train, X_test, y_test, ("X_train", "y_train", "X_test", "y_test"))
    fractions = _fractions(fractions)
    classes = np.unique(np.r_[y_train, y_test])
    if isinstance(target_class, bool) or not isinstance(target_class, numbers.Integral) or target_class not in classes:
        raise ValueError(f"target_class must be one of the labels in y_train / y_test ({classes.tolist()}), "
                         f"got {target_class!r}")
    if detection is not None and detection not in DETECTORS:
        raise ValueError(f"detection must be None or one of {', '.join(DETECTORS)}, got {detection!r}")
    stamp = trigger_stamp(trigger, X_train.shape[1:], value=trigger_value, distance=trigger_distance)
    attack = PoisoningAttackBackdoor(stamp.stamp)
    confidence = a.settings.confidence

    candidates = np.flatnonzero(y_train != target_class)
    counts = [int(round(f * len(X_train))) for f in fractions]
    if counts[-1] > len(candidates):
        raise ValueError(f"poison fraction {fractions[-1]:g} needs {counts[-1]} training samples of classes other "
                         f"than target_class {target_class}, but y_train has {len(candidates)}")
    poison_seed, training_seed, detection_seed = a.seed("poison"), a.seed("training"), a.seed("detection")
    order = np.random.default_rng(poison_seed).permutation(candidates)
    others = y_test != target_class
    if not others.any():
        raise ValueError(f"y_test holds only target_class {target_class}: the attack success rate needs test samples "
                         "of other classes")
    triggered_test, _ = attack.poison(X_test[others], y=np.asarray([target_class]), broadcast=True)

    a.describe_data({"train": (X_train, y_train), "test": (X_test, y_test)})
    a.params.update({
        "threat_model": "dirty-label backdoor (Gu et al. 2017): the attacker stamps the trigger on training samples "
                        "of other classes and relabels them as the target; the model is trained as usual",
        "poisoning": "ART PoisoningAttackBackdoor",
        **stamp.description,
        "target_class": int(target_class),
        "poison_fractions": list(fractions),
        "fraction_of": "the whole training set; poisoned sets nested, drawn from one seeded permutation",
        "n_train": int(len(X_train)),
        "n_test": int(len(X_test)),
        "n_triggered_test": int(others.sum()),
        "model_factory": describe_factory(factory),
        "poison_seed": poison_seed,
        "training_seed": training_seed,
        "detection": {"activation": "ART ActivationDefence (2 clusters, PCA to 10 dims, smaller cluster flagged)",
                      "spectral": "ART SpectralSignatureDefense (eps_multiplier 1.5)"}.get(detection, "none"),
    })

    points, model = [], None
    for fraction, count in zip(fractions, counts):
        chosen = order[:count]
        X_poisoned, y_poisoned = X_train.copy(), y_train.copy()
        if count:
            X_poisoned[chosen], labels = attack.poison(X_train[chosen], y=np.asarray([target_class]), broadcast=True)
            y_poisoned[chosen] = labels[:, 0]
        model = fit_with_factory(factory, X_poisoned, y_poisoned, training_seed)
        clean_correct = predicted_labels(model, X_test, "the trained model", "X_test") == y_test
        hits = predicted_labels(model, triggered_test, "the trained model", "the triggered X_test") == target_class
        recall = precision = None
        if detection is not None and count:
            flagged = _flagged(detection, model, X_poisoned, y_poisoned, classes, fraction, detection_seed)
            poisoned = np.zeros(len(X_train), dtype=bool)
            poisoned[chosen] = True
            recall = proportion(int((flagged & poisoned).sum()), count, confidence)
            precision = proportion(int((flagged & poisoned).sum()), int(flagged.sum()), confidence)
        points.append(BackdoorPoint(fraction, count, proportion(int(clean_correct.sum()), len(y_test), confidence),
                                    proportion(int(hits.sum()), int(hits.size), confidence), recall, precision))
    a.describe_model(model)

    checks = [_trigger_in_range(X_train, triggered_test, stamp.mask)]
    if fractions[0] > 0.0:
        checks.append(Check("a clean baseline (fraction 0)", False,
                            "poison_fractions has no 0: without the clean model's rate, the attack success rate "
                            "cannot be told from what the trigger does to any model"))
    for point in points:
        a.metric(metric_name("clean_accuracy", point.fraction), point.clean_accuracy)
        a.metric(metric_name("attack_success_rate", point.fraction), point.attack_success_rate)
        if point.detection_recall is not None:
            a.metric(metric_name("detection_recall", point.fraction), point.detection_recall)
            a.metric(metric_name("detection_precision", point.fraction), point.detection_precision)
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    _charts(a, points, target_class)
    return BackdoorResult(tuple(points), int(target_class), int(len(X_train)), int(others.sum()),
                          dict(stamp.description), tuple(checks))


def _trigger_in_range(X_train, triggered, mask) -> Check:
    """Whether the values the trigger sets are values clean inputs take: per feature for tables, over all pixels
    for images (a lit corner pixel is a value every image can hold)."""
    if X_train.ndim == 2:
        low, high = X_train.min(axis=0)[mask], X_train.max(axis=0)[mask]
        values = triggered[0, mask]
        inside = bool(np.all((values >= low) & (values <= high)))
        detail = "; ".join(f"feature {int(f)}: {v:.4g} in [{lo:.4g}, {hi:.4g}]"
                           for f, v, lo, hi in zip(np.flatnonzero(mask), values, low, high))
    else:
        low, high = float(X_train.min()), float(X_train.max())
        values = triggered.reshape(len(triggered), -1)[:, mask.reshape(-1)]
        inside = bool(values.min() >= low and values.max() <= high)
        detail = f"trigger values in [{values.min():.4g}, {values.max():.4g}]; the training data in [{low:.4g}, {high:.4g}]"
    return Check("trigger values inside the training data's range", inside,
                 detail + ("" if inside else ": a value no clean input takes makes the trigger trivially detectable"))


def _flagged(detection, model, X, y, classes, fraction, seed):
    """The training samples ART's detector flags as poisoned (a boolean per row)."""
    require("torch", "robustness", "poison detection")
    import torch
    from art.estimators.classification import PyTorchClassifier

    if not isinstance(model, torch.nn.Sequential) or len(model) < 2:
        raise TypeError(f"detection={detection!r} needs the trained model to be a torch.nn.Sequential (the detector "
                        f"clusters the output of all its children but the last); got {type(model).__name__}")
    hidden = model[:-1]
    one_hot = np.eye(int(classes.max()) + 1, dtype=np.float32)[y]
    training = model.training
    model.eval()
    try:
        classifier = PyTorchClassifier(hidden, loss=torch.nn.CrossEntropyLoss(), input_shape=tuple(X.shape[1:]),
                                       nb_classes=one_hot.shape[1], device_type="cpu")
        with seeded_global_rngs(seed):
            if detection == "activation":
                from art.defences.detector.poison import ActivationDefence

                defence = ActivationDefence(classifier, X.astype(np.float32), one_hot)
                _, is_clean = defence.detect_poison(nb_clusters=2, nb_dims=10, reduce="PCA",
                                                    cluster_analysis="smaller")
            else:
                from art.defences.detector.poison import SpectralSignatureDefense

                defence = SpectralSignatureDefense(classifier, X.astype(np.float32), one_hot, batch_size=128,
                                                   eps_multiplier=1.5, expected_pp_poison=max(fraction, 0.01))
                _, is_clean = defence.detect_poison()
    finally:
        model.train(training)
    return np.asarray(is_clean) == 0


def _charts(a: Audit, points, target_class) -> None:
    x = [p.fraction for p in points]

    def series(label, estimates):
        return extras.Series(label, x=x, y=[e.value for e in estimates], low=[e.low for e in estimates],
                             high=[e.high for e in estimates])

    a.extra(extras.Curve(
        f"Backdoor to class {target_class} against the poisoned fraction",
        x_label="poisoned fraction of the training set", y_label="rate",
        series=[series("attack success rate", [p.attack_success_rate for p in points]),
                series("clean accuracy", [p.clean_accuracy for p in points])]))
    detected = [p for p in points if p.detection_recall is not None]
    if detected:
        a.extra(extras.Table(
            "Poison detection (flagged training samples)",
            columns=["poisoned fraction", "poisoned samples", "recall", "recall CI", "precision", "precision CI"],
            rows=[[p.fraction, p.n_poisoned, round(p.detection_recall.value, 4),
                   f"[{p.detection_recall.low:.3f}, {p.detection_recall.high:.3f}]",
                   round(p.detection_precision.value, 4),
                   f"[{p.detection_precision.low:.3f}, {p.detection_precision.high:.3f}]"] for p in detected]))
