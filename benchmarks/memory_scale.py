"""Peak memory of each audit family against the number of rows: it must level off, not grow with them.

Each (family, rows) pair runs in a fresh process: the table (float32, 10 features) is
made, a small model is fitted on 10,000 rows, one warm-up audit runs on 2,000 rows
(imports, allocator pools), then the audit runs on all rows. The figure is the audit's
peak resident memory above the peak reached before it (``ru_maxrss`` of the child):
the data itself, and what the caller holds, are not counted. The data's own size is
printed beside it.

- robustness: FGSM on a torch MLP, ``clip=mla.feature_range(X)``, batch 4,096;
- imbalance: ``mla.imbalance(..., prefit=True)`` with a 10,000-row training split (the
  leakage guards run), 2% positives, 1,000 bootstrap resamples;
- fairness: ``mla.fairness`` with two groups, 1,000 bootstrap resamples;
- membership: ``mla.membership_inference`` with half the rows members, half holdout.

    python benchmarks/memory_scale.py                       # 10k, 100k, 1M rows, every family
    python benchmarks/memory_scale.py --rows 10000 100000 --families imbalance

The last line of each family gives the growth from the last two row counts in bytes
per added row: what the audit keeps per row (a score for an AUC is 8 bytes). Beside the
scikit-learn families, the peak of the model's own ``predict`` (``predict_proba``) on
the rows of one call, traced with ``tracemalloc`` after the audit: what any use of the
model costs, inside the audit's figure (LogisticRegression multiplies float32 rows by
float64 coefficients, so numpy makes a float64 copy of X: 80 bytes per row of 10
features).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

FAMILIES = ("robustness", "imbalance", "fairness", "membership")

CHILD = r"""
import json, resource, sys, time
import numpy as np
import pytest_mlaudit as mla

family, n = sys.argv[1], int(sys.argv[2])
features, train_rows, warm_rows = 10, 10_000, 2_000
rng = np.random.default_rng(0)
X = np.empty((n, features), dtype=np.float32)
for start in range(0, n, 100_000):  # in chunks: no temporary larger than the table
    X[start:start + 100_000] = rng.standard_normal((min(100_000, n - start), features), dtype=np.float32)
group = (X[:, 1] > 0).astype(np.int64)
score = X[:, 0] + 0.5 * group
threshold = np.quantile(score[:100_000], 0.98 if family == "imbalance" else 0.5)
y = (score + 0.5 * rng.standard_normal(n, dtype=np.float32) > threshold).astype(np.int64)
X_fit, y_fit = X[:train_rows] + 0.01, y[:train_rows]  # shifted: no test row repeats a training row

if family == "robustness":
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(features, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    clip = mla.feature_range(X, margin=0.01)
    def run(rows):
        mla.robustness(model, X[:rows], y[:rows], attack=mla.FGSM(eps=0.1), clip=clip, batch_size=4096)
else:
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression(max_iter=200).fit(X_fit, y_fit)
    def run(rows):
        if family == "imbalance":
            mla.imbalance(model, X_fit, y_fit, X[:rows], y[:rows], prefit=True)
        elif family == "fairness":
            mla.fairness(model, X[:rows], y[:rows], sensitive_features=group[:rows])
        else:
            half = rows // 2
            mla.membership_inference(model, X[:half], y[:half], X[half:rows], y[half:rows])

run(warm_rows)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
run(n)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model_mb = None
if family != "robustness":  # the model's own prediction on the rows it gets in one call, traced after the audit
    import tracemalloc
    rows = X[:n // 2] if family == "membership" else X[:n]
    tracemalloc.start()
    (model.predict if family == "fairness" else model.predict_proba)(rows)
    model_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
print(json.dumps({"family": family, "n": n, "data_mb": (X.nbytes + y.nbytes) / 2**20, "seconds": seconds,
                  "before_mb": before / 1024, "audit_peak_mb": (after - before) / 1024, "model_mb": model_mb}))
"""


def measure(family: str, rows: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, family, str(rows)], capture_output=True, text=True)
    if out.returncode != 0:
        return {"family": family, "n": rows, "error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    args = parser.parse_args()
    print("peak RSS of one audit above the pre-audit peak (the data is the caller's), fresh process per figure")
    for family in args.families:
        results = []
        for rows in args.rows:
            started = time.perf_counter()
            result = measure(family, rows)
            results.append(result)
            if "error" in result:
                print(f"  {family:<11} n={rows:>9,}  FAILED: {result['error']}")
                continue
            model = "" if result.get("model_mb") is None else f"  (model's predict alone +{result['model_mb']:6.1f} MB)"
            print(f"  {family:<11} n={rows:>9,}  data {result['data_mb']:7.1f} MB  audit peak +{result['audit_peak_mb']:7.1f} MB"
                  f"{model}  ({result['seconds']:.1f} s audit, {time.perf_counter() - started:.0f} s process)", flush=True)
        measured = [r for r in results if "error" not in r]
        if len(measured) >= 2:
            first, last = measured[-2], measured[-1]
            growth = last["audit_peak_mb"] - first["audit_peak_mb"]
            per_row = growth * 2**20 / (last["n"] - first["n"])
            print(f"  {family:<11} {last['n'] / first['n']:.0f}x the rows ({first['n']:,} -> {last['n']:,}): "
                  f"audit peak x{last['audit_peak_mb'] / max(first['audit_peak_mb'], 1.0):.2f}, "
                  f"{growth:+.1f} MB, {per_row:.1f} bytes per added row", flush=True)


if __name__ == "__main__":
    main()
