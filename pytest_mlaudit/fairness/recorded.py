"""What a fairness record shows besides its gates: params, metrics by name, bar charts and tables.

``runs`` is a list of ``(prefix, FairnessResult)``: one run with prefix ``""`` for an
audit of one model, ``unmitigated`` and ``mitigated`` for a mitigation comparison.
"""

from __future__ import annotations

from typing import Any

from .. import extras
from ..authoring import Audit
from ..records import Estimate, jsonable
from .groups import CountTable
from .metrics import BOOTSTRAP_METHOD, DISPARITIES, GROUP_RATES
from .results import FOUR_FIFTHS, FairnessResult, GroupFairness


def params(sensitive, result: FairnessResult, positive_label, n_bootstrap) -> dict[str, Any]:
    """The params of a fairness record: the groups, their sizes, the bootstrap. ``sensitive``: a frame or column names."""
    return {
        "sensitive_features": list(getattr(sensitive, "columns", sensitive)),
        "groups": [g.group for g in result.intersection.groups],
        "group_sizes": [g.size for g in result.intersection.groups],
        "positive_label": jsonable(positive_label),
        "n_samples": result.n,
        "n_bootstrap": n_bootstrap,
        "bootstrap": BOOTSTRAP_METHOD,
        "four_fifths_threshold": FOUR_FIFTHS,
    }


def count_params(table: CountTable, bootstrap_seed: int) -> dict[str, Any]:
    """What a merge of data shards needs to recompute the record exactly: the per-group counts and the seed."""
    return {"confusion_counts": table.to_json(), "bootstrap_seed": bootstrap_seed}


def record_metrics(a: Audit, result: FairnessResult, prefix: str) -> None:
    for name, estimate in metrics_of(result, prefix).items():
        a.metric(name, estimate)


def metrics_of(result: FairnessResult, prefix: str = "") -> dict[str, Estimate]:
    """Accuracy and the disparities (of the intersection, then of each feature alone as ``name[feature]``)."""
    metrics = {prefix + "accuracy": result.accuracy}
    for name in DISPARITIES:
        metrics[prefix + name] = getattr(result.intersection, name)
    for part in result.by_feature:
        for name in DISPARITIES:
            metrics[f"{prefix}{name}[{part.features[0]}]"] = getattr(part, name)
    return metrics


def record_figures(a: Audit, runs: list[tuple[str, FairnessResult]]) -> None:
    """The bar charts (per-group rates; disparities when comparing) and the tables of the runs."""
    first = runs[0][1]
    for chart in group_bars(first.intersection, runs):
        a.extra(chart)
    if len(runs) > 1:
        a.extra(disparity_bars(runs))
        a.extra(disparity_table(runs))
        for prefix, result in runs:
            a.extra(group_table(result.intersection, prefix))
    else:
        for part in (first.intersection, *first.by_feature):
            a.extra(group_table(part, ""))
        a.extra(disparity_table(runs))


def _interval(estimate: Estimate) -> str:
    return f"[{estimate.low:.4f}, {estimate.high:.4f}]"


def group_bars(part: GroupFairness, runs) -> list[extras.Bars]:
    """One bar chart per rate, a bar per group (and per run, when comparing)."""
    charts = []
    for key, title in GROUP_RATES:
        bars = []
        for index, group in enumerate(part.groups):
            for prefix, result in runs:
                estimate = getattr(result.intersection.groups[index], key)
                label = f"{group.group} ({prefix})" if prefix else group.group
                bars.append(extras.Bar(label, estimate.value, estimate.low, estimate.high))
        charts.append(extras.Bars(f"{title} by group ({' x '.join(part.features)})", metric=key, bars=bars))
    return charts


def disparity_bars(runs) -> extras.Bars:
    bars = []
    for name in DISPARITIES:
        for prefix, result in runs:
            estimate = getattr(result.intersection, name)
            bars.append(extras.Bar(f"{name.replace('_', ' ')} ({prefix})", estimate.value, estimate.low, estimate.high))
    return extras.Bars("disparities with and without mitigation", metric="disparity", bars=bars)


def group_table(part: GroupFairness, prefix: str) -> extras.Table:
    columns = ["group", "n"]
    for _, title in GROUP_RATES:
        columns += [title, "CI"]
    rows = []
    for group in part.groups:
        row: list[Any] = [group.group, group.size]
        for key, _ in GROUP_RATES:
            estimate = getattr(group, key)
            row += [round(estimate.value, 4), _interval(estimate)]
        rows.append(row)
    title = f"per-group rates by {' x '.join(part.features)}" + (f" ({prefix})" if prefix else "")
    return extras.Table(title, columns=columns, rows=rows)


def disparity_table(runs) -> extras.Table:
    """Disparities and accuracy, a row per metric and partition, a column pair per run."""
    columns = ["metric", "groups"]
    for prefix, _ in runs:
        label = f" ({prefix})" if prefix else ""
        columns += [f"value{label}", f"CI{label}"]
    first = runs[0][1]
    rows = []
    for index, part in enumerate((first.intersection, *first.by_feature)):
        for name in DISPARITIES:
            row: list[Any] = [name, " x ".join(part.features)]
            for _, result in runs:
                estimate = getattr((result.intersection, *result.by_feature)[index], name)
                row += [round(estimate.value, 4), _interval(estimate)]
            rows.append(row)
    row = ["accuracy", "all"]
    for _, result in runs:
        row += [round(result.accuracy.value, 4), _interval(result.accuracy)]
    rows.append(row)
    meets = ["four-fifths rule met", " x ".join(first.intersection.features)]
    for _, result in runs:
        meets += ["yes" if result.meets_four_fifths_rule else "no", ""]
    rows.append(meets)
    return extras.Table("group fairness" + (" with and without mitigation" if len(runs) > 1 else ""),
                        columns=columns, rows=rows)
