"""Privacy-utility audits: test accuracy of DP models over many seeds, per epsilon,
beside a non-private baseline, with every model's privacy spend accounted.

DP training is random, so one trained model proves nothing: each epsilon is trained
once per seed and summarized by the mean (its interval carries both the seed-to-seed
variation and the finite test set) and by a low quantile (p05: "95% of trainings do
at least this well"). Seeds derive from ``--mlaudit-seed``, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import extras, validation
from ..adapters import describe_model
from ..authoring import Audit, audit
from ..estimators import seeded_clone
from ..records import Estimate
from ..stats import crossed_proportion, proportion, quantile_interval
from . import training

STATISTICS = ("mean", "p05")
LOW_QUANTILE = 0.05


@dataclass(frozen=True)
class DPPoint:
    """Accuracy of the DP models trained at one epsilon, and the budget they spent."""

    epsilon: float
    mean_accuracy: Estimate
    p05_accuracy: Estimate
    std: float
    min: float
    max: float
    accuracies: tuple[float, ...]  # one per seed, in seed order
    spent_epsilon: float  # per model, as its BudgetAccountant recorded it (or the model stated it)
    spent_delta: float
    composed_epsilon: float  # all seeds' models at this epsilon together (sequential composition)
    composed_delta: float
    accountant: str = training.DIFFPRIVLIB_ACCOUNTANT  # who accounted the spends


@dataclass(frozen=True)
class DPUtilityResult:
    """What one privacy-utility audit measured."""

    points: tuple[DPPoint, ...]
    baseline_accuracy: Estimate | None
    seeds: tuple[int, ...]
    n_test: int

    def at(self, epsilon: float) -> DPPoint:
        for point in self.points:
            if point.epsilon == epsilon:
                return point
        raise KeyError(f"epsilon={epsilon:g} was not measured; measured: {[p.epsilon for p in self.points]}")


def dp_utility(factory: Callable, X_train, y_train, X_test, y_test, *, epsilons, seeds: int = 20, baseline=None,
               allow_privacy_leak: bool = False, requirement=None) -> DPUtilityResult:
    """Test accuracy of ``factory(epsilon, seed)`` models over ``seeds`` seeds at each epsilon.

    ``factory`` returns an unfitted DP estimator (e.g. ``diffprivlib.models.LogisticRegression(
    epsilon=epsilon, data_norm=..., random_state=seed)``, or any model with an ``epsilon``
    parameter that states its spend after ``fit`` as ``epsilon_``, ``delta_`` and
    ``accountant_``, such as a DP-SGD model trained with Opacus); ``baseline`` an unfitted
    non-private one, trained once for comparison. The report gets the privacy-utility
    curve and a per-epsilon table with the budget each model spent.
    """
    with audit("privacy", "privacy-utility", requirement=requirement) as a:
        return _measure(a, factory, X_train, y_train, X_test, y_test, epsilons, seeds, baseline,
                        allow_privacy_leak)


def assert_dp_accuracy_floor(factory: Callable, X_train, y_train, X_test, y_test, *, epsilon: float,
                             at_least: float, seeds: int = 20, statistic: str = "mean", baseline=None,
                             policy: str | None = None, allow_privacy_leak: bool = False, requirement=None) -> DPUtilityResult:
    """Measure as :func:`dp_utility` at one epsilon and gate its mean (or p05) accuracy.

    ``statistic="mean"`` gates the expected accuracy of a training run; ``"p05"`` the
    accuracy that 95% of training runs reach. Note that a distribution-free interval
    for p05 needs many seeds: with fewer than about 72 its lower end is 0, so
    ``policy="lower"`` on p05 fails until ``seeds`` is raised.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    with audit("privacy", f"DP accuracy floor ({statistic})", requirement=requirement) as a:
        epsilon = training.check_epsilons([epsilon], "epsilon")[0]  # the gated metric is named by it
        a.gate(_metric_name(statistic, epsilon), at_least=at_least, policy=policy, requirement=requirement,
               bounds=(0.0, 1.0))
        return _measure(a, factory, X_train, y_train, X_test, y_test, [epsilon], seeds, baseline,
                        allow_privacy_leak, epsilons_name="epsilon")


def _metric_name(statistic: str, epsilon: float) -> str:
    return f"accuracy_{statistic}@eps={epsilon:g}"


