"""What installing pytest-mlaudit costs a pytest run that audits nothing.

Times `pytest --collect-only` on an empty project with the plugin active and with it
disabled (`-p no:mlaudit`), alternating the two to share the machine's noise, and
checks that loading the plugin imports none of the heavy libraries. Whole-process
timings carry the machine's noise (tens of ms on a busy machine), so it also reports
the plugin's own import time on top of pytest's, from ``python -X importtime``
(median over the same runs).
Target: the plugin adds under 50 ms.

    python benchmarks/plugin_overhead.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("numpy", "torch", "art", "sklearn", "xgboost", "diffprivlib", "imblearn", "fairlearn", "matplotlib", "scipy")


def time_collect(project: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra],
                   cwd=project, capture_output=True, check=False)
    return time.perf_counter() - start


def plugin_import_ms() -> float:
    """Cumulative import time of ``pytest_mlaudit.plugin`` after ``pytest`` (what pytest pays to load it)."""
    code = "import pytest; import pytest_mlaudit.plugin"
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True).stderr
    line = next(line for line in err.splitlines() if line.rstrip().endswith("| pytest_mlaudit.plugin"))
    return int(line.split("|")[1]) / 1000


def heavy_modules_after_plugin_import() -> list[str]:
    code = f"import sys, pytest_mlaudit.plugin; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        (project / "test_empty.py").write_text("def test_nothing():\n    pass\n")
        time_collect(project)  # warm the file system cache
        with_plugin, without_plugin, imports = [], [], []
        for _ in range(args.runs):
            with_plugin.append(time_collect(project))
            without_plugin.append(time_collect(project, "-p", "no:mlaudit"))
            imports.append(plugin_import_ms())
    on, off = statistics.median(with_plugin), statistics.median(without_plugin)
    print(f"pytest --collect-only, empty project, median of {args.runs} runs each")
    print(f"  with pytest-mlaudit:    {on * 1000:7.1f} ms")
    print(f"  without (-p no:mlaudit): {off * 1000:7.1f} ms")
    print(f"  plugin adds:            {(on - off) * 1000:7.1f} ms  (ratio {on / off:.3f}; target < 50 ms)")
    print(f"  importing the plugin after pytest (-X importtime): {statistics.median(imports):.1f} ms "
          f"(min {min(imports):.1f}, max {max(imports):.1f}; target < 50 ms)")
    heavy = heavy_modules_after_plugin_import()
    print(f"  heavy modules imported by the plugin: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
