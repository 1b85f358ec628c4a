"""Regression gates: changes against a baseline with intervals, the policies, per-sample outcomes, CI output."""

import base64
import json
import math

import numpy as np
import pytest
from extras import needs
from scipy.stats import norm

import pytest_mlaudit as mla
from pytest_mlaudit.__main__ import main
from pytest_mlaudit.records import AuditRecord, Estimate, Gate
from pytest_mlaudit.regression import (Baseline, compare, compare_records, interval_difference, pack_outcomes,
                                       regressed, unpack_outcomes)
from pytest_mlaudit.report import markdown

DATA = {"sha256": "0123456789abcdef", "n": 400}


def outcomes(k, n=400, order=None):
    """``k`` hits among ``n`` samples: the first ``k``, or the positions ``order`` gives first."""
    hits = np.zeros(n, dtype=bool)
    hits[(np.arange(n) if order is None else order)[:k]] = True
    return hits


def record(hits, *, metric="accuracy", op=">=", threshold=0.5, data=DATA, store=True, nodeid="t.py::test_a",
           name="accuracy audit", params=None):
    """An audit record of a proportion over ``hits``, gated, with its per-sample outcomes stored."""
    estimate = mla.proportion(int(np.sum(hits)), len(hits))
    passed = estimate.value >= threshold if op == ">=" else estimate.value <= threshold
    gate = Gate(metric, op, threshold, estimate.value, estimate.low, estimate.high, "estimate", passed)
    return AuditRecord(nodeid=nodeid, category="quality", name=name, params=dict(params or {"eps": 0.1}),
                       data=dict(data), metrics={metric: estimate}, gates=[gate] if op else [],
                       samples={metric: pack_outcomes(hits)} if store else {})


def change_of(before, after, **options):
    changes = compare_records(before, after, **options)
    assert len(changes) == 1
    return changes[0]


# --- per-sample outcomes, stored compactly -----------------------------------------------------------------


def test_outcomes_are_stored_as_packed_bits_in_base64_with_their_counts_and_size():
    hits = np.array([True, False, True, True, False, False, False, True, True, False])
    entry = pack_outcomes(hits)
    assert (entry["n"], entry["k"], entry["encoding"]) == (10, 5, "packbits-base64")
    assert base64.b64decode(entry["bits"]) == bytes([0b10110001, 0b10000000])
    assert entry["bytes"] == len(entry["bits"]) == 4
    assert unpack_outcomes(entry).tolist() == hits.tolist()


def test_outcomes_above_the_bound_are_not_stored_and_the_entry_says_so():
    entry = pack_outcomes(np.ones(101, dtype=bool), bound=100)
    assert (entry["n"], entry["k"], entry["encoding"], entry["bytes"]) == (101, 101, None, 0)
    assert "bits" not in entry
    assert entry["omitted"].startswith("101 samples exceed the bound of 100")
    assert unpack_outcomes(entry) is None


def test_outcomes_must_be_booleans_one_per_sample():
    with pytest.raises(ValueError, match="booleans or 0/1"):
        pack_outcomes(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="1-D array"):
        pack_outcomes(np.ones((2, 2), dtype=bool))


def test_an_audit_stores_outcomes_that_agree_with_their_metric():
    hits = outcomes(300)
    with mla.audit("quality", "accuracy") as a:
        a.metric("accuracy", mla.proportion(300, 400))
        a.outcomes("accuracy", hits)
    with pytest.raises(ValueError, match="give 0.75 over 400 samples, but the metric is 0.5"):
        with mla.audit("quality", "accuracy") as a:
            a.metric("accuracy", mla.proportion(200, 400))
            a.outcomes("accuracy", hits)


# --- the change and its interval ---------------------------------------------------------------------------


