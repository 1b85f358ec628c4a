"""The run's verdict and summary counts, decided from records and run facts directly (no pytest run).

``tests/test_verdict.py`` drives whole runs through pytester; these cases pin each
rule of :func:`pytest_mlaudit.verdict.summarize`, :class:`RunFacts` and the terminal
summary's lines on hand-built inputs, so that a change to one rule fails a named test
within milliseconds.
"""

from types import SimpleNamespace

import pytest

from pytest_mlaudit.records import AuditRecord, Check, Gate
from pytest_mlaudit.report.terminal import summary_lines
from pytest_mlaudit.verdict import RunFacts, summarize


def gate(passed: bool, metric: str = "recall") -> Gate:
    return Gate(metric, ">=", 0.8, 0.85 if passed else 0.7, 0.6, 0.9, "estimate", passed, ())


def record(*gates: Gate, nodeid: str = "t.py::test_a", outcome: str | None = None, handled: bool = False,
           suspect: bool = False) -> AuditRecord:
    if outcome is None:
        outcome = "failed" if any(not g.passed for g in gates) else "passed"
    checks = [Check("deterministic", not suspect, "")]
    return AuditRecord(nodeid=nodeid, category="imbalance", name="a", outcome=outcome, gates=list(gates),
                       checks=checks, handled=handled, error="boom" if outcome == "error" else None)


def test_every_gate_passed_is_a_pass_with_every_count():
    summary = summarize([record(gate(True), gate(True), nodeid="t.py::test_a"), record(gate(True), nodeid="t.py::test_b")])
    assert summary == {"verdict": "PASS", "reasons": [], "audits": 2,
                       "outcomes": {"passed": 2, "failed": 0, "error": 0}, "handled": 0, "gates": 3,
                       "gates_failed": 0, "suspect": 0, "tests": 2, "tests_failed_outside_audits": 0}


def test_one_missed_gate_fails_the_run_and_is_counted():
    summary = summarize([record(gate(True), gate(False), nodeid="t.py::test_a"), record(gate(True), nodeid="t.py::test_b")])
    assert summary["verdict"] == "FAIL"
    assert summary["reasons"] == ["1 gate(s) missed"]
    assert (summary["gates"], summary["gates_failed"], summary["outcomes"]["failed"]) == (3, 1, 1)


def test_an_errored_audit_fails_the_run_with_its_count():
    summary = summarize([record(outcome="error"), record(outcome="error"), record(gate(True))])
    assert summary["verdict"] == "FAIL"
    assert summary["reasons"] == ["2 audit(s) errored"]
    assert summary["outcomes"] == {"passed": 1, "failed": 0, "error": 2}


def test_a_handled_failure_is_shown_counted_apart_and_does_not_fail_the_run():
    summary = summarize([record(gate(False), nodeid="t.py::test_a", handled=True), record(gate(True), nodeid="t.py::test_b")])
    assert summary["verdict"] == "PASS"
    assert (summary["audits"], summary["handled"], summary["gates"], summary["gates_failed"]) == (2, 1, 1, 0)
    assert summary["outcomes"] == {"passed": 1, "failed": 0, "error": 0}


def test_a_test_failing_outside_its_audits_fails_the_run():
    run = RunFacts(failed_tests=[{"nodeid": "t.py::test_a", "when": "call", "message": "assert 1 == 2"}])
    summary = summarize([record(gate(True))], run)
    assert summary["verdict"] == "FAIL"
    assert summary["reasons"] == ["1 test(s) failed outside their audits"]
    assert summary["tests_failed_outside_audits"] == 1


def test_every_kind_of_failure_is_listed_in_order():
    run = RunFacts(failed_tests=[{"nodeid": "t.py::test_c", "when": "call", "message": "x"}])
    summary = summarize([record(gate(False), nodeid="t.py::test_a"), record(nodeid="t.py::test_b", outcome="error")], run)
    assert summary["reasons"] == ["1 gate(s) missed", "1 audit(s) errored", "1 test(s) failed outside their audits"]


