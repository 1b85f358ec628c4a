"""Faults: a report is never half-written, and a crashing audit loses nothing."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from pytest_mlaudit.report import write_atomic


def test_an_atomic_write_replaces_the_old_file_whole(tmp_path):
    target = tmp_path / "audit.json"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


def test_an_atomic_write_makes_a_file_others_may_read(tmp_path):
    target = tmp_path / "audit.html"
    previous = os.umask(0o022)
    try:
        write_atomic(target, "report")
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "audit.json"
    target.write_text("old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


def test_a_kill_during_the_write_never_leaves_a_half_written_report(tmp_path):
    target = tmp_path / "audit.json"
    target.write_text(json.dumps({"complete": True}))
    writer = textwrap.dedent(f"""
        import os, sys, time
        from pytest_mlaudit.report import write_atomic

        def slow_fsync(fd):
            print("writing", flush=True)
            time.sleep(60)

        os.fsync = slow_fsync
        write_atomic({str(target)!r}, '{{"complete": true, "new": "' + 'x' * 5_000_000 + '"}}')
    """)
    process = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert json.loads(target.read_text()) == {"complete": True}


def test_a_run_stopped_by_a_failing_audit_is_written_as_incomplete_naming_the_tests_not_run(audit_project):
    audit_project.makepyfile("""
        import pytest_mlaudit as mla

        def test_first(mlaudit, model, data):
            X, y = data
            mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.3), clip=(0.0, 1.0), at_least=0.99)

        def test_second(mlaudit, model, data):
            X, y = data
            mlaudit.robustness(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    """)
    result = audit_project.runpytest("-x", "--mlaudit-json=out.json", "--mlaudit-report=out.html")
    result.assert_outcomes(failed=1)
    document = json.loads((audit_project.path / "out.json").read_text())
    assert [a["outcome"] for a in document["audits"]] == ["failed"]
    assert document["summary"]["verdict"] == "INCOMPLETE"
    assert document["run"]["not_run"] == [
        "test_a_run_stopped_by_a_failing_audit_is_written_as_incomplete_naming_the_tests_not_run.py::test_second"]
    assert document["summary"]["gates_failed"] == 1
    assert (audit_project.path / "out.html").stat().st_size > 0