def _measure(a: Audit, factory, X_train, y_train, X_test, y_test, epsilons, seeds, baseline,
             allow_privacy_leak, epsilons_name: str = "epsilons") -> DPUtilityResult:
    if not callable(factory):
        raise TypeError(f"factory must be a callable factory(epsilon, seed) returning an unfitted DP estimator, "
                        f"got {type(factory).__name__}")
    X_train, y_train, X_test, y_test = validation.two_splits(
        X_train, y_train, X_test, y_test, ("X_train", "y_train", "X_test", "y_test"))
    classes = np.unique(y_train)
    if classes.size < 2:
        raise ValueError(f"y_train holds a single class ({classes[0]}): a classifier learns from at least two")
    validation.check_known_labels(y_test, classes, "y_test", "that y_train does not have")
    epsilons = training.check_epsilons(epsilons, epsilons_name)
    n_seeds = training.check_seeds(seeds)
    allow_privacy_leak = validation.flag(allow_privacy_leak, "allow_privacy_leak")
    if baseline is not None:
        training.check_baseline(baseline)
    confidence = a.settings.confidence

    seed_list = tuple(int(s) for s in np.random.SeedSequence(a.seed("training")).generate_state(n_seeds))
    grid = training.train_all(factory, X_train, y_train, X_test, y_test, epsilons, seed_list,
                              allow_privacy_leak)
    points = tuple(_point(epsilon, row, confidence) for epsilon, row in zip(epsilons, grid))
    baseline_accuracy, baseline_seeds = _baseline_accuracy(baseline, X_train, y_train, X_test, y_test, seed_list[0],
                                                           confidence)
    if baseline is not None:
        a.params["baseline_seeds"] = baseline_seeds

    example = training.build_model(factory, epsilons[0], seed_list[0])
    data_norm_clipping = training.data_norm_clipping(example, X_train)
    bounds_clipping = training.bounds_clipping(example, X_train)
    a.describe_model(example)
    a.describe_data((X_train, y_train, X_test, y_test))
    a.params.update({
        "epsilons": list(epsilons),
        "seeds": n_seeds,
        "seed_values": list(seed_list),
        "n_train": int(X_train.shape[0]),
        "n_test": int(X_test.shape[0]),
        "low_quantile": LOW_QUANTILE,
        "baseline": None if baseline is None else describe_model(baseline),
        "allow_privacy_leak": bool(allow_privacy_leak),
        "budget": _budget_summary(points, n_seeds),
        "data_norm_clipping": data_norm_clipping,
        "bounds_clipping": bounds_clipping,
    })
    for point in points:
        a.metric(_metric_name("mean", point.epsilon), point.mean_accuracy)
        a.metric(_metric_name("p05", point.epsilon), point.p05_accuracy)
    if baseline_accuracy is not None:
        a.metric("baseline_accuracy", baseline_accuracy)
    _record_checks(a, grid)
    for name, passed, detail in training.clipping_checks(data_norm_clipping, bounds_clipping):
        a.check(name, passed, detail)
    a.extra(_curve(points, baseline_accuracy, n_seeds))
    a.extra(_accuracy_table(points, baseline_accuracy))
    a.extra(_budget_table(points, n_seeds))
    mechanism = _mechanism_table(epsilons, grid)
    if mechanism is not None:
        a.extra(mechanism)
    return DPUtilityResult(points, baseline_accuracy, seed_list, int(X_test.shape[0]))


def _point(epsilon: float, row: list[training.TrainedModel], confidence: float) -> DPPoint:
    correct = np.stack([fit.correct for fit in row])
    accuracies = correct.mean(axis=1)
    per_model = [training.compose(fit.spent) if fit.spent else (0.0, 0.0) for fit in row]
    composed = training.compose([s for fit in row for s in fit.spent]) if row[0].spent else (0.0, 0.0)
    return DPPoint(
        epsilon=epsilon,
        mean_accuracy=crossed_proportion(correct, confidence),
        p05_accuracy=quantile_interval(accuracies, LOW_QUANTILE, confidence),
        std=float(accuracies.std(ddof=1)),
        min=float(accuracies.min()),
        max=float(accuracies.max()),
        accuracies=tuple(float(a) for a in accuracies),
        spent_epsilon=float(max(e for e, _ in per_model)),
        spent_delta=float(max(d for _, d in per_model)),
        composed_epsilon=float(composed[0]),
        composed_delta=float(composed[1]),
        accountant=_accountants(row),
    )


def _accountants(fits) -> str:
    names = list(dict.fromkeys(fit.accountant for fit in fits))
    return "; ".join(names)


def _baseline_accuracy(baseline, X_train, y_train, X_test, y_test, seed: int,
                       confidence: float) -> tuple[Estimate | None, dict[str, Any]]:
    """The non-private baseline's test accuracy (a clone, seeded where the user left random_state None)."""
    if baseline is None:
        return None, {}
    model, seeds = seeded_clone(baseline, seed)
    model.fit(X_train, y_train)
    correct = int((model.predict(X_test) == y_test).sum())
    return proportion(correct, int(y_test.shape[0]), confidence), seeds