def test_no_records_and_a_clean_run_say_no_audits():
    summary = summarize([], RunFacts(exit_status=0, tests={"passed": 3}))
    assert summary["verdict"] == "NO AUDITS"
    assert summary["reasons"] == ["no audit was measured"]
    assert (summary["audits"], summary["gates"], summary["tests"]) == (0, 0, 0)


def test_no_records_and_a_failed_test_is_a_failure_not_no_audits():
    run = RunFacts(failed_tests=[{"nodeid": "t.py::test_a", "when": "call", "message": "x"}])
    assert summarize([], run)["verdict"] == "FAIL"


@pytest.mark.parametrize("facts, reason", [
    (RunFacts(collection_errors=[{"nodeid": "t.py", "message": "SyntaxError"}]), "1 collection error(s): t.py"),
    (RunFacts(collection_errors=[{"nodeid": "", "message": "x"}]), "1 collection error(s): (session)"),
    (RunFacts(interrupted="KeyboardInterrupt"), "interrupted: KeyboardInterrupt"),
    (RunFacts(internal_error="boom"), "internal error: boom"),
    (RunFacts(crashed=[{"nodeid": "t.py::test_b"}]), "1 test(s) crashed their worker: t.py::test_b"),
    (RunFacts(not_run=["t.py::test_b", "t.py::test_c"]), "2 test(s) did not run: t.py::test_b, t.py::test_c"),
])
def test_an_unfinished_run_is_incomplete_even_with_a_missed_gate(facts, reason):
    summary = summarize([record(gate(False))], facts)
    assert summary["verdict"] == "INCOMPLETE"
    assert summary["reasons"] == [reason, "1 gate(s) missed"]


def test_an_unfinished_run_that_measured_nothing_is_incomplete():
    assert summarize([], RunFacts(interrupted="SIGTERM"))["verdict"] == "INCOMPLETE"


def test_long_lists_of_unfinished_tests_name_five_and_elide_the_rest():
    facts = RunFacts(not_run=[f"t.py::test_{k}" for k in range(7)],
                     collection_errors=[{"nodeid": f"m{k}.py"} for k in range(6)],
                     crashed=[{"nodeid": f"t.py::c{k}"} for k in range(6)])
    reasons = facts.incomplete_reasons()
    assert reasons[0] == "6 collection error(s): m0.py, m1.py, m2.py, m3.py, m4.py"
    assert reasons[1] == "6 test(s) crashed their worker: t.py::c0, t.py::c1, t.py::c2, t.py::c3, t.py::c4"
    assert reasons[2] == "7 test(s) did not run: t.py::test_0, t.py::test_1, t.py::test_2, t.py::test_3, t.py::test_4 ..."
    assert RunFacts(not_run=["a", "b", "c", "d", "e"]).incomplete_reasons() == ["5 test(s) did not run: a, b, c, d, e"]


def test_a_clean_run_has_no_incomplete_reasons():
    assert RunFacts(exit_status=0, tests={"passed": 2}).incomplete_reasons() == []


def test_suspect_audits_and_distinct_tests_are_counted():
    records = [record(gate(True), nodeid="t.py::test_a", suspect=True), record(gate(True), nodeid="t.py::test_a"),
               record(gate(True), nodeid="t.py::test_b", suspect=True, handled=True)]
    summary = summarize(records)
    assert (summary["suspect"], summary["tests"], summary["audits"]) == (1, 2, 3)


