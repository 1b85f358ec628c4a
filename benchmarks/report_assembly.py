"""What the controller spends on the HTML report at the end of a run: drawing every chart, or only assembling.

Reads a main-job JSON report (`pytest audits --mlaudit-json=audit.json`), draws each
record's charts as an xdist worker does with the record (timed apart: that work runs on
the workers, in parallel, while tests still run), then times the controller's render
both ways, interleaved A B A B after a warm-up: A draws every chart itself (records
without drawn charts, as before charts travelled with the records), B assembles the
page from the drawn ones. Prints both medians, their ratio and the report's size.

    python benchmarks/report_assembly.py audit.json [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import pytest_mlaudit  # noqa: F401  (the package under test, from PYTHONPATH)
from pytest_mlaudit.report import charts, html
from pytest_mlaudit.report.json import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    document = load(args.report)
    start = time.perf_counter()
    drawn = {(audit["nodeid"], audit["index"]): charts.drawn_where_recorded(audit["extras"], audit["nodeid"],
                                                                             audit["index"])
             for audit in document["audits"]}
    on_workers = time.perf_counter() - start
    count = sum(len(found) for found in drawn.values())
    html.render(document), html.render(document, drawn=drawn)  # warm-up: imports, template, fonts
    draw_all, assemble = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        html.render(document)
        draw_all.append(time.perf_counter() - start)
        start = time.perf_counter()
        page = html.render(document, drawn=drawn)
        assemble.append(time.perf_counter() - start)
    one, five, _ = os.getloadavg()
    print(f"{len(document['audits'])} audits, {count} charts; drawing them where the records are made: "
          f"{on_workers:.2f} s in one process (split between the workers)")
    print(f"controller render, median of {args.runs}: drawing every chart {statistics.median(draw_all):.2f} s, "
          f"assembling drawn charts {statistics.median(assemble):.2f} s: "
          f"{statistics.median(draw_all) / statistics.median(assemble):.1f}x less on the controller")
    print(f"report size {len(page.encode()) / 1e6:.2f} MB; load {one:.2f} (5 min {five:.2f}), {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
