"""Model-extraction (stealing) audits: how closely a thief who can only query the model
copies it, at each query budget.

Threat model: the attacker sends ``budget`` inputs drawn from a pool of unlabelled data
from the task's distribution (``X_pool``), reads the victim's answers (labels, or class
probabilities with ``use_probability=True`` for torch victims), and trains a thief
model on them. At each budget the audit reports, on a held-out test set,

- fidelity: the share of test inputs on which the thief agrees with the victim (what the
  attacker obtained: a copy of the decision function);
- accuracy of the thief on the true labels, beside the victim's own accuracy;

each a proportion with its interval. The budgets are nested: the first ``b`` inputs of
one seeded permutation of the pool.

Attacks:

- torch victims: ART's ``CopycatCNN`` (Correia-Silva et al. 2018; ``method="copycat"``,
  the default) or ``KnockoffNets`` with random sampling (Orekondy et al. 2019;
  ``method="knockoff"``). ``thief_factory()`` returns the untrained torch module, which
  ART trains with Adam for ``epochs`` epochs;
- any other classifier with ``predict`` (scikit-learn, XGBoost): plain query-and-fit,
  the black-box attack ART's extraction attacks reduce to when the victim exposes no
  gradients and the thief is not a network. ``thief_factory`` is an unfitted
  scikit-learn-style estimator or a function ``(X, y, seed) -> fitted model``, trained
  on the victim's labels.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .. import extras, validation
from ..adapters import _is_torch_module
from ..authoring import Audit, audit
from ..dependencies import require
from ..model_training import describe_factory, fit_with_factory, predicted_labels, seeded_global_rngs
from ..records import Check, Estimate, SanityChecked
from ..stats import proportion

METHODS = ("copycat", "knockoff", "query-and-fit")


@dataclass(frozen=True)
class ExtractionPoint:
    """The thief trained on one query budget."""

    budget: int
    fidelity: Estimate
    accuracy: Estimate


@dataclass(frozen=True)
class ExtractionResult(SanityChecked):
    """What one model-extraction audit measured, one point per budget (increasing)."""

    method: str
    points: tuple[ExtractionPoint, ...]
    victim_accuracy: Estimate
    pool_size: int
    checks: tuple[Check, ...] = field(default_factory=tuple)


def metric_name(metric: str, budget: int) -> str:
    """A per-budget metric: ``fidelity@budget=1000``."""
    return f"{metric}@budget={budget}"


def model_extraction(victim, X_pool, *, thief_factory, budgets, X_test, y_test, method: str | None = None,
                     use_probability: bool = False, epochs: int = 10, batch_size: int = 64, learning_rate: float = 1e-3,
                     requirement=None) -> ExtractionResult:
    """Fidelity and accuracy of a thief trained on ``budget`` answers of ``victim``, per budget.

    ``method`` defaults to ``"copycat"`` for torch victims and ``"query-and-fit"`` for
    the others; ``use_probability``, ``epochs``, ``batch_size`` and ``learning_rate`` are
    for the torch attacks.
    """
    with audit("extraction", "model extraction", requirement=requirement) as a:
        return _measure(a, victim, X_pool, thief_factory, budgets, X_test, y_test, method, use_probability, epochs,
                        batch_size, learning_rate)


def assert_extraction_fidelity(victim, X_pool, *, thief_factory, budget: int, at_most: float, X_test, y_test,
                               budgets=None, method: str | None = None, use_probability: bool = False,
                               epochs: int = 10, batch_size: int = 64, learning_rate: float = 1e-3,
                               policy: str | None = None, requirement=None) -> ExtractionResult:
    """Measure as :func:`model_extraction` does and gate the thief's fidelity at ``budget`` (added to ``budgets``)."""
    with audit("extraction", f"extraction fidelity at {budget} queries", requirement=requirement) as a:
        budget = _budget(budget, "budget")
        budgets = tuple(sorted({*(_budgets(budgets) if budgets is not None else ()), budget}))
        a.gate(metric_name("fidelity", budget), at_most=at_most, policy=policy, requirement=requirement,
               bounds=(0.0, 1.0))
        a.params["gated_budget"] = budget
        return _measure(a, victim, X_pool, thief_factory, budgets, X_test, y_test, method, use_probability, epochs,
                        batch_size, learning_rate)