def test_paired_change_is_newcombes_interval_on_the_same_samples_and_agrees_with_a_paired_bootstrap():
    rng = np.random.default_rng(0)
    before_hits = rng.random(2000) < 0.80
    after_hits = before_hits.copy()
    flipped = rng.choice(2000, 160, replace=False)  # a model change that breaks more samples than it fixes
    after_hits[flipped[:120]] = False
    after_hits[flipped[120:]] = True
    change = change_of(record(before_hits), record(after_hits))
    assert change.method == "paired (Newcombe)"
    delta = after_hits.mean() - before_hits.mean()
    assert change.change.value == pytest.approx(delta)
    replicates = []
    for _ in range(4000):  # brute-force paired bootstrap: resample samples, keep each sample's pair together
        rows = rng.integers(0, 2000, 2000)
        replicates.append(after_hits[rows].mean() - before_hits[rows].mean())
    low, high = np.quantile(replicates, [0.025, 0.975])
    assert change.change.low == pytest.approx(low, abs=0.004)
    assert change.change.high == pytest.approx(high, abs=0.004)


def test_paired_interval_excludes_zero_where_mcnemars_test_rejects():
    statsmodels = pytest.importorskip("statsmodels.stats.contingency_tables")
    before_hits = outcomes(360)
    for broken, fixed in ((30, 5), (12, 8), (20, 6), (9, 9)):
        after_hits = before_hits.copy()
        after_hits[:broken] = False
        after_hits[360:360 + fixed] = True
        change = change_of(record(before_hits), record(after_hits))
        table = [[360 - broken, broken], [fixed, 40 - fixed]]  # rows: before right/wrong, columns: after right/wrong
        p_value = statsmodels.mcnemar(table, exact=True).pvalue
        assert (change.change.high < 0) == (p_value < 0.05), (broken, fixed, change.change, p_value)


def test_independent_change_of_proportions_is_newcombes_interval_as_statsmodels_computes_it():
    proportion_tools = pytest.importorskip("statsmodels.stats.proportion")
    change = change_of(record(outcomes(330), data={"sha256": "a"}), record(outcomes(290, 380), data={"sha256": "b"}))
    assert change.method == "independent (Newcombe, two proportions)"
    assert change.note == "the data fingerprints differ: not paired"
    low, high = proportion_tools.confint_proportions_2indep(290, 380, 330, 400, method="newcomb", compare="diff")
    assert change.change.value == pytest.approx(290 / 380 - 330 / 400)
    assert (change.change.low, change.change.high) == pytest.approx((low, high), abs=1e-9)


def test_independent_change_of_other_estimates_is_the_normal_approximation_from_the_two_intervals():
    before = Estimate(0.80, 0.76, 0.84, 500, "bootstrap-percentile")
    after = Estimate(0.70, 0.64, 0.76, 500, "bootstrap-percentile")
    change = interval_difference(after, before, 0.95)
    se = math.hypot(0.04 / norm.ppf(0.975), 0.06 / norm.ppf(0.975))
    assert change.value == pytest.approx(-0.10)
    assert (change.low, change.high) == pytest.approx((-0.10 - norm.ppf(0.975) * se, -0.10 + norm.ppf(0.975) * se))


def test_intervals_at_another_confidence_are_rescaled_to_this_runs():
    before = Estimate(0.80, 0.80 - norm.ppf(0.95) * 0.02, 0.80 + norm.ppf(0.95) * 0.02, 500, "x", 0.90)
    after = Estimate(0.80, 0.80 - norm.ppf(0.975) * 0.02, 0.80 + norm.ppf(0.975) * 0.02, 500, "x", 0.95)
    change = interval_difference(after, before, 0.95)
    assert change.high == pytest.approx(norm.ppf(0.975) * math.hypot(0.02, 0.02))


@pytest.mark.parametrize(("case", "before", "after", "note"), [
    ("bound", dict(), dict(store_bound=10), "400 samples exceed the bound of 10"),
    ("one side", dict(), dict(store=False), "per-sample outcomes stored in one run only: not paired"),
    ("data", dict(), dict(data={"sha256": "other"}), "the data fingerprints differ: not paired"),
])
def test_without_usable_per_sample_outcomes_the_change_is_independent_and_says_why(case, before, after, note):
    old = record(outcomes(360), **before)
    new = record(outcomes(330), **{key: value for key, value in after.items() if key != "store_bound"})
    if "store_bound" in after:
        new.samples["accuracy"] = pack_outcomes(outcomes(330), bound=after["store_bound"])
    change = change_of(old, new)
    assert change.method == "independent (Newcombe, two proportions)"
    assert change.note.startswith(note)


