"""The robustness audit functions: measure clean and robust accuracy under an attack.

Robust accuracy is counted over *all* samples (a sample misclassified before the
attack counts as not robust, and is not attacked), attack success rate over the
correctly classified ones only; each comes with its interval. Data is attacked batch
by batch, so memory follows the batch size, not the data set size. Every audit runs
the sanity checks of :mod:`.sanity` on a bounded subsample.

Each public function is one ``with audit(...) as a:`` block (the authoring API);
:func:`assert_robust_accuracy` declares its gate first, so a bad threshold fails
before anything is measured, then measures with the same :func:`_measure` as
:func:`robustness`. The set-up (:func:`prepare`), the measuring loop
(:func:`attack_outcomes`) and the sanity checks (:func:`run_checks`) are shared with
the robustness curves of :mod:`.curves`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import validation
from ..adapters import as_classifier
from ..authoring import Audit, audit
from ..dependencies import require
from ..progress import Task
from ..records import Check, Estimate, SanityChecked
from ..stats import paired_difference, proportion
from . import sanity
from .attacks import FGSM
from .autoattack import StageOutcome, metric_name, stage_outcomes, staged, stages_table
from .protocol import describe_attack, is_attack, require_attack, run_attack

SANITY_SAMPLES = 32


@dataclass(frozen=True)
class RobustnessResult(SanityChecked):
    """What one robustness audit measured."""

    clean_accuracy: Estimate
    robust_accuracy: Estimate
    attack_success_rate: Estimate
    accuracy_drop: Estimate
    n: int
    attack: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)
    stages: tuple[StageOutcome, ...] = ()  # an ensemble's (AutoAttack's) per-attack breakdown


def robustness(model, X, y=None, *, attack, clip, batch_size: int = 256, device: str | None = None,
               normalization=None, requirement=None, sanity_samples: int = SANITY_SAMPLES,
               strict: bool = False) -> RobustnessResult:
    """Clean accuracy, robust accuracy, attack success rate and accuracy drop of ``model``.

    ``clip=(low, high)`` declares the input domain, as two numbers or per-feature
    arrays (see :func:`feature_range` for tabular data): ``X`` must lie inside it,
    and adversarial examples are clipped to it. ``normalization=(mean, std)`` is
    applied inside the model, so attacks run on raw inputs. The sanity checks run on
    up to ``sanity_samples`` samples (0 turns them off); ``strict=True`` makes a
    failed check fail the audit. ``X`` may be a torch DataLoader or any iterable of
    ``(X, y)`` batches (then ``y`` is not given): one pass at the memory of a batch
    (:mod:`.streaming`).
    """
    with audit("robustness", audit_name("robustness", attack), requirement=requirement) as a:
        return _measure(a, model, X, y, attack, clip, batch_size, device, normalization, sanity_samples, strict)


def assert_robust_accuracy(model, X, y=None, *, attack, clip, at_least: float | None = None, at_most: float | None = None,
                           policy: str | None = None, batch_size: int = 256, device: str | None = None,
                           normalization=None, requirement=None, sanity_samples: int = SANITY_SAMPLES,
                           strict: bool = False) -> RobustnessResult:
    """Measure as :func:`robustness` does, record a gate on robust accuracy, fail on a miss."""
    with audit("robustness", audit_name("robust accuracy", attack), requirement=requirement) as a:
        a.gate("robust_accuracy", at_least=at_least, at_most=at_most, policy=policy, requirement=requirement,
               bounds=(0.0, 1.0))
        return _measure(a, model, X, y, attack, clip, batch_size, device, normalization, sanity_samples, strict)


def audit_name(base: str, attack: Any) -> str:
    """``base`` and the attack it runs under, e.g. ``robustness under FGSM (eps=0.03, Linf)``."""
    return f"{base} under {attack_label(describe_attack(attack))}" if is_attack(attack) else base


def feature_range(X_train, margin: float = 0.0) -> tuple[Any, Any]:
    """Per-feature bounds ``(low, high)`` of the training data, for ``clip=`` on tabular data.

    The domain of a tabular model is where its training data lives: attacks are
    clipped to it feature by feature. ``margin`` widens each range by that fraction
    of its width on both sides (e.g. 0.05 to admit test data slightly outside it).
    """
    X_train = validation.features(X_train, "X_train")
    margin = validation.positive_number(margin, "margin")
    low, high = X_train.min(axis=0).astype(np.float64), X_train.max(axis=0).astype(np.float64)
    width = np.where(high > low, high - low, 1.0)
    return low - margin * width, high + margin * width


@dataclass
class Audited:
    """A validated audit set-up: the data, the adapted model and the domain as tensors."""

    X: Any
    y: Any
    classifier: Any
    clip: tuple[Any, Any]
    batch_size: int
    bounds: tuple[Any, Any]  # the domain as declared (numpy), for the record


def prepare(a: Audit, model, X, y, clip, batch_size, device, normalization, attack: dict[str, Any],
            sanity_samples: int, strict: bool) -> Audited:
    """Validate the inputs, adapt the model and describe the model, data and params in the audit."""
    audited = set_up(model, X, y, clip, batch_size, device, normalization)
    audited.X, audited.y = a.shard_rows(audited.X, audited.y)  # --mlaudit-shard i/k: the i-th block of rows
    check_eps_fits_domain(attack, *audited.bounds)
    sanity_samples = validation.positive_int(sanity_samples, "sanity_samples", allow_zero=True)
    strict = validation.flag(strict, "strict")
    low, high = audited.bounds
    a.describe_model(audited.classifier.describe())  # the model as the audit sees it: normalization, gradients
    a.describe_data((audited.X, audited.y))
    a.params.update({
        **attack,
        "clip": [_jsonable(low), _jsonable(high)],
        "batch_size": audited.batch_size,
        "device": str(audited.classifier.device),
        "n_samples": int(audited.X.shape[0]),
        "input_shape": list(audited.X.shape[1:]),
        "sanity_samples": sanity_samples,
        "strict": bool(strict),
    })
    return audited


def check_eps_fits_domain(attack: dict[str, Any], low, high) -> None:
    """Refuse an L-inf eps wider than the input domain (8 against [0, 1]: eps in 0-255 units), unless allowed.

    Such an eps can move every input to any point of the domain, so robust accuracy
    is meaningless; it is almost always a units mistake. ``allow_large_eps=True`` on
    the attack says it is meant (e.g. probing accuracy near chance).
    """
    import numpy as np

    if attack.get("norm") != "Linf" or attack.get("allow_large_eps"):
        return
    values = attack.get("eps")
    values = values if isinstance(values, list) else [values]
    width = float(np.max(np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)))
    too_large = [value for value in values if isinstance(value, (int, float)) and value > width]
    if too_large:
        raise ValueError(
            f"{attack.get('attack', 'attack')} eps={too_large[0]:g} is larger than the input domain's width "
            f"({width:g}): every input could be moved anywhere in the domain. Is eps in other units than the "
            f"data (e.g. 8 for 8/255 on [0, 1] images)? Give eps in the domain's units, or pass "
            f"allow_large_eps=True to the attack if it is meant."
        )


def set_up(model, X, y, clip, batch_size, device, normalization) -> Audited:
    """Validate the data and its declared domain, adapt the model; the domain as tensors on its device."""
    import torch

    X = validation.features(X, "X")
    y = validation.labels(y, X.shape[0], "y")
    low, high = validation.domain(clip)
    check_domain_shape(low, high, X)
    validation.check_in_domain(X, low, high)
    batch_size = validation.positive_int(batch_size, "batch_size")
    classifier = as_classifier(model, device=device, normalization=normalization)
    dev = classifier.device
    clip_tensors = (torch.as_tensor(low, dtype=torch.float32, device=dev),
                    torch.as_tensor(high, dtype=torch.float32, device=dev))
    return Audited(X, y, classifier, clip_tensors, batch_size, (low, high))


def sample_outcomes(model, X, y, *, attack, clip, batch_size: int = 256, device: str | None = None,
                    normalization=None, seed: int = 0) -> tuple[Any, Any]:
    """Per sample, whether ``model`` classifies it correctly: clean, and under ``attack``.

    The measurement behind :func:`robustness`, without an audit record: for audits of
    your own that compare models on the same samples (e.g. a paired difference of
    robust accuracy with ``mla.paired_difference``). Returns two boolean arrays,
    ``(clean_correct, robust_correct)``; a sample misclassified clean is not attacked
    and counts as not robust. The arguments are checked as :func:`robustness` checks
    them; ``seed`` seeds the attack's random starts (inside ``mla.audit`` pass
    ``a.seed("attack")``).
    """
    import torch

    require_attack(attack)
    seed = validation.positive_int(seed, "seed", allow_zero=True)
    audited = set_up(model, X, y, clip, batch_size, device, normalization)
    label = f"{attack_label(describe_attack(attack))} on {type(model).__name__}"
    clean_correct, (robust_correct,) = attack_outcomes(audited, [attack], torch.Generator().manual_seed(seed), label)
    return clean_correct, robust_correct


def check_domain_shape(low, high, X) -> None:
    for bound in (low, high):
        try:
            fits = np.broadcast_shapes(bound.shape, X.shape[1:]) == X.shape[1:]
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"clip bounds of shape {bound.shape} do not fit samples of shape {X.shape[1:]}: give two numbers "
                f"or per-feature arrays shaped like one sample (or broadcastable to it)"
            )


def attack_outcomes(audited: Audited, attacks: list[Any], generator: Any, label: str = "attack") -> tuple[Any, list[Any]]:
    """Which samples are classified correctly, clean and under each attack.

    ``attacks`` are in order of increasing strength (the eps of a curve): a sample
    broken by one is not attacked by the next, so its robustness is cumulative. An
    all-FGSM sweep on a differentiable model takes one gradient pass per batch
    (which also gives the clean logits) and one forward pass per eps. Progress is
    reported per batch under ``label`` (shown only when the work takes seconds).
    """
    import torch

    X, y, classifier, clip = audited.X, audited.y, audited.classifier, audited.clip
    fgsm_sweep = classifier.differentiable and all(type(attack) is FGSM for attack in attacks)
    clean_correct = np.zeros(len(X), dtype=bool)
    robust = [np.zeros(len(X), dtype=bool) for _ in attacks]
    batches = range(0, len(X), audited.batch_size)
    with classifier.audit_mode(), Task(f"{label}, {len(X):,} samples: batch", len(batches)) as task:
        for start in batches:
            xb = torch.as_tensor(np.ascontiguousarray(X[start:start + audited.batch_size]), dtype=torch.float32)
            xb, yb = xb.to(classifier.device), torch.as_tensor(y[start:start + len(xb)]).to(classifier.device)
            if start == 0:
                _probe(classifier, xb, y)
            if fgsm_sweep:
                logits, grad = classifier.logits_and_gradient(xb, yb)
            else:
                with torch.no_grad():
                    logits = classifier.logits(xb)
            remaining = (logits.argmax(1) == yb).nonzero().squeeze(1)
            clean_correct[start + remaining.cpu().numpy()] = True
            for outcome, attack in zip(robust, attacks):
                if len(remaining):
                    if fgsm_sweep:
                        x_adv = attack.step(xb[remaining], grad[remaining], clip)
                    else:
                        x_adv = run_attack(attack, classifier, xb[remaining], yb[remaining], clip, generator)
                    with torch.no_grad():
                        remaining = remaining[classifier.logits(x_adv).argmax(1) == yb[remaining]]
                outcome[start + remaining.cpu().numpy()] = True
            task.advance()
    return clean_correct, robust


def _probe(classifier: Any, xb: Any, y: Any) -> None:
    """One small forward pass that turns a model/data mismatch into a clear error."""
    import torch

    try:
        with torch.no_grad():
            logits = classifier.logits(xb[:8])
    except Exception as exc:
        raise ValueError(
            f"model could not be applied to X (samples of shape {tuple(xb.shape[1:])}): {type(exc).__name__}: {exc}"
        ) from exc
    sanity.refuse_probabilities(logits)
    validation.check_labels_fit(y, logits.shape[1])


def run_checks(a: Audit, audited: Audited, attack: Any, clean_correct, robust_correct, sanity_samples: int,
               strict: bool) -> tuple[Check, ...]:
    """The sanity checks on the first correctly classified samples; recorded, and failing the audit when strict."""
    import torch

    chosen = np.flatnonzero(clean_correct)[:sanity_samples]
    if len(chosen) == 0:
        return ()
    classifier = audited.classifier
    x = torch.as_tensor(np.ascontiguousarray(audited.X[chosen]), dtype=torch.float32).to(classifier.device)
    y = torch.as_tensor(audited.y[chosen]).to(classifier.device)
    generator = torch.Generator().manual_seed(a.seed("sanity"))
    with classifier.audit_mode():
        checks = sanity.evaluation_checks(classifier, describe_attack(attack), x, y, robust_correct[chosen],
                                          audited.clip, generator)
    for check in checks:
        a.check(check.name, check.passed, check.detail)
        if strict and not check.passed:
            a.fail(f"{a.name}: sanity check '{check.name}' failed (strict=True): {check.detail}")
    return tuple(checks)


def attack_generator(a: Audit) -> Any:
    """The seeded generator of the attack's random starts; its seed goes into the audit's params."""
    import torch

    seed = a.seed("attack")
    a.params["seed"] = seed
    return torch.Generator().manual_seed(seed)


def _measure(a: Audit, model, X, y, attack, clip, batch_size, device, normalization, sanity_samples,
             strict) -> RobustnessResult:
    """Measure one attack on the model and record the four metrics into ``a``."""
    require("torch", "robustness")
    require_attack(attack)
    from .streaming import is_stream, measure_stream

    if is_stream(X, y):
        return measure_stream(a, model, X, attack, clip, batch_size, device, normalization, sanity_samples, strict)
    if y is None:
        raise TypeError("y is required with an array X; to stream, give X as a DataLoader or an iterable of "
                        "(X, y) batches")
    attack_params = describe_attack(attack)
    audited = prepare(a, model, X, y, clip, batch_size, device, normalization, attack_params, sanity_samples, strict)
    stages, left_out = staged(attack, audited.classifier, audited.X)
    attacks = [stage.attack for stage in stages] or [attack]
    clean_correct, outcomes = attack_outcomes(audited, attacks, attack_generator(a), a.name)
    robust_correct = outcomes[-1]
    checks = run_checks(a, audited, attack, clean_correct, robust_correct, sanity_samples, strict)
    result = summarize(clean_correct, robust_correct, a.settings.confidence, attack_params, checks)
    for name in ("clean_accuracy", "robust_accuracy", "attack_success_rate", "accuracy_drop"):
        a.metric(name, getattr(result, name))
    a.outcomes("clean_accuracy", clean_correct)
    a.outcomes("robust_accuracy", robust_correct)
    if stages:
        result = _record_stages(a, result, stages, left_out, clean_correct, outcomes, strict)
    return result


def _record_stages(a: Audit, result: RobustnessResult, stages, left_out, clean_correct, outcomes,
                   strict: bool) -> RobustnessResult:
    """An ensemble's breakdown: params, a table, a metric per attack and the ensemble's own sanity check."""
    breakdown = stage_outcomes(stages, clean_correct, outcomes, a.settings.confidence)
    a.params["stages"] = [{**describe_attack(stage.attack), "name": stage.name, "note": stage.note,
                           "attacked": o.attacked, "broken": o.broken} for stage, o in zip(stages, breakdown)]
    a.params["left_out"] = left_out
    for o in breakdown:
        a.metric(metric_name(o.name), o.robust_accuracy)
    a.extra(stages_table(breakdown, result.clean_accuracy))
    check = sanity.black_box_adds_little([(o.name, describe_attack(stage.attack).get("knowledge") == "black-box",
                                           o.attacked, o.broken) for stage, o in zip(stages, breakdown)])
    a.check(check.name, check.passed, check.detail)
    if strict and not check.passed:
        a.fail(f"{a.name}: sanity check '{check.name}' failed (strict=True): {check.detail}")
    return dataclasses.replace(result, checks=(*result.checks, check), stages=tuple(breakdown))


def summarize(clean_correct, robust_correct, confidence: float, attack: dict[str, Any], checks=()) -> RobustnessResult:
    """Estimates from per-sample outcomes before and after the attack."""
    n = int(clean_correct.size)
    both = int(np.count_nonzero(clean_correct & robust_correct))
    broken = int(np.count_nonzero(clean_correct & ~robust_correct))
    fixed = int(np.count_nonzero(~clean_correct & robust_correct))
    return summarize_counts(both, broken, fixed, n - both - broken - fixed, confidence, attack, checks)


def summarize_counts(both: int, broken: int, fixed: int, neither: int, confidence: float, attack: dict[str, Any],
                     checks=()) -> RobustnessResult:
    """Estimates from the four counts of (clean correct, robust correct): enough for a stream or pooled shards."""
    n = both + broken + fixed + neither
    clean = both + broken
    return RobustnessResult(
        clean_accuracy=proportion(clean, n, confidence),
        robust_accuracy=proportion(both + fixed, n, confidence),
        attack_success_rate=proportion(broken, clean, confidence),
        accuracy_drop=paired_difference(both, broken, fixed, neither, confidence),
        n=n,
        attack=attack,
        checks=checks,
    )


def attack_label(params: dict[str, Any]) -> str:
    """The attack as the audit's name shows it: ``FGSM (eps=0.03, Linf)``."""
    label = str(params.get("attack", "attack"))
    if params.get("eps") is not None:
        label += f" (eps={params['eps']:.4g}, {params.get('norm', 'Linf')})"
    return label


def _jsonable(bound) -> float | list:
    return float(bound) if bound.ndim == 0 else bound.tolist()
