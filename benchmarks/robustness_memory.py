"""Peak memory of a robustness audit: it must follow the batch size, not the data set size.

Each configuration runs in a fresh process: the CIFAR-shaped images (float32, 3x32x32)
are made first, then the FGSM audit runs; the figure is the audit's peak resident
memory above the peak reached before it (the data itself is the caller's). A small
CNN keeps the run short; the property measured does not depend on the model's size.

    python benchmarks/robustness_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
import numpy as np
import torch
import pytest_mlaudit as mla

n, batch = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4),
    torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
    torch.nn.Flatten(), torch.nn.Linear(32, 10))
X = np.random.default_rng(0).random((n, 3, 32, 32), dtype=np.float32)
y = np.random.default_rng(1).integers(0, 10, n)
warm = mla.robustness(model, X[:batch], y[:batch], attack=mla.FGSM(eps=8 / 255), clip=(0.0, 1.0), batch_size=batch)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
mla.robustness(model, X, y, attack=mla.FGSM(eps=8 / 255), clip=(0.0, 1.0), batch_size=batch)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": n, "batch": batch, "data_mb": X.nbytes / 2**20, "audit_peak_mb": (after - before) / 1024}))
"""


def measure(n: int, batch: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(batch)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = [measure(n, batch) for n, batch in ((2_500, 256), (10_000, 256), (40_000, 256), (10_000, 1024))]
    print("robustness audit (FGSM), CIFAR-shaped float32 images; peak RSS above the pre-audit peak")
    for row in rows:
        print(f"  n={row['n']:>6}  batch={row['batch']:>5}  data {row['data_mb']:7.1f} MB  audit peak +{row['audit_peak_mb']:6.1f} MB")
    smallest, medium, large = (rows[i]["audit_peak_mb"] for i in range(3))
    # Below ~10,000 images the allocator is still growing its pools, so the plateau is what tells.
    print(f"  4x the data (10,000 -> 40,000) at the same batch: audit peak x{large / max(medium, 0.1):.2f} "
          f"(bounded by the batch size when ~1); 16x (2,500 -> 40,000): x{large / max(smallest, 0.1):.2f}")
    print(f"  data set (n=40,000) is {rows[2]['data_mb']:.0f} MB; the audit adds {large:.1f} MB at batch 256")


if __name__ == "__main__":
    main()