def test_runs_of_different_seeds_are_not_paired():
    change = change_of(record(outcomes(360)), record(outcomes(330)), same_seed=False)
    assert (change.paired, change.note) == (False, "runs of different seeds: not paired")


def test_a_difference_of_two_proportions_is_paired_part_by_part_and_combined_by_square_and_add():
    members_before, members_after = outcomes(150, 200), outcomes(120, 200)
    others_before, others_after = outcomes(50, 200), outcomes(60, 200)

    def advantage(members, others):
        estimate = mla.independent_difference(int(members.sum()), 200, int(others.sum()), 200)
        return AuditRecord("t.py::test_a", "privacy", "membership", data=DATA, metrics={"advantage": estimate},
                           gates=[Gate("advantage", "<=", 0.5, estimate.value, estimate.low, estimate.high,
                                       "estimate", True)],
                           samples={"advantage": pack_outcomes(members, others)})

    change = change_of(advantage(members_before, others_before), advantage(members_after, others_after))
    members = mla.paired_difference(120, 0, 30, 50)  # after - before on the members
    others = mla.paired_difference(50, 10, 0, 140)  # after - before on the non-members
    raw = -0.15 - 0.05
    assert change.method == "paired (Newcombe per part, square-and-add of the two parts)"
    assert change.change.value == pytest.approx(-raw)  # an at_most gate: the advantage falling is better
    assert change.change.low == pytest.approx(-(raw + math.hypot(members.high - members.value,
                                                                  others.value - others.low)))
    assert change.change.high == pytest.approx(-(raw - math.hypot(members.value - members.low,
                                                                   others.high - others.value)))
    assert change.verdict == "improved"


# --- the policies, the tolerance, the orientation ----------------------------------------------------------


@pytest.mark.parametrize(("change", "upper", "estimate", "lower"), [
    ((-0.03, -0.05, -0.01), True, True, True),  # significant
    ((-0.01, -0.03, 0.01), False, True, True),  # worse, not significantly
    ((0.01, -0.01, 0.03), False, False, True),  # better, but the pessimistic end is worse
    ((0.02, 0.005, 0.04), False, False, False),  # significantly better
])
def test_each_regression_policy_mirrors_its_gate_policy(change, upper, estimate, lower):
    interval = Estimate(*change, 400)
    assert [regressed(interval, 0.0, policy) for policy in ("upper", "estimate", "lower")] == [upper, estimate, lower]


def test_the_tolerance_shifts_every_rule():
    interval = Estimate(-0.03, -0.05, -0.01, 400)
    assert [regressed(interval, 0.02, policy) for policy in ("upper", "estimate", "lower")] == [False, True, True]
    assert [regressed(interval, 0.04, policy) for policy in ("upper", "estimate", "lower")] == [False, False, True]
    assert [regressed(interval, 0.06, policy) for policy in ("upper", "estimate", "lower")] == [False, False, False]


def test_for_an_at_most_gate_a_rise_is_the_regression():
    change = change_of(record(outcomes(40), op="<=", threshold=0.5), record(outcomes(80), op="<=", threshold=0.5))
    assert change.change.value == pytest.approx(-0.1)
    assert change.verdict == "regressed"
    assert change.message(0.0).startswith("accuracy rose from 0.100")


def test_the_message_gives_both_estimates_the_change_the_tolerance_and_the_method():
    change = change_of(record(outcomes(360)), record(outcomes(320)), tolerance=0.01)
    assert change.message(0.01) == ("accuracy fell from 0.900 [0.87, 0.93] to 0.800 [0.76, 0.84]: "
                                    "\u22120.100 [\u22120.13, \u22120.07], beyond tolerance 0.01 (paired)")


