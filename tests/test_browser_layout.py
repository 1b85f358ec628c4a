"""The report as a reader sees it in Chromium and on paper: every cell meaningful, charts with sane axes,
test ids whole, printed pages filled.

Like tests/test_browser_report.py, these skip when no Chromium is installed. The layout
checks measure the page as Chromium lays it out: a copy of the report, without its
Content-Security-Policy, gets a script that writes what it measured into the DOM
Chromium dumps. The print check prints the main job's report to PDF (A4) and measures
each page's filled height from its pixels (poppler's ``pdftoppm``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from report_samples import ENVIRONMENT, every_kind
from test_browser_report import find_browser, parse, run

from pytest_mlaudit.records import AuditRecord, Estimate, Gate
from pytest_mlaudit.report import html
from pytest_mlaudit.report.json import build_document

ROOT = Path(__file__).resolve().parent.parent
LONG_IDS = [
    "audits/test_paper_bias.py::test_fraud_recall_after_resampling_meets_the_papers_figure[generated-SMOTE]",
    "audits/test_robustness_evaluation.py::test_adversarially_trained_cnn_resists_pgd_at_the_papers_budget",
]
MEASURE = """<script>
const pieces = [...document.querySelectorAll("table.all-gates code.nodeid .seg")];
const wrapped = pieces.filter(seg => seg.getClientRects().length > 1).map(seg => seg.textContent);
const whole = [...document.querySelectorAll("table.all-gates code.nodeid")].map(code => code.title);
const gates = document.querySelector("table.all-gates").getBoundingClientRect();
const window_width = document.documentElement.clientWidth;
document.body.setAttribute("data-measured", JSON.stringify({pieces: pieces.length, wrapped, whole,
                                                            gates_right: gates.right, window_width}));
</script>"""


def single_epsilon_record(nodeid: str) -> AuditRecord:
    """A DP accuracy floor at one epsilon, as the privacy family records it: one point per series and a baseline."""
    mean, p05, baseline = Estimate(0.9, 0.85, 0.94, 20), Estimate(0.86, 0.0, 0.93, 20, "order statistics q=0.05"), \
        Estimate(0.95, 0.91, 0.97, 45)
    return AuditRecord(
        nodeid=nodeid, category="privacy", name="DP accuracy floor (mean)", location=(nodeid.split("::")[0], 1),
        params={"epsilons": [1.0], "seeds": 20, "baseline": {"name": "LogisticRegression", "kind": "sklearn",
                                                             "params": {"C": 1.0, "max_iter": 1000, "tol": 0.0001},
                                                             "changed_params": ["max_iter"]},
                "budget": {"accountant": "diffprivlib.BudgetAccountant", "per_model": [{"epsilon": 1.0, "delta": 0.0}]},
                "resampler": None},
        metrics={"accuracy_mean@eps=1": mean, "accuracy_p05@eps=1": p05, "baseline_accuracy": baseline},
        gates=[Gate("accuracy_mean@eps=1", ">=", 0.45666666666666667, 0.9, 0.85, 0.94, "estimate", True)],
        extras={"curves": [{"title": "Privacy-utility", "x_label": "epsilon (log scale)", "y_label": "test accuracy",
                            "x_scale": "log", "series": [
                                {"label": "DP mean", "x": [1.0], "y": [0.9], "low": [0.85], "high": [0.94]},
                                {"label": "DP p05", "x": [1.0], "y": [0.86], "low": [0.0], "high": [0.93]},
                                {"label": "non-private baseline", "x": [1.0], "y": [0.95], "low": [0.91], "high": [0.97]}]}],
                "tables": [{"title": "Test accuracy per epsilon", "columns": ["epsilon", "mean", "std", "p05"],
                            "rows": [[1.0, 0.9, 0.02, 0.86], ["non-private", 0.95, None, None]]}]},
    )


@pytest.fixture(scope="module")
def browser() -> str:
    path = find_browser()
    if path is None:
        pytest.skip("no headless browser found: apt-get install chromium")
    return path


@pytest.fixture(scope="module")
def laid_out(browser, tmp_path_factory):
    """The sample report with long test ids and a one-epsilon DP audit: Chromium's DOM and its measurements."""
    directory = tmp_path_factory.mktemp("layout")
    records = every_kind() + [single_epsilon_record(LONG_IDS[0]), single_epsilon_record(LONG_IDS[1])]
    page = html.render(build_document(records, dict(ENVIRONMENT)))
    measured = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page).replace("</body>", MEASURE + "</body>")
    (directory / "report.html").write_text(page, encoding="utf-8")
    (directory / "measured.html").write_text(measured, encoding="utf-8")
    dom = run(browser, directory, "dom", "--dump-dom", (directory / "report.html").as_uri()).stdout
    measured_dom = run(browser, directory, "measure", "--window-size=1280,1800", "--dump-dom",
                       (directory / "measured.html").as_uri()).stdout
    found = re.search(r'data-measured="([^"]*)"', measured_dom)
    assert found, "the measuring script did not run"
    return {"dom": dom, "measured": json.loads(found.group(1).replace("&quot;", '"'))}