def test_merged_shards_add_counts_and_keep_everything_that_went_wrong():
    first = RunFacts(exit_status=0, tests={"passed": 2, "failed": 1}, failed_tests=[{"nodeid": "a"}],
                     not_run=["x"], collection_errors=[{"nodeid": "c"}])
    second = RunFacts(exit_status=1, tests={"passed": 3}, crashed=[{"nodeid": "b"}], interrupted="SIGTERM",
                      internal_error="boom", failed_tests=[{"nodeid": "d"}])
    merged = RunFacts.merged([first, second, RunFacts()])
    assert merged.tests == {"passed": 5, "failed": 1}
    assert merged.failed_tests == [{"nodeid": "a"}, {"nodeid": "d"}]
    assert (merged.not_run, merged.collection_errors, merged.crashed) == (["x"], [{"nodeid": "c"}], [{"nodeid": "b"}])
    assert (merged.interrupted, merged.internal_error, merged.exit_status) == ("SIGTERM", "boom", 1)


def test_merged_exit_status_is_the_worst_and_none_when_no_shard_had_one():
    assert RunFacts.merged([RunFacts(exit_status=2), RunFacts(exit_status=1)]).exit_status == 2
    assert RunFacts.merged([RunFacts(), RunFacts()]).exit_status is None
    first_interrupt = RunFacts.merged([RunFacts(interrupted="first"), RunFacts(interrupted="second")])
    assert first_interrupt.interrupted == "first"


def test_run_facts_round_trip_through_a_dict_and_ignore_unknown_keys():
    facts = RunFacts(exit_status=1, tests={"passed": 1}, not_run=["t.py::test_b"], interrupted="SIGTERM")
    assert RunFacts.from_dict(facts.to_dict()) == facts
    assert RunFacts.from_dict({"exit_status": 3, "future_field": 1}) == RunFacts(exit_status=3)
    assert RunFacts.from_dict(None) == RunFacts()


# --------------------------------------------------------------------------- the terminal summary


def test_the_terminal_shows_each_gate_with_its_value_interval_threshold_and_policy():
    lines = list(summary_lines([record(gate(True), gate(False, metric="precision"))]))
    assert lines[:2] == [("PASS t.py::test_a recall = 0.8500 [0.6000, 0.9000] >= 0.8 (estimate)", False),
                         ("FAIL t.py::test_a precision = 0.7000 [0.6000, 0.9000] >= 0.8 (estimate)", True)]


def test_the_terminal_names_the_failed_checks_of_a_suspect_audit():
    (line, failed), _ = summary_lines([record(gate(True), suspect=True)])
    assert line == "PASS SUSPECT (deterministic) t.py::test_a recall = 0.8500 [0.6000, 0.9000] >= 0.8 (estimate)"
    assert failed is False


def test_the_terminal_shows_no_line_for_an_audit_its_test_caught_and_counts_it_in_the_verdict():
    lines = list(summary_lines([record(gate(False), handled=True)]))
    assert lines == [("mlaudit verdict PASS; 1 audit failure(s) caught by their own tests, not counted", False)]


def test_the_terminal_verdict_line_gives_the_reasons_of_a_failure():
    *_, last = summary_lines([record(gate(False)), record(outcome="error")])
    assert last == ("mlaudit verdict FAIL: 1 gate(s) missed; 1 audit(s) errored", True)


def test_the_terminal_shows_ten_errored_audits_and_counts_the_rest_naming_the_reports():
    errors = [record(outcome="error", nodeid=f"t.py::test_{i}") for i in range(12)]
    lines = list(summary_lines(errors, reports_written=("html", "json")))
    assert lines[:10] == [(f"ERROR t.py::test_{i} a: boom", True) for i in range(10)]
    assert lines[10] == ("... and 2 more audits that errored (all are in the html and json report)", True)
    assert len(lines) == 12


def test_the_terminal_count_of_further_errors_names_no_report_when_none_was_written():
    lines = list(summary_lines([record(outcome="error") for _ in range(11)]))
    assert lines[10] == ("... and 1 more audits that errored", True)


def test_the_terminal_shows_the_first_ten_tests_that_failed_outside_their_audits():
    failed = [{"nodeid": f"t.py::test_{i}", "when": "call", "message": "assert 0"} for i in range(11)]
    lines = list(summary_lines([record(gate(True))], RunFacts(failed_tests=failed)))
    outside = [line for line in lines if line[0].startswith("FAILED")]
    assert outside == [(f"FAILED outside its audits: t.py::test_{i} (call): assert 0", True) for i in range(10)]
    assert lines[-1] == ("mlaudit verdict FAIL: 11 test(s) failed outside their audits", True)