def test_a_metric_without_a_gate_is_compared_but_never_fails():
    change = change_of(record(outcomes(360), op=None), record(outcomes(200), op=None))
    assert (change.verdict, change.direction, change.regressed) == ("not gated", "", False)
    assert change.change.value == pytest.approx(-0.4)


# --- a run against its baseline ----------------------------------------------------------------------------


def test_audits_match_by_test_audit_and_parameters_but_not_seeds():
    baseline = Baseline.from_records([record(outcomes(360), params={"eps": 0.1, "seed": 1, "split_seed": 2})])
    comparison = compare(baseline, [record(outcomes(360), params={"eps": 0.1, "seed": 9, "split_seed": 8})])
    assert (comparison.matched, comparison.new, comparison.vanished) == (1, (), ())


def test_new_and_vanished_audits_are_listed():
    baseline = Baseline.from_records([record(outcomes(360)), record(outcomes(360), nodeid="t.py::test_gone"),
                                      record(outcomes(360), nodeid="other.py::test_elsewhere")])
    comparison = compare(baseline, [record(outcomes(360)), record(outcomes(360), params={"eps": 0.2})],
                         collected=["t.py::test_a", "t.py::test_gone"])
    assert comparison.new == (("t.py::test_a", "accuracy audit"),)
    assert comparison.vanished == (("t.py::test_gone", "accuracy audit"),)
    assert comparison.not_run == 1  # a test this run did not collect: another shard
    block = comparison.to_dict()
    assert block["new"] == [{"nodeid": "t.py::test_a", "audit": "accuracy audit"}]
    assert block["vanished"] == [{"nodeid": "t.py::test_gone", "audit": "accuracy audit"}]


def test_a_baseline_of_another_seed_or_confidence_or_without_a_matching_audit_is_warned_about():
    baseline = Baseline(path="main.json", created=None, commit=None, seed=3, confidence=0.9,
                        audits=Baseline.from_records([record(outcomes(360), nodeid="x.py::test_x")]).audits)
    comparison = compare(baseline, [record(outcomes(360))], seed=0, confidence=0.95)
    warnings = comparison.warnings
    assert len(warnings) == 3
    assert warnings[0].startswith("the baseline main.json was run with seed 3, this run with seed 0")
    assert warnings[1].startswith("the baseline main.json has 90% intervals, this run 95%")
    assert warnings[2].startswith("no audit of this run matches an audit of the baseline main.json")


def test_a_rerun_against_its_own_baseline_has_no_regression_under_any_tolerance():
    records = [record(outcomes(360)), record(outcomes(97, 100), nodeid="t.py::test_b")]
    comparison = compare(Baseline.from_records(records), records)
    assert [(c.change.value, c.verdict, c.paired) for c in comparison.changes] == [(0.0, "within tolerance", True)] * 2
    assert comparison.regressions == []


def test_compare_runs_takes_report_documents():
    before = {"schema": "pytest-mlaudit/1", "environment": {"seed": 0}, "audits": [record(outcomes(360)).to_dict()]}
    after = {"schema": "pytest-mlaudit/1", "environment": {"seed": 0}, "audits": [record(outcomes(300)).to_dict()]}
    comparison = mla.compare_runs(before, after)
    assert [change.verdict for change in comparison.regressions] == ["regressed"]
    with pytest.raises(ValueError, match="not a pytest-mlaudit report"):
        mla.compare_runs({"schema": "other/2", "audits": []}, after)


# --- Markdown ----------------------------------------------------------------------------------------------


def document(records, comparison=None):
    from pytest_mlaudit.report.json import build_document

    built = build_document(records, {"seed": 0})
    if comparison is not None:
        built["baseline"] = comparison.to_dict()
    return built


