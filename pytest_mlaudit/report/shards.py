"""Exact merges of data-sharded runs: one audit measured on k disjoint shards of its data, in k jobs.

Each job records its shard in ``params["shard"]`` (``--mlaudit-shard i/k`` cutting the
rows, or ``mla.audit(..., shard=(i, k))`` given a shard). Merging the k records of one
audit (same test, same position in it) gives the record a single run over all the
data would give, for every metric computed from counts: the counts are added and the
interval recomputed from the pooled counts with the metric's own method, never
averaged. A statistic that counts do not determine (a bootstrap interval, an AUC, a
quantile of runs) cannot be pooled exactly: each shard's figure is kept, named
``"<metric> [shard i/k]"``, and ``params["shard_merge"]["not_pooled"]`` says why.
Fairness records are the exception that proves the rule: they keep their per-group
confusion counts, on which their count bootstrap depends alone, so the whole record is
recomputed from the pooled counts (:mod:`pytest_mlaudit.fairness.pooling`). A
membership AUC is a statistic of the scores, not of counts: it stays per shard.

The merge refuses (:class:`ShardMergeError`) shards that disagree on k, a missing or
repeated shard, shards cut from different data (their fingerprints of all the rows
differ), row blocks that do not tile the rows, and two shards holding the same data
(equal data fingerprints). Given shards (``rows: "given"``) are checked as far as
fingerprints tell: that they are distinct, not that no row is in two of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..fairness.pooling import has_counts, pool_fairness
from ..records import AuditRecord, Check, Estimate, Gate
from ..stats import gate_passes, independent_difference, paired_difference, proportion


class ShardMergeError(ValueError):
    """Shards of an audit that cannot be merged exactly: incomplete, repeated, or not disjoint."""


# interval method -> the function recomputing the estimate from its (pooled) counts
POOLED: dict[str, Callable[[tuple[int, ...], float], Estimate]] = {
    "wilson": lambda counts, confidence: proportion(*counts, confidence, "wilson"),
    "clopper-pearson": lambda counts, confidence: proportion(*counts, confidence, "clopper-pearson"),
    "newcombe-paired": lambda counts, confidence: paired_difference(*counts, confidence),
    "newcombe-independent": lambda counts, confidence: independent_difference(*counts, confidence),
}


def is_sharded(record: AuditRecord) -> bool:
    return isinstance(record.params.get("shard"), dict) and "index" in record.params["shard"]


def pool_shards(records: list[AuditRecord]) -> list[AuditRecord]:
    """The records with each sharded audit's k records replaced by one pooled record."""
    groups: dict[tuple, list[AuditRecord]] = {}
    merged: list[AuditRecord] = []
    for record in records:
        if is_sharded(record):
            groups.setdefault((record.nodeid, record.index, record.category, record.name), []).append(record)
        else:
            merged.append(record)
    for (nodeid, _, _, name), shards in groups.items():
        shards = sorted(shards, key=lambda r: r.params["shard"]["index"])
        check_complete_and_disjoint(shards, f"{nodeid} ({name})")
        merged.append(pooled_record(shards))
    return merged


def check_complete_and_disjoint(shards: list[AuditRecord], what: str) -> None:
    """Refuse shards that are not exactly the k disjoint parts of one data set."""
    descriptions = [shard.params["shard"] for shard in shards]
    counts = {d.get("count") for d in descriptions}
    if len(counts) != 1:
        raise ShardMergeError(f"{what}: the reports cut the data into different numbers of shards: {sorted(counts)}")
    count = counts.pop()
    indices = [d.get("index") for d in descriptions]
    repeated = sorted({i for i in indices if indices.count(i) > 1})
    missing = sorted(set(range(1, count + 1)) - set(indices))
    if repeated:
        raise ShardMergeError(f"{what}: shard(s) {', '.join(f'{i}/{count}' for i in repeated)} appear in more than "
                              f"one report; merge each shard once")
    if missing:
        raise ShardMergeError(f"{what}: shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing: the merge "
                              f"needs all {count} shards to give the result over all the data")
    cut = [d for d in descriptions if d.get("rows") != "given"]
    if cut:
        if len(cut) != len(descriptions):
            raise ShardMergeError(f"{what}: some shards were cut from the rows (--mlaudit-shard) and some given "
                                  f"(shard=): merge runs made the same way")
        if len({(d.get("of_data"), d.get("of_rows")) for d in cut}) != 1:
            raise ShardMergeError(f"{what}: the shards were cut from different data (fingerprints of all the rows "
                                  f"differ: {sorted({str(d.get('of_data')) for d in cut})})")
        blocks = [tuple(d.get("rows", ())) for d in cut]
        ends = [0] + [block[1] for block in blocks]
        if any(len(block) != 2 or block[0] != end for block, end in zip(blocks, ends)) or ends[-1] != cut[0]["of_rows"]:
            raise ShardMergeError(f"{what}: the shards' row blocks {blocks} do not tile rows 0..{cut[0]['of_rows']}")
    fingerprints = [_fingerprints(shard.data) for shard in shards]
    for i, first in enumerate(fingerprints):
        for j in range(i + 1, len(fingerprints)):
            if first and first == fingerprints[j]:
                raise ShardMergeError(f"{what}: shards {indices[i]}/{count} and {indices[j]}/{count} hold the same "
                                      f"data (fingerprint {', '.join(sorted(first))}): the shards must be disjoint")


def _fingerprints(data: dict[str, Any]) -> frozenset[str]:
    """The data hashes of a record (its top-level data, or each named split's)."""
    found = {data["sha256"]} if isinstance(data.get("sha256"), str) else set()
    found.update(value["sha256"] for value in data.values()
                 if isinstance(value, dict) and isinstance(value.get("sha256"), str))
    return frozenset(found)