def _record_checks(a: Audit, grid: list[list[training.TrainedModel]]) -> None:
    fits = [fit for row in grid for fit in row]
    unaccounted = [fit for fit in fits if not fit.spent]
    overspent = [fit for fit in fits if fit.spent and sum(e for e, _ in fit.spent) > fit.epsilon * (1 + 1e-9)]
    accountant = _accountants(fits)
    detail = f"{len(fits)} models; each spent its requested epsilon, accounted by {accountant}"
    if unaccounted:
        detail = (f"{len(unaccounted)} of {len(fits)} models recorded no spend (on a diffprivlib BudgetAccountant, "
                  f"or stated as epsilon_ after fit): {unaccounted[0].accountant}")
    elif overspent:
        fit = overspent[0]
        detail = (f"{len(overspent)} of {len(fits)} models spent more than requested, e.g. "
                  f"{sum(e for e, _ in fit.spent):g} for epsilon={fit.epsilon:g}")
    a.check("privacy budget accounted", not unaccounted and not overspent, detail)
    if not any(fit.accountant == training.DIFFPRIVLIB_ACCOUNTANT for fit in fits):
        return  # PrivacyLeakWarning is diffprivlib's: other libraries' models have no such check
    leaky = [fit for fit in fits if fit.leaks]
    a.check("no privacy leak", not leaky,
               f"{len(leaky)} models read a bound from the private data: {leaky[0].leaks[0].splitlines()[0]}"
               if leaky else "no PrivacyLeakWarning during training")


def _budget_summary(points: tuple[DPPoint, ...], n_seeds: int) -> dict:
    return {
        "accountant": _accountant_summary(points),
        "per_model": [{"epsilon": p.spent_epsilon, "delta": p.spent_delta} for p in points],
        "models_trained": n_seeds * len(points),
        "note": "each released model is (epsilon, delta)-DP; the audit itself trained every model on the same data, "
                "so releasing all of them would compose to the sums in the budget table",
    }


def _accountant_summary(points) -> str:
    names = list(dict.fromkeys(p.accountant for p in points))
    if names == [training.DIFFPRIVLIB_ACCOUNTANT]:
        return "diffprivlib.BudgetAccountant, one per model"
    return "; ".join(names)


def _curve(points, baseline: Estimate | None, n_seeds: int) -> extras.Curve:
    x = [p.epsilon for p in points]
    series = [
        extras.Series(f"DP mean over {n_seeds} seeds", x=x, y=[p.mean_accuracy.value for p in points],
                      low=[p.mean_accuracy.low for p in points], high=[p.mean_accuracy.high for p in points]),
        extras.Series(f"DP p05 over {n_seeds} seeds", x=x, y=[p.p05_accuracy.value for p in points],
                      low=[p.p05_accuracy.low for p in points], high=[p.p05_accuracy.high for p in points]),
    ]
    if baseline is not None:
        series.append(extras.Series("non-private baseline", x=x, y=[baseline.value] * len(x),
                                    low=[baseline.low] * len(x), high=[baseline.high] * len(x)))
    return extras.Curve("Privacy-utility: test accuracy against epsilon", x_label="epsilon (log scale)",
                        y_label="test accuracy", series=series, x_scale="log")


def _accuracy_table(points, baseline: Estimate | None) -> extras.Table:
    rows = [[p.epsilon, round(p.mean_accuracy.value, 4), round(p.mean_accuracy.low, 4), round(p.mean_accuracy.high, 4),
             round(p.std, 4), round(p.min, 4), round(p.p05_accuracy.value, 4), round(p.max, 4), len(p.accuracies)]
            for p in points]
    if baseline is not None:
        rows.append(["non-private", round(baseline.value, 4), round(baseline.low, 4), round(baseline.high, 4),
                     None, None, None, None, 1])
    return extras.Table("Test accuracy per epsilon", columns=["epsilon", "mean", "mean low", "mean high", "std",
                                                              "min", "p05", "max", "seeds"], rows=rows)


def _budget_table(points, n_seeds: int) -> extras.Table:
    rows = [[p.epsilon, p.spent_epsilon, p.spent_delta, n_seeds, p.composed_epsilon, p.composed_delta] for p in points]
    return extras.Table(f"Privacy budget ({_accountant_summary(points)})",
                        columns=["requested epsilon", "spent epsilon per model", "spent delta per model", "models",
                                 "composed epsilon (all models)", "composed delta (all models)"], rows=rows)


def _mechanism_table(epsilons, grid) -> extras.Table | None:
    """The numbers behind each epsilon's accounting, when the models state them (``accounting_``, e.g. Opacus')."""
    rows = []
    for epsilon, row in zip(epsilons, grid):
        stated = [fit.accounting for fit in row if fit.accounting]
        if not stated:
            continue
        first = stated[0]
        spent = [e for fit in row for e, _ in fit.spent]
        rows.append([epsilon, first.get("accountant"), first.get("noise_multiplier"), first.get("max_grad_norm"),
                     first.get("sample_rate"), first.get("steps"), first.get("delta"),
                     round(max(spent), 4) if spent else None])
    if not rows:
        return None
    return extras.Table("DP mechanism per epsilon (as the models state it)",
                        columns=["requested epsilon", "accountant", "noise multiplier", "clipping norm",
                                 "sampling rate", "steps", "delta", "spent epsilon (max over seeds)"], rows=rows)