def test_markdown_summary_says_verdict_regressions_and_where_the_html_is():
    before, after = [record(outcomes(360))], [record(outcomes(300))]
    text = markdown.summary(document(after, compare(Baseline.from_records(before, "main.json"), after)),
                            "out/audit.html")
    assert text.splitlines()[0] == "## ✅ ML audit: PASS"
    assert "1 metrics compared (1 paired), **1 regression(s)** (policy upper, tolerance 0)" in text
    assert "| `t.py::test_a` | accuracy audit | accuracy fell from 0.900 [0.87, 0.93] to 0.750" in text
    assert text.rstrip().endswith("Full report: [audit.html](audit.html) (HTML, in the job's artifacts).")


def test_markdown_summary_stays_short_with_many_failures():
    after = [record(outcomes(100), nodeid=f"t.py::test_{i}", threshold=0.5) for i in range(60)]
    before = [record(outcomes(360), nodeid=f"t.py::test_{i}") for i in range(60)]
    text = markdown.summary(document(after, compare(Baseline.from_records(before), after)))
    assert text.startswith("## ❌ ML audit: FAIL")
    assert "… and 50 more (see the HTML report)" in text
    assert text.count("\n| `t.py::test_") == 20
    assert len(text.splitlines()) < 45


# --- python -m pytest_mlaudit compare ----------------------------------------------------------------------


def write_report(path, records, seed=0):
    path.write_text(json.dumps(document(records) | {"environment": {"seed": seed, "confidence": 0.95}}))
    return path


def test_compare_exits_1_on_a_significant_regression_and_writes_markdown(tmp_path, capsys):
    old = write_report(tmp_path / "old.json", [record(outcomes(360))])
    new = write_report(tmp_path / "new.json", [record(outcomes(320))])
    assert main(["compare", str(old), str(new), "--markdown", str(tmp_path / "summary.md")]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED        t.py::test_a accuracy audit: accuracy fell from 0.900" in out
    assert "1 regression(s) in 1 metric(s) compared (1 paired)" in out
    assert "**1 regression(s)**" in (tmp_path / "summary.md").read_text()


def test_compare_exits_0_within_tolerance_or_without_significance(tmp_path):
    old = write_report(tmp_path / "old.json", [record(outcomes(360))])
    new = write_report(tmp_path / "new.json", [record(outcomes(356))])
    assert main(["compare", str(old), str(new)]) == 0  # 4 samples worse: not significant
    assert main(["compare", str(old), str(new), "--policy", "estimate"]) == 1
    assert main(["compare", str(old), str(new), "--policy", "estimate", "--tolerance", "0.02"]) == 0


def test_compare_exits_2_on_bad_input(tmp_path, capsys):
    old = write_report(tmp_path / "old.json", [record(outcomes(360))])
    (tmp_path / "foreign.json").write_text(json.dumps({"schema": "other/1", "audits": []}))
    with pytest.raises(SystemExit) as exited:
        main(["compare", str(old), str(tmp_path / "foreign.json")])
    assert exited.value.code == 2
    assert "is not a pytest-mlaudit report" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["compare", str(old), str(tmp_path / "missing.json")])
    assert exited.value.code == 2


# --- the plugin: --mlaudit-baseline and friends ------------------------------------------------------------

QUALITY_TEST = """
    import numpy as np
    import pytest_mlaudit as mla

    def test_accuracy():
        hits = np.arange(400) < {k}
        with mla.audit("quality", "accuracy on a fixed set", data=np.arange(400.0)) as a:
            a.gate("accuracy", at_least=0.5)
            a.metric("accuracy", mla.proportion(int(hits.sum()), hits.size))
            a.outcomes("accuracy", hits)
"""


@pytest.fixture
def accepted(pytester):
    """A project whose accepted run (accuracy 0.9) is saved as main.json."""
    pytester.makepyfile(test_quality=QUALITY_TEST.format(k=360))
    pytester.runpytest("--mlaudit-json=main.json").assert_outcomes(passed=1)
    return pytester


