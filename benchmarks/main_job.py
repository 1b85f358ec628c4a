"""The main job, `pytest audits`, on embedded data: cold cache, warm cache, and `-n 2`.

Runs, one after the other, each in a fresh process from the repository root:

1. cold: MLAUDIT_CACHE_DIR pointed at an empty temporary directory, so every
   reference model is trained (the first run on a new machine);
2. warm: the same cache directory again, so every trained model is reused;
3. `-n 2`: the warm run spread over two pytest-xdist workers.

Steps 2 and 3 alternate `--runs` times (medians reported), to share the machine's
noise. Each figure is printed with the load average at its start: other processes on
the machine inflate them. Before each `-n 2` run, two CPU-bound processes measure how
many cores' worth the machine gives two processes at that moment (the most `-n 2`
can gain). Targets on 2 cores: warm within 60 s, cold within 5 minutes,
`-n 2` at least 1.6x faster than serial. The slowest tests of the cold and warm runs
(pytest's `--durations`) are printed to show what dominates.

    python benchmarks/main_job.py [--runs 2] [--durations 8] [--cache DIR]

`--cache DIR` reuses a weight cache that earlier runs filled: the cold run is skipped
(one untimed warm-up run fills whatever is missing), which saves minutes when only
the warm and `-n 2` figures are wanted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"cold": 300.0, "warm": 60.0}
XDIST_TARGET = 1.6
DURATION_LINE = re.compile(r"^\d+\.\d+s (setup|call|teardown) ")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (5 min {five:.2f})"


BURN = "import time\nstart = time.process_time()\nwhile time.process_time() - start < 2.0:\n    pass\n"


def parallel_capacity() -> float:
    """How many cores' worth two processes get now: 2 x (one 2-CPU-second burn) / (two at once).

    2.0 on two idle cores; about 1.0 when other work takes one. It bounds what
    `-n 2` can gain at that moment, whatever the audits do.
    """
    def burn(count: int) -> float:
        start = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(count)]
        for process in processes:
            process.wait()
        return time.perf_counter() - start

    return 2 * burn(1) / burn(2)


def run_main_job(cache: Path, reports: Path, durations: int, *extra: str) -> tuple[float, str, list[str]]:
    """Wall seconds of one `pytest audits` run, the load at its start, and its slowest tests."""
    env = {**os.environ, "MLAUDIT_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "pytest", "audits", "-q", "-p", "no:cacheprovider", f"--durations={durations}",
               f"--mlaudit-report={reports / 'audit.html'}", f"--mlaudit-json={reports / 'audit.json'}", *extra]
    at_start = load()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    slowest = [line for line in done.stdout.splitlines() if DURATION_LINE.match(line)]
    return seconds, at_start, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="warm serial / -n 2 pairs (default 2)")
    parser.add_argument("--durations", type=int, default=8, help="slowest tests shown per run (default 8)")
    parser.add_argument("--cache", type=Path, help="an existing weight cache: skip the cold run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        reports = Path(directory)
        cache = args.cache or reports / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        cold, cold_load, cold_slowest = run_main_job(cache, reports, args.durations)
        if args.cache:
            print(f"warm-up (given weight cache, untimed): {cold:6.1f} s  [{cold_load}]")
            cold_slowest = []
        else:
            print(f"cold  (empty weight cache, serial): {cold:6.1f} s  target < {TARGETS['cold']:.0f} s  [{cold_load}]")
        warm, xdist, capacity, warm_slowest = [], [], [], []
        for _ in range(args.runs):
            seconds, at_start, warm_slowest = run_main_job(cache, reports, args.durations)
            warm.append(seconds)
            print(f"warm  (cached weights, serial):     {seconds:6.1f} s  target < {TARGETS['warm']:.0f} s  [{at_start}]")
            capacity.append(parallel_capacity())
            seconds, at_start, _ = run_main_job(cache, reports, args.durations, "-n", "2")
            xdist.append(seconds)
            print(f"warm  (cached weights, -n 2):       {seconds:6.1f} s  [{at_start}; two processes get "
                  f"{capacity[-1]:.2f} cores]")
    serial, parallel = statistics.median(warm), statistics.median(xdist)
    print(f"median of {args.runs}: warm serial {serial:.1f} s, -n 2 {parallel:.1f} s: "
          f"-n 2 is {serial / parallel:.2f}x faster (target >= {XDIST_TARGET}x; two processes got "
          f"{statistics.median(capacity):.2f} cores, the most -n 2 could gain)"
          + ("" if args.cache else f"; cold / warm = {cold / serial:.2f}"))
    for title, slowest in (("cold", cold_slowest), ("warm", warm_slowest)):
        if not slowest:
            continue
        print(f"slowest tests, {title} run:")
        for line in slowest:
            print(f"  {line}")


if __name__ == "__main__":
    main()