def _budget(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive number of queries, got {value!r}")
    return int(value)


def _budgets(values) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"budgets must be a list of query counts, got {values!r}")
    budgets = tuple(sorted({_budget(value, "each of budgets") for value in values}))
    if not budgets:
        raise ValueError("budgets is empty: give at least one query budget")
    return budgets


def _measure(a: Audit, victim, X_pool, thief_factory, budgets, X_test, y_test, method, use_probability, epochs,
             batch_size, learning_rate) -> ExtractionResult:
    X_pool = validation.features(X_pool, "X_pool")
    X_test = validation.features(X_test, "X_test")
    y_test = validation.labels(y_test, len(X_test), "y_test", "X_test")
    validation.check_same_rows(X_pool, X_test, "X_pool", "X_test")
    budgets = _budgets(budgets)
    if budgets[-1] > len(X_pool):
        raise ValueError(f"budget {budgets[-1]} is larger than the query pool: X_pool has {len(X_pool)} samples")
    torch_victim = _is_torch_module(victim)
    method = method if method is not None else "copycat" if torch_victim else "query-and-fit"
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if torch_victim != (method != "query-and-fit"):
        raise ValueError(f"method={method!r} is for " + ("scikit-learn / XGBoost victims" if method == "query-and-fit"
                                                         else "torch victims") +
                         f"; the victim is a {type(victim).__name__}")
    use_probability = validation.flag(use_probability, "use_probability")
    epochs = validation.positive_int(epochs, "epochs")
    batch_size = validation.positive_int(batch_size, "batch_size")
    learning_rate = validation.positive_number(learning_rate, "learning_rate", allow_zero=False)
    confidence = a.settings.confidence
    query_seed, thief_seed = a.seed("queries"), a.seed("thief")
    order = np.random.default_rng(query_seed).permutation(len(X_pool))

    victim_test = predicted_labels(victim, X_test, "victim", "X_test")
    victim_accuracy = proportion(int((victim_test == y_test).sum()), len(y_test), confidence)
    a.describe_model(victim)
    a.describe_data({"pool": X_pool, "test": (X_test, y_test)})
    a.params.update({
        "threat_model": "black-box: the attacker queries the victim on inputs from an unlabelled pool of the task's "
                        "distribution, reads its " + ("class probabilities" if use_probability and torch_victim
                                                      else "labels") + " and trains a thief on them",
        "method": {"copycat": "ART CopycatCNN", "knockoff": "ART KnockoffNets (random sampling)",
                   "query-and-fit": "query the victim's labels, fit the thief"}[method],
        "budgets": list(budgets),
        "budgets_nested": "the first b inputs of one seeded permutation of the pool",
        "pool_size": int(len(X_pool)),
        "n_test": int(len(X_test)),
        "thief_factory": describe_factory(thief_factory),
        "query_seed": query_seed,
        "thief_seed": thief_seed,
        **({"use_probability": use_probability, "epochs": epochs, "batch_size": batch_size,
            "learning_rate": learning_rate} if torch_victim else {}),
    })

    points, thief_test = [], None
    for budget in budgets:
        queries = X_pool[order[:budget]]
        if torch_victim:
            thief_test = _art_thief_labels(victim, thief_factory, queries, X_test, method, use_probability, epochs,
                                           batch_size, learning_rate, thief_seed)
        else:
            answers = predicted_labels(victim, queries, "victim", "X_pool")
            try:
                thief = fit_with_factory(thief_factory, queries, answers, thief_seed, "thief_factory")
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"thief_factory failed on {budget} queries: {exc}") from exc
            thief_test = predicted_labels(thief, X_test, "the thief", "X_test")
        points.append(ExtractionPoint(budget, proportion(int((thief_test == victim_test).sum()), len(y_test),
                                                         confidence),
                                      proportion(int((thief_test == y_test).sum()), len(y_test), confidence)))

    overlap = _shared_rows(X_pool, X_test)
    checks = (Check("test rows not in the query pool", overlap == 0,
                    f"{overlap} of {len(X_test)} test rows also appear in X_pool" if overlap else
                    "no test row appears in X_pool: fidelity is measured on inputs the thief never queried"),)
    a.metric("victim_accuracy", victim_accuracy)
    for point in points:
        a.metric(metric_name("fidelity", point.budget), point.fidelity)
        a.metric(metric_name("accuracy", point.budget), point.accuracy)
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    _chart(a, points, victim_accuracy)
    _per_answer(a, victim_test, thief_test, budgets[-1], confidence)
    return ExtractionResult(method, tuple(points), victim_accuracy, int(len(X_pool)), checks)