def test_a_significant_regression_fails_its_test_with_the_change_and_its_interval(accepted):
    accepted.makepyfile(test_quality=QUALITY_TEST.format(k=320))
    result = accepted.runpytest("--mlaudit-baseline=main.json", "--mlaudit-json=new.json", "--mlaudit-report=new.html")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*accuracy on a fixed set: accuracy fell from 0.900 [[]0.87, 0.93] to 0.800 [[]0.76, 0.84]: "
        "\u22120.100 [[]\u22120.13, \u22120.07], beyond tolerance 0 (paired) against the baseline *main.json",
        "REGRESSED test_quality.py::test_accuracy accuracy on a fixed set: accuracy fell*",
        "mlaudit baseline *main.json: 1 metric(s) of 1 audit(s) compared (1 paired), 1 regression(s)*",
        "mlaudit verdict FAIL*",
    ])
    block = json.loads((accepted.path / "new.json").read_text())["baseline"]
    assert block["path"].endswith("main.json") and block["regressions"] == 1
    assert block["changes"][0]["method"] == "paired (Newcombe)"
    assert block["changes"][0]["change"]["value"] == pytest.approx(-0.1)
    html = (accepted.path / "new.html").read_text()
    assert "<h2>Changes since baseline</h2>" in html and 'id="baseline-changes"' in html


def test_a_rerun_with_the_same_seed_against_its_own_baseline_reports_zero_regressions(accepted):
    result = accepted.runpytest("--mlaudit-baseline=main.json", "--mlaudit-json=again.json")
    result.assert_outcomes(passed=1)
    block = json.loads((accepted.path / "again.json").read_text())["baseline"]
    assert (block["regressions"], block["new"], block["vanished"], block["warnings"]) == (0, [], [], [])
    assert [(c["change"]["value"], c["method"]) for c in block["changes"]] == [(0.0, "paired (Newcombe)")]


def test_a_regression_within_the_tolerance_or_not_failing_passes(accepted):
    accepted.makepyfile(test_quality=QUALITY_TEST.format(k=320))
    accepted.runpytest("--mlaudit-baseline=main.json", "--mlaudit-regression-tolerance=0.15").assert_outcomes(passed=1)
    result = accepted.runpytest("--mlaudit-baseline=main.json", "--mlaudit-fail-on-regression=no")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["REGRESSED test_quality.py::test_accuracy*"])


def test_the_baseline_has_an_ini_key(accepted):
    accepted.makeini("[pytest]\nmlaudit_baseline = main.json\nmlaudit_regression_policy = estimate\n")
    accepted.makepyfile(test_quality=QUALITY_TEST.format(k=356))
    accepted.runpytest().assert_outcomes(failed=1)


def test_a_baseline_that_is_not_a_report_is_a_usage_error(pytester):
    pytester.makepyfile(test_quality=QUALITY_TEST.format(k=360))
    (pytester.path / "foreign.json").write_text(json.dumps({"schema": "pytest-mlaudit/0", "audits": []}))
    result = pytester.runpytest("--mlaudit-baseline=foreign.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mlaudit-baseline: *foreign.json is not a pytest-mlaudit report: "
                                 "expected schema 'pytest-mlaudit/1', found schema 'pytest-mlaudit/0'"])
    result = pytester.runpytest("--mlaudit-baseline=missing.json")
    result.stderr.fnmatch_lines(["*--mlaudit-baseline: *missing.json: no such file"])


@pytest.mark.parametrize(("option", "message"), [
    ("--mlaudit-regression-policy=strict", "mlaudit: regression policy must be one of estimate, lower, upper*"),
    ("--mlaudit-regression-tolerance=-0.1", "mlaudit: regression tolerance must be a non-negative number*"),
    ("--mlaudit-fail-on-regression=maybe", "*--mlaudit-fail-on-regression (ini mlaudit_fail_on_regression) must be "
                                           "boolean, got 'maybe'"),
])
def test_bad_regression_options_are_usage_errors(pytester, option, message):
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


def test_a_baseline_of_another_seed_is_warned_about_and_compared_unpaired(accepted):
    result = accepted.runpytest("--mlaudit-baseline=main.json", "--mlaudit-seed=5", "--mlaudit-json=new.json")
    assert result.parseoutcomes()["passed"] == 1  # other warnings of the environment may join the seed's
    result.stdout.fnmatch_lines(["*BaselineWarning: the baseline *main.json was run with seed 0, this run with seed 5*"])
    change = json.loads((accepted.path / "new.json").read_text())["baseline"]["changes"][0]
    assert change["method"] == "independent (Newcombe, two proportions)"