def change(nodeid: str, paired: bool = True) -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, audit="a", paired=paired, message=lambda tolerance: f"dropped (tol {tolerance:g})")


def comparison(**fields) -> SimpleNamespace:
    defaults = dict(warnings=[], regressions=[], changes=[], tolerance=0.01, matched=2, policy="upper", new=[],
                    vanished=[], not_run=0, baseline=SimpleNamespace(path="base.json"))
    return SimpleNamespace(**{**defaults, **fields})


def test_the_terminal_baseline_lines_give_warnings_regressions_then_the_count():
    regressed = change("t.py::test_a")
    lines = list(summary_lines([], comparison=comparison(
        warnings=["seed differs"], regressions=[regressed], changes=[regressed, change("t.py::test_b", paired=False)],
        new=["x"], not_run=3)))
    assert lines[:3] == [
        ("mlaudit baseline warning: seed differs", True),
        ("REGRESSED t.py::test_a a: dropped (tol 0.01)", True),
        ("mlaudit baseline base.json: 2 metric(s) of 2 audit(s) compared (1 paired), 1 regression(s) (policy upper, "
         "tolerance 0.01), 1 new audit(s), 0 vanished, 3 of tests not run here", True),
    ]


def test_the_terminal_baseline_count_line_is_not_a_failure_without_regressions_or_vanished_audits():
    lines = list(summary_lines([], comparison=comparison()))
    assert lines[0] == ("mlaudit baseline base.json: 0 metric(s) of 2 audit(s) compared (0 paired), 0 regression(s) "
                        "(policy upper, tolerance 0.01), 0 new audit(s), 0 vanished", False)


def test_the_terminal_shows_ten_regressions_and_vanished_audits_and_counts_the_rest():
    regressions = [change(f"t.py::test_{i}") for i in range(11)]
    vanished = [(f"t.py::test_v{i}", "a") for i in range(11)]
    lines = list(summary_lines([], comparison=comparison(regressions=regressions, changes=regressions,
                                                          vanished=vanished)))
    assert lines[10] == ("... and 1 more regressions", True)
    assert lines[11][0].endswith("11 regression(s) (policy upper, tolerance 0.01), 0 new audit(s), 11 vanished")
    assert lines[12:22] == [(f"VANISHED t.py::test_v{i} a: in the baseline, not measured in this run", True)
                            for i in range(10)]
    assert lines[22][0].startswith("mlaudit verdict")


def test_an_audit_failed_with_every_gate_met_fails_the_run_with_its_reason():
    summary = summarize([record(gate(True), outcome="failed")])
    assert summary["verdict"] == "FAIL"
    assert summary["reasons"] == ["1 audit(s) failed with every gate met (a regression against the baseline, or a "
                                  "mandatory check)"]


def test_the_terminal_lists_every_failed_check_of_a_suspect_audit():
    suspect = record(gate(True), suspect=True)
    suspect.checks.append(Check("finite outputs", False, ""))
    (line, _), _ = summary_lines([suspect])
    assert line.startswith("PASS SUSPECT (deterministic, finite outputs) t.py::test_a")


def test_the_terminal_shows_exactly_ten_errored_audits_without_a_count_line():
    lines = list(summary_lines([record(outcome="error", nodeid=f"t.py::test_{i}") for i in range(10)]))
    assert [line for line, _ in lines if line.startswith("...")] == []
    assert len(lines) == 11


def test_the_terminal_shows_exactly_ten_regressions_without_a_count_line():
    regressions = [change(f"t.py::test_{i}") for i in range(10)]
    lines = list(summary_lines([], comparison=comparison(regressions=regressions, changes=regressions)))
    assert [line for line, _ in lines if line.startswith("...")] == []