def _art_thief_labels(victim, thief_factory, queries, X_test, method, use_probability, epochs, batch_size,
                      learning_rate, seed):
    """The labels on ``X_test`` of a thief trained by ART's CopycatCNN or KnockoffNets on ``queries``."""
    require("torch", "robustness", "model extraction from a torch victim")
    require("art", "robustness", "model extraction from a torch victim (ART's CopycatCNN / KnockoffNets)")
    import torch
    from art.estimators.classification import PyTorchClassifier

    if not callable(thief_factory) or _is_torch_module(thief_factory):
        raise TypeError("thief_factory must be a function returning a new, untrained torch module, got "
                        f"{type(thief_factory).__name__}")
    victim_training = victim.training
    with seeded_global_rngs(seed):
        thief = thief_factory()
        if not _is_torch_module(thief):
            raise TypeError(f"thief_factory() must return a torch module for a torch victim, got {type(thief).__name__}")
        shape = tuple(queries.shape[1:])
        with torch.no_grad():
            n_classes = int(victim.eval()(torch.as_tensor(queries[:1], dtype=torch.float32)).shape[1])
        victim_art = PyTorchClassifier(victim, loss=torch.nn.CrossEntropyLoss(), input_shape=shape,
                                       nb_classes=n_classes, device_type="cpu")
        thief_art = PyTorchClassifier(thief, loss=torch.nn.CrossEntropyLoss(), input_shape=shape,
                                      optimizer=torch.optim.Adam(thief.parameters(), lr=learning_rate),
                                      nb_classes=n_classes, device_type="cpu")
        queries = queries.astype(np.float32)
        if method == "copycat":
            from art.attacks.extraction import CopycatCNN

            attack = CopycatCNN(victim_art, batch_size_fit=batch_size, batch_size_query=256, nb_epochs=epochs,
                                nb_stolen=len(queries), use_probability=use_probability)
            stolen = attack.extract(queries, thieved_classifier=thief_art)
        else:
            from art.attacks.extraction import KnockoffNets

            attack = KnockoffNets(victim_art, batch_size_fit=batch_size, batch_size_query=256, nb_epochs=epochs,
                                  nb_stolen=len(queries), sampling_strategy="random", use_probability=use_probability)
            stolen = attack.extract(queries, thieved_classifier=thief_art)
    victim.train(victim_training)
    return stolen.predict(X_test.astype(np.float32), batch_size=512).argmax(axis=1)


def _per_answer(a: Audit, victim_test, thief_test, budget, confidence) -> None:
    """Fidelity on the test inputs of each victim answer, at the largest budget: on imbalanced data the overall
    agreement is the majority class's, and the minority's can be far lower."""
    bars = []
    for answer in np.unique(victim_test):
        rows = victim_test == answer
        estimate = proportion(int((thief_test[rows] == answer).sum()), int(rows.sum()), confidence)
        bars.append(extras.Bar(f"victim says {answer}", estimate.value, estimate.low, estimate.high))
    a.extra(extras.Bars(f"Fidelity by the victim's answer ({budget} queries)", metric="fidelity", bars=bars))


def _shared_rows(X_pool, X_test) -> int:
    """How many rows of ``X_test`` are also rows of ``X_pool`` (exact byte equality)."""
    pool = {row.tobytes() for row in np.ascontiguousarray(X_pool.reshape(len(X_pool), -1))}
    return sum(row.tobytes() in pool for row in np.ascontiguousarray(X_test.reshape(len(X_test), -1)))


def _chart(a: Audit, points, victim_accuracy) -> None:
    x = [p.budget for p in points]

    def series(label, estimates):
        return extras.Series(label, x=x, y=[e.value for e in estimates], low=[e.low for e in estimates],
                             high=[e.high for e in estimates])

    a.extra(extras.Curve(
        "Model extraction: the thief against the query budget", x_label="queries to the victim", y_label="rate",
        x_scale="log" if len(x) > 1 and x[-1] / x[0] >= 10 else "linear",
        series=[series("fidelity (agreement with the victim)", [p.fidelity for p in points]),
                series("thief accuracy", [p.accuracy for p in points]),
                series("victim accuracy", [victim_accuracy] * len(points))]))