def test_no_table_cell_reads_none_or_nan(laid_out):
    page = parse(laid_out["dom"])
    cells = re.findall(r"<td[^>]*>(.*?)</td>", laid_out["dom"], flags=re.S)
    texts = [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
    assert texts and page.named("td")
    assert [text for text in texts if text in ("None", "nan", "NaN", "null")] == []  # Python or JSON leaking through
    assert "–" in texts  # the table's None cells, shown as a dash with a tooltip


def test_test_ids_break_only_between_their_parts(laid_out):
    measured = laid_out["measured"]
    assert set(LONG_IDS) <= set(measured["whole"])  # the full id is each one's tooltip
    assert measured["pieces"] >= 2 * len(measured["whole"])  # split at "/" and "::"
    assert measured["wrapped"] == []


def test_the_all_gates_table_fits_a_1280_pixel_window(laid_out):
    measured = laid_out["measured"]
    assert 1250 <= measured["window_width"] <= 1280  # less the vertical scrollbar
    assert measured["gates_right"] <= measured["window_width"]  # the policy and requirement columns in view


def test_a_single_epsilon_chart_is_points_at_that_epsilon_with_a_labelled_baseline(laid_out):
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", laid_out["dom"], flags=re.S)
    single = [svg for svg in svgs if "at epsilon = 1" in svg]
    assert len(single) == 2
    texts = [re.sub(r"<[^>]+>", "", text) for text in re.findall(r"<text[^>]*>.*?</text>", single[0], flags=re.S)]
    assert "log scale" not in " ".join(texts)
    assert {"DP mean", "DP p05"} <= set(texts)  # the x axis names the series, not eps ticks around one value
    assert "non-private baseline: 0.950" in texts
    ticks = [float(text.replace("−", "-")) for text in texts if re.fullmatch(r"−?\d+\.\d+", text)]
    assert ticks and min(ticks) >= 0.0 and max(ticks) <= 1.0  # a rate's axis stays in [0, 1]


# The print check: the main job's report on A4 -------------------------------------------------------------------

EMPTY_LIMIT = 0.8


def empty_share_per_page(pdf: Path, directory: Path) -> list[float]:
    """Each page's share left blank below and above its content (0: filled top to bottom), from 20 dpi pixels."""
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(directory / "page")], check=True, timeout=300)
    shares = []
    for image in sorted(directory.glob("page-*.pgm"), key=lambda path: int(path.stem.split("-")[1])):
        data = image.read_bytes()
        _, width, height, _, pixels = data.split(maxsplit=4)
        rows = np.frombuffer(pixels[-int(width) * int(height):], dtype=np.uint8).reshape(int(height), int(width))
        inked = np.flatnonzero((rows < 200).any(axis=1))
        shares.append(1.0 if inked.size == 0 else 1 - (inked[-1] - inked[0] + 1) / rows.shape[0])
    return shares


@pytest.fixture(scope="session")
def main_job_json(tmp_path_factory) -> Path:
    """The main job's JSON report: $MLAUDIT_MAIN_JOB_JSON if the CI job made one, else one run of `pytest audits`."""
    given = os.environ.get("MLAUDIT_MAIN_JOB_JSON")
    if given:
        return Path(given)
    for library in ("torch", "xgboost", "imblearn", "fairlearn"):
        pytest.importorskip(library, reason="running the main job needs the studies extra")
    path = tmp_path_factory.mktemp("main-job") / "audit.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "audits", "-q", "-p", "no:cacheprovider",
                           f"--mlaudit-json={path}"], cwd=ROOT, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    if not path.exists():
        pytest.fail(f"the main job wrote no JSON report:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return path


@pytest.mark.slow
def test_the_main_jobs_printed_report_has_no_mostly_empty_page(browser, main_job_json, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not found: apt-get install poppler-utils")
    from pytest_mlaudit.report.json import load

    report, pdf = tmp_path / "audit.html", tmp_path / "audit.pdf"
    report.write_text(html.render(load(main_job_json)), encoding="utf-8")
    run(browser, tmp_path, "print", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri())
    shares = empty_share_per_page(pdf, tmp_path)
    # the last page ends the document wherever its text ends
    mostly_empty = [(number, round(share, 2)) for number, share in enumerate(shares[:-1], 1) if share > EMPTY_LIMIT]
    assert len(shares) > 10 and mostly_empty == []
