"""Fairness records of data shards pooled exactly: per-group confusion counts added, everything recomputed.

A fairness audit depends on its data only through the confusion counts of its groups
(:mod:`.metrics`), and each record keeps them (``params["confusion_counts"]``) with
the seed of its bootstrap. Adding the counts of k disjoint shards gives the counts of
all the data, so the per-group rates, the accuracy, and even the stratified count
bootstrap of the disparities, run again on the pooled counts with the audit's seed,
are exactly what one run over all the data gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..records import AuditRecord, Check, Estimate
from .groups import pooled_tables, table_from_json
from .metrics import evaluate_counts
from .recorded import count_params, metrics_of, params


@dataclass(frozen=True)
class PooledFairness:
    metrics: dict[str, Estimate]
    params: dict[str, Any]
    checks: list[Check]
    note: str


def has_counts(record: AuditRecord) -> bool:
    return isinstance(record.params.get("confusion_counts"), dict) and "bootstrap_seed" in record.params


def pool_fairness(shards: list[AuditRecord]) -> PooledFairness:
    """The metrics, params and evaluation checks of one fairness audit over the data of all ``shards``."""
    first = shards[0]
    table = pooled_tables([table_from_json(shard.params["confusion_counts"]) for shard in shards])
    seeds = sorted({shard.params["bootstrap_seed"] for shard in shards})
    seed = first.params["bootstrap_seed"]
    confidence = first.metrics["accuracy"].confidence
    positive_label, n_bootstrap = first.params["positive_label"], first.params["n_bootstrap"]
    result, checks = evaluate_counts(table, positive_label, n_bootstrap, confidence=confidence, seed=seed)
    note = ("per-group confusion counts added; rates, accuracy and the stratified count bootstrap of the "
            "disparities recomputed from the pooled counts with the audit's bootstrap seed: exactly the result of "
            "one run over all the data")
    if len(seeds) > 1:
        note += (f" (the shards ran with different bootstrap seeds {seeds}: the disparities' intervals are those "
                 f"of a single run with shard 1's seed {seed})")
    return PooledFairness(metrics_of(result), {**params(list(table.columns), result, positive_label, n_bootstrap),
                                             **count_params(table, seed)}, checks, note)

