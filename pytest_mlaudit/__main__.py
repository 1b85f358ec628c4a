"""``python -m pytest_mlaudit report a.json [b.json ...] -o audit.html [--json merged.json]``.

Re-renders the HTML report from JSON reports, merging those of sharded CI jobs into
one (audits sorted as the plugin sorts them). A missing file, a file that is not
JSON or a report of another schema is an error naming the file (exit status 2).
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    document = json.merge(documents, [str(path) for path in args.inputs], mapping)
    if args.json_output is not None:
        write_atomic(args.json_output, json.dumps(document))
        print(f"mlaudit JSON report: {args.json_output}")
    if args.output is not None:
        write_atomic(args.output, html.render(document))
        print(f"mlaudit HTML report: {args.output}")
    summary = document["summary"]
    print(f"{summary['verdict']}: {summary['audits']} audits from {len(documents)} report(s), "
          f"{summary['gates'] - summary['gates_failed']}/{summary['gates']} gates passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
