"""``python -m pytest_mlaudit report a.json [b.json ...] -o audit.html [--json merged.json]``
and ``python -m pytest_mlaudit compare OLD.json NEW.json [--tolerance T] [--markdown OUT.md]``.

Re-renders the HTML report from JSON reports, merging those of sharded CI jobs into
one (audits sorted as the plugin sorts them). It trusts nothing in its inputs: every
audit, metric and gate is checked, NaN and infinite numbers are refused, and each
gate's verdict is recomputed from its value, interval, threshold and policy. The
summary is recomputed too; its verdict is the worst of that and of the FAIL or
INCOMPLETE verdicts the inputs stored (INCOMPLETE > FAIL > NO AUDITS > PASS), so a
shard that did not finish keeps the merged report from passing. A test id found in
more than one input is warned about on stderr (a shard run twice?). The audits of a
data-sharded run (``--mlaudit-shard i/k``) are pooled into one per audit: counts added,
intervals recomputed; incomplete or overlapping shards are refused (exit status 2).

``compare`` prints the change of every metric of NEW since OLD with its interval
(see :mod:`pytest_mlaudit.regression`) and exits 1 when a gated metric regressed
under ``--policy`` (default upper: significantly) beyond ``--tolerance``, else 0; 2 on
bad input, as ``report``.

Exit status of ``report``: 0 when the merged verdict is PASS, 1 when it is anything else (FAIL,
INCOMPLETE, NO AUDITS), 2 on bad input: a missing file, a file that is not JSON, a
report of another schema, or malformed content (the message names the file and the
field, e.g. ``a.json: audits[3].metrics.recall.low: expected a number, got 'x'``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pytest_mlaudit", description="pytest-mlaudit report tools")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="render (and merge) JSON audit reports into one HTML report",
                                 description="Render JSON audit reports as one HTML report, merging sharded runs.")
    report.add_argument("inputs", nargs="+", type=Path, metavar="REPORT.json", help="JSON reports (schema pytest-mlaudit/1)")
    report.add_argument("-o", "--output", type=Path, help="write the HTML report here")
    report.add_argument("--json", type=Path, dest="json_output", help="write the merged JSON report here")
    report.add_argument("--requirements", type=Path, help="JSON or TOML file overriding the requirement mapping")
    compare = commands.add_parser(
        "compare", help="compare a JSON audit report with a baseline report; exit 1 on a regression",
        description="Print every metric's change from OLD to NEW with its interval; exit 1 when a gated metric "
                    "regressed (by default: significantly), 2 on bad input.")
    compare.add_argument("old", type=Path, metavar="OLD.json", help="the baseline report (the last accepted run)")
    compare.add_argument("new", type=Path, metavar="NEW.json", help="the report to judge")
    compare.add_argument("--tolerance", type=float, default=0.0, help="how much a gated metric may get worse (default 0)")
    compare.add_argument("--policy", default="upper", choices=("upper", "estimate", "lower"),
                         help="upper: fail on significant regressions only (default); estimate; lower (conservative)")
    compare.add_argument("--markdown", type=Path, help="also write the GitHub-flavoured Markdown summary here")
    add_scan_parser(commands)
    return parser


def add_scan_parser(commands) -> None:
    scan = commands.add_parser("scan", help="run the audits that fit a model and write a pytest file gating them",
                               description="Load a model and its data from loader functions, run the audits that "
                                           "fit the model's kind, write the report and a pytest file whose "
                                           "thresholds come from the measured intervals.")
    scan.add_argument("--model", required=True, metavar="PKG.MODULE:FUNCTION",
                      help="a function returning the fitted model (no pickle is loaded by the scan)")
    scan.add_argument("--data", required=True, metavar="PKG.MODULE:FUNCTION",
                      help="a function returning (X, y) or {'test': (X, y), 'train': (X, y), 'sensitive': table}")
    scan.add_argument("--kind", default="auto", choices=("auto", "image", "tabular"))
    scan.add_argument("--sensitive", nargs="*", default=[], metavar="COL", help="sensitive columns for fairness audits")
    scan.add_argument("--out", type=Path, default=Path("tests/test_mlaudit_scan.py"), help="the pytest file to write")
    scan.add_argument("--report", type=Path, help="write the HTML report here")
    scan.add_argument("--json", type=Path, help="write the JSON report here")
    scan.add_argument("--margin", type=float, default=0.02,
                      help="thresholds are the interval's pessimistic end moved by this margin (default 0.02)")
    scan.add_argument("--seed", type=int, default=0, help="the audits' seed (as --mlaudit-seed)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare_reports(parser, args)
    if args.command == "scan":
        from .search import scan

        return scan.main(args)
    if args.output is None and args.json_output is None:
        parser.error("nothing to write: give -o REPORT.html and/or --json MERGED.json")

    from .compliance import load_mapping
    from .report import write_atomic
    from .report import html, json

    try:
        documents = [json.load(path) for path in args.inputs]
        mapping = load_mapping(args.requirements) if args.requirements is not None else None
    except ValueError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    sources = [str(path) for path in args.inputs]
    for nodeid, files in json.duplicate_nodeids(documents, sources).items():
        print(f"{parser.prog}: warning: test {nodeid} is in {len(files)} reports: {', '.join(files)} "
              "(its audits are counted once per report)", file=sys.stderr)
    compared = [source for source, document in zip(sources, documents) if isinstance(document.get("baseline"), dict)]
    if len(documents) > 1 and compared:
        print(f"{parser.prog}: warning: the baseline comparisons of {', '.join(compared)} are not merged; "
              f"run `{parser.prog} compare BASELINE.json MERGED.json` on the merged report", file=sys.stderr)
    try:
        document = json.merge(documents, sources, mapping)
    except ValueError as exc:  # sharded audits that cannot be pooled exactly (ShardMergeError)
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    if args.json_output is not None:
        write_atomic(args.json_output, json.dumps(document))
        print(f"mlaudit JSON report: {args.json_output}")
    if args.output is not None:
        write_atomic(args.output, html.render(document))
        print(f"mlaudit HTML report: {args.output}")
    summary = document["summary"]
    print(f"{summary['verdict']}: {summary['audits']} audits from {len(documents)} report(s), "
          f"{summary['gates'] - summary['gates_failed']}/{summary['gates']} gates passed")
    return 0 if summary["verdict"] == "PASS" else 1


def compare_reports(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``compare OLD.json NEW.json``: the change table on stdout; 1 when a gated metric regressed, 2 on bad input."""
    from .regression import Baseline, compare
    from .report import markdown, write_atomic
    from .report import json

    if args.tolerance < 0 or args.tolerance != args.tolerance:
        parser.exit(2, f"{parser.prog} compare: error: --tolerance must be a non-negative number, got {args.tolerance}\n")
    try:
        old, new = json.load(args.old), json.load(args.new)
    except ValueError as exc:
        parser.exit(2, f"{parser.prog} compare: error: {exc}\n")
    environment = new.get("environment") or {}
    comparison = compare(Baseline.from_document(old, str(args.old)), json.records_of(new), tolerance=args.tolerance,
                         policy=args.policy, seed=environment.get("seed"),
                         confidence=environment.get("confidence") or 0.95)
    for warning in comparison.warnings:
        print(f"{parser.prog} compare: warning: {warning}", file=sys.stderr)
    for change in comparison.changes:
        print(f"{change.verdict.upper():16} {change.nodeid} {change.audit}: {change.message(comparison.tolerance)}")
    for nodeid, name in comparison.new:
        print(f"{'NEW':16} {nodeid} {name}")
    for nodeid, name in comparison.vanished:
        print(f"{'VANISHED':16} {nodeid} {name}")
    regressions = comparison.regressions
    print(f"{len(regressions)} regression(s) in {len(comparison.changes)} metric(s) compared "
          f"({sum(change.paired for change in comparison.changes)} paired), policy {comparison.policy}, "
          f"tolerance {comparison.tolerance:g}; {len(comparison.new)} new, {len(comparison.vanished)} vanished audit(s)")
    if args.markdown is not None:
        document = dict(new, baseline=comparison.to_dict())
        write_atomic(args.markdown, markdown.summary(document))
        print(f"mlaudit Markdown summary: {args.markdown}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