def pooled_record(shards: list[AuditRecord]) -> AuditRecord:
    """One record for the audit over all the shards' data: counts pooled, gates re-evaluated."""
    first = shards[0]
    count = len(shards)
    labels = [f"{shard.params['shard']['index']}/{count}" for shard in shards]
    errors = [f"shard {label}: {shard.error}" for label, shard in zip(labels, shards) if shard.outcome == "error"]
    params = {key: value for key, value in first.params.items() if key != "shard"}
    given = first.params["shard"].get("rows") == "given"
    params["shard"] = {"merged": count, "rows": "given" if given else "cut",
                       **({"of_rows": first.params["shard"]["of_rows"], "of_data": first.params["shard"]["of_data"]}
                          if "of_data" in first.params["shard"] else {})}
    metrics, not_pooled = _pooled_metrics(shards, labels)
    checks = _pooled_checks(shards, labels)
    recomputed = None
    if not errors and all(has_counts(shard) for shard in shards):
        fairness = pool_fairness(shards)
        metrics, not_pooled, recomputed = fairness.metrics, {}, fairness.note
        params.update(fairness.params)
        by_name = {check.name: check for check in fairness.checks}
        checks = [by_name.pop(check.name, check) for check in checks] + list(by_name.values())
    params["shard_merge"] = {
        "pooled": sorted(name for name in metrics if "[shard " not in name),
        "not_pooled": not_pooled,
        **({"recomputed_from_counts": recomputed} if recomputed else {}),
        "extras": "the shards' charts and tables are left out of the merged record",
    }
    gates = _pooled_gates(shards, labels, metrics)
    outcome = "error" if errors else ("failed" if any(not gate.passed for gate in gates) else "passed")
    return dataclasses.replace(
        first,
        outcome=outcome,
        error="; ".join(errors) or None,
        params=params,
        data={"shards": [dict(shard.data) for shard in shards]},
        metrics=metrics if not errors else {},
        gates=gates if not errors else [],
        checks=checks,
        extras={},
        duration_s=sum(shard.duration_s for shard in shards),
        handled=all(shard.handled for shard in shards),
        test_outcome=next((shard.test_outcome for shard in shards if shard.test_outcome not in (None, "passed")),
                          first.test_outcome),
    )


def _pooled_metrics(shards: list[AuditRecord], labels: list[str]) -> tuple[dict[str, Estimate], dict[str, str]]:
    metrics: dict[str, Estimate] = {}
    not_pooled: dict[str, str] = {}
    names = list(dict.fromkeys(name for shard in shards for name in shard.metrics))
    for name in names:
        estimates = [shard.metrics.get(name) for shard in shards]
        reason = _why_not_poolable(estimates)
        if reason is None:
            pooled_counts = tuple(sum(column) for column in zip(*(e.counts for e in estimates)))
            metrics[name] = POOLED[estimates[0].method](pooled_counts, estimates[0].confidence)
            continue
        not_pooled[name] = reason
        for label, estimate in zip(labels, estimates):
            if estimate is not None:
                metrics[f"{name} [shard {label}]"] = estimate
    return metrics, not_pooled


def _why_not_poolable(estimates: list[Estimate | None]) -> str | None:
    if any(estimate is None for estimate in estimates):
        return "not measured in every shard"
    methods = {(estimate.method, estimate.confidence) for estimate in estimates}
    if len(methods) != 1:
        return f"measured with different methods or confidence levels: {sorted(methods)}"
    method = estimates[0].method
    if method == "delong":
        return ("delong: an AUC ranks every score of one shard against every score of the others, which no count "
                "of a shard holds, so it cannot be pooled; each shard's AUC is shown (a membership audit stays "
                "per shard: run it on all the rows in one job for the AUC of all the data)")
    if method not in POOLED or any(estimate.counts is None for estimate in estimates):
        return (f"{method}: the interval is not determined by counts (a bootstrap, an AUC, a quantile of runs), so "
                f"it cannot be pooled exactly; each shard's figure is shown")
    return None


def _pooled_gates(shards: list[AuditRecord], labels: list[str], metrics: dict[str, Estimate]) -> list[Gate]:
    gates: list[Gate] = []
    for gate in shards[0].gates:
        pooled = metrics.get(gate.metric)
        if pooled is not None:
            gates.append(dataclasses.replace(gate, value=pooled.value, low=pooled.low, high=pooled.high,
                                             passed=gate_passes(pooled, gate.op, gate.threshold, gate.policy)))
            continue
        for label, shard in zip(labels, shards):
            for shard_gate in shard.gates:
                if (shard_gate.metric, shard_gate.op, shard_gate.threshold) == (gate.metric, gate.op, gate.threshold):
                    gates.append(dataclasses.replace(shard_gate, metric=f"{gate.metric} [shard {label}]"))
    return gates


def _pooled_checks(shards: list[AuditRecord], labels: list[str]) -> list[Check]:
    """Each check once: passed when it passed in every shard, else naming the shards where it failed."""
    checks: list[Check] = []
    names = list(dict.fromkeys(check.name for shard in shards for check in shard.checks))
    for name in names:
        found = [(label, check) for label, shard in zip(labels, shards) for check in shard.checks if check.name == name]
        failed = [(label, check) for label, check in found if not check.passed]
        if failed:
            detail = "; ".join(f"shard {label}: {check.detail}" for label, check in failed)
            checks.append(Check(name, False, detail))
        else:
            checks.append(Check(name, True, f"passed in all {len(shards)} shards; shard {found[0][0]}: "
                                            f"{found[0][1].detail}"))
    return checks