def test_new_and_vanished_audits_are_in_the_terminal_and_the_json(accepted):
    accepted.makepyfile(test_quality=QUALITY_TEST.format(k=360).replace("a fixed set", "the new set"),
                        test_other=QUALITY_TEST.format(k=360).replace("test_accuracy", "test_other"))
    result = accepted.runpytest("--mlaudit-baseline=main.json", "--mlaudit-json=new.json")
    result.stdout.fnmatch_lines(["mlaudit baseline warning: no audit of this run matches*",
                                 "*0 regression(s)*2 new audit(s), 1 vanished",
                                 "VANISHED test_quality.py::test_accuracy accuracy on a fixed set: in the baseline*"])
    block = json.loads((accepted.path / "new.json").read_text())["baseline"]
    assert block["new"] == [{"nodeid": "test_other.py::test_other", "audit": "accuracy on a fixed set"},
                            {"nodeid": "test_quality.py::test_accuracy", "audit": "accuracy on the new set"}]
    assert block["vanished"] == [{"nodeid": "test_quality.py::test_accuracy", "audit": "accuracy on a fixed set"}]


def test_baseline_audits_of_tests_this_run_did_not_collect_are_counted_apart(accepted):
    accepted.makepyfile(test_other=QUALITY_TEST.format(k=360).replace("test_accuracy", "test_other"))
    result = accepted.runpytest("test_other.py", "--mlaudit-baseline=main.json", "--mlaudit-json=new.json")
    result.stdout.fnmatch_lines(["*1 new audit(s), 0 vanished, 1 of tests not run here"])
    assert json.loads((accepted.path / "new.json").read_text())["baseline"]["not_run"] == 1


def test_the_markdown_summary_goes_to_its_path_or_to_the_github_step_summary(accepted, monkeypatch):
    accepted.runpytest("--mlaudit-markdown=summary.md").assert_outcomes(passed=1)
    assert (accepted.path / "summary.md").read_text().startswith("## ✅ ML audit: PASS")
    step_summary = accepted.path / "step.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    accepted.runpytest("--mlaudit-json=again.json").assert_outcomes(passed=1)
    assert step_summary.read_text().startswith("earlier step\n\n## ✅ ML audit: PASS")


# --- the families store their per-sample outcomes ----------------------------------------------------------


@needs("torch")
def test_robustness_stores_clean_and_robust_correctness(tiny, mlaudit):
    model, X, y = tiny
    result = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    samples = mlaudit.records[-1].samples
    assert unpack_outcomes(samples["clean_accuracy"]).sum() == round(result.clean_accuracy.value * 200)
    assert unpack_outcomes(samples["robust_accuracy"]).sum() == round(result.robust_accuracy.value * 200)


@needs("imblearn")
def test_imbalance_stores_the_recall_hits_on_the_positives(mlaudit):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(600, 6, weights=[0.9], random_state=0)
    result = mla.imbalance(LogisticRegression(), X[:400], y[:400], X[400:], y[400:], n_resamples=50)
    entry = mlaudit.records[-1].samples["recall"]
    assert (entry["n"], entry["k"]) == (int((y[400:] == 1).sum()), round(result.recall.value * entry["n"]))


def test_membership_inference_stores_the_guesses_on_members_and_non_members(mlaudit):
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(200, 5, flip_y=0.3, random_state=0)
    result = mla.membership_inference(DecisionTreeClassifier(random_state=0).fit(X[:100], y[:100]),
                                      X[:100], y[:100], X[100:], y[100:])
    entry = mlaudit.records[-1].samples["advantage"]
    assert (entry["n"], entry["minus_n"]) == (50, 50)
    assert entry["k"] / 50 - entry["minus_k"] / 50 == pytest.approx(result.advantage.value)
