"""Determinism and xdist: the audits' JSON is a function of the code, the data and --mlaudit-seed.

Selected audit files of the main job run in subprocesses (with the suite's weight
cache): serially at seed 0, under ``-n 2`` at seed 0, and serially at seed 1. The
``-n 2`` run is the second run at seed 0: other processes, another test order, the
same numbers bit for bit. Seed 1 runs the files whose models and data do not depend
on the seed (the fraud pipelines, the Iris models), so what it must change (bootstrap
intervals, DP trainings, resampling seeds) and must not (point estimates and confusion
counts of deterministic models) can both be checked. ``test_every_sampler_side_by_side``
is left out for time (eight resampler fits, several seconds).

A spy plugin (``-p mlaudit_spy``) loaded in every process logs each report write, so
the tests see that the report is written once, by the controller, never by a worker.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from extras import available, needs


# the runs audit the studies (audits/), which need the studies extra
pytestmark = [pytest.mark.slow, needs("torch", "imblearn", "fairlearn", "xgboost")]

ROOT = Path(__file__).resolve().parent.parent
BIAS, PRIVACY = "audits/test_paper_bias.py", "audits/test_paper_privacy.py"
SEED_FREE_FILES = [BIAS, PRIVACY]
FILES = [*SEED_FREE_FILES, "audits/test_fairness.py", "audits/test_fraudnet_security.py"]
LEFT_OUT = ["--deselect", f"{BIAS}::test_every_sampler_side_by_side"]

SPY = textwrap.dedent('''
    """Logs every report write with the process that made it (the controller, or an xdist worker id)."""
    import os

    import pytest_mlaudit.report as report


    def pytest_configure(config):
        log, who = os.environ["MLAUDIT_SPY_LOG"], getattr(config, "workerinput", {}).get("workerid", "controller")
        with open(log, "a") as stream:
            stream.write(f"configure {who}\\n")
        write = report.write_atomic

        def logged_write(path, text):
            with open(log, "a") as stream:
                stream.write(f"write {who} {os.path.basename(path)}\\n")
            write(path, text)

        report.write_atomic = logged_write
''')


def run_audits(directory: Path, name: str, files: list[str], *options: str) -> tuple[dict, list[str]]:
    """The JSON document of one run of ``files`` and the spy's log of it."""
    directory.mkdir()
    (directory / "mlaudit_spy.py").write_text(SPY)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(directory), env.get("PYTHONPATH", "")])
    env["MLAUDIT_SPY_LOG"] = str(directory / "spy.log")
    done = subprocess.run([sys.executable, "-m", "pytest", *files, *LEFT_OUT, "-q", "-p", "no:cacheprovider",
                           "-p", "mlaudit_spy", f"--mlaudit-json={directory / name}", *options],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return json.loads((directory / name).read_text()), (directory / "spy.log").read_text().splitlines()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("determinism")
    return {
        "serial": run_audits(directory / "serial", "serial.json", FILES, "--mlaudit-seed=0"),
        "xdist": run_audits(directory / "xdist", "xdist.json", FILES, "--mlaudit-seed=0", "-n", "2"),
        "seed 1": run_audits(directory / "seed1", "seed1.json", SEED_FREE_FILES, "--mlaudit-seed=1"),
    }


def without_timings(audits: list[dict]) -> list[dict]:
    return [{key: value for key, value in audit.items() if key != "duration_s"} for audit in audits]


def by_nodeid(document: dict, path: str) -> dict[str, dict]:
    return {audit["nodeid"]: audit for audit in document["audits"] if audit["nodeid"].startswith(path)}


def test_the_same_seed_gives_the_same_audits_bit_for_bit_serially_and_under_xdist(runs):
    serial, xdist = runs["serial"][0], runs["xdist"][0]
    # without diffprivlib (no privacy extra) the privacy study's 9 audits skip
    privacy = available("diffprivlib")
    assert len(serial["audits"]) == (29 if privacy else 20)
    assert {audit["category"] for audit in serial["audits"]} == {"robustness", "imbalance", "fairness",
                                                                  *(["privacy"] if privacy else [])}
    assert [audit["nodeid"] for audit in xdist["audits"]] == [audit["nodeid"] for audit in serial["audits"]]
    assert without_timings(xdist["audits"]) == without_timings(serial["audits"])
    assert (xdist["summary"], xdist["requirements"]) == (serial["summary"], serial["requirements"])


def test_under_xdist_the_report_is_written_once_by_the_controller(runs):
    _, log = runs["xdist"]
    assert sorted(line for line in log if line.startswith("configure")) == [
        "configure controller", "configure gw0", "configure gw1"]
    assert [line for line in log if line.startswith("write")] == ["write controller xdist.json"]


def test_a_serial_run_writes_its_report_once(runs):
    _, log = runs["serial"]
    assert log == ["configure controller", "write controller serial.json"]


def test_another_seed_keeps_the_numbers_of_deterministic_models(runs):
    """The prefitted fraud pipelines (fixed data, XGBoost random_state=42): same predictions, same counts."""
    seed0, seed1 = by_nodeid(runs["serial"][0], f"{BIAS}::test_fraud_"), by_nodeid(runs["seed 1"][0], f"{BIAS}::test_fraud_")
    assert len(seed0) == 6 and seed1.keys() == seed0.keys()
    for nodeid, audit in seed0.items():
        other = seed1[nodeid]
        assert other["model"] == audit["model"] and other["data"] == audit["data"]
        assert other["extras"]["confusion_matrix"] == audit["extras"]["confusion_matrix"]
        assert {name: metric["value"] for name, metric in other["metrics"].items()} == {
            name: metric["value"] for name, metric in audit["metrics"].items()}
        assert other["metrics"]["test_positive_rate"] == audit["metrics"]["test_positive_rate"]  # Wilson: no draw


def test_another_seed_moves_the_bootstrap_intervals(runs):
    seed0, seed1 = by_nodeid(runs["serial"][0], f"{BIAS}::test_fraud_"), by_nodeid(runs["seed 1"][0], f"{BIAS}::test_fraud_")
    for nodeid, audit in seed0.items():
        before, after = audit["metrics"]["pr_auc"], seed1[nodeid]["metrics"]["pr_auc"]
        assert before["method"] == after["method"] and "bootstrap" in before["method"]
        assert (after["low"], after["high"]) != (before["low"], before["high"])


def test_the_papers_arms_record_the_seeds_their_samplers_were_built_with_under_any_run_seed(runs):
    """The study's samplers and XGBoost carry their own seeds: recorded as the user's, and used, whatever the run seed."""
    nodeid = f"{BIAS}::test_three_pipelines_side_by_side_with_the_papers_numbers[generated]"
    before, after = by_nodeid(runs["serial"][0], nodeid)[nodeid], by_nodeid(runs["seed 1"][0], nodeid)[nodeid]
    for arm in ("SMOTE", "undersampling"):
        seed_before, seed_after = (run["params"][f"{arm}/seeds"]["resampler"]["random_state"] for run in (before, after))
        assert seed_before == seed_after and seed_before["set_by"] == "user"
    assert before["params"]["original/seeds"] == {"model": {"xgb__random_state": {"seed": 42, "set_by": "user"}}}


@needs("diffprivlib")
def test_another_seed_draws_other_dp_trainings_and_keeps_the_non_private_baseline(runs):
    nodeid = f"{PRIVACY}::test_privacy_utility_curve_falls_at_small_epsilon"
    before, after = by_nodeid(runs["serial"][0], nodeid)[nodeid], by_nodeid(runs["seed 1"][0], nodeid)[nodeid]
    assert after["metrics"]["baseline_accuracy"] == before["metrics"]["baseline_accuracy"]
    assert set(after["params"]["seed_values"]).isdisjoint(before["params"]["seed_values"])
    noisy = [name for name in before["metrics"] if name.startswith("accuracy_mean@")]
    assert any(after["metrics"][name]["value"] != before["metrics"][name]["value"] for name in noisy)


def test_another_seed_leaves_fgsm_on_a_fixed_model_alone_and_moves_pgd_random_starts(audit_project):
    audit_project.makepyfile("""
        import pytest_mlaudit as mla

        def test_attacks(mlaudit, model, data):
            X, y = data
            mlaudit.robustness(model, X, y, attack=mla.FGSM(eps=0.15), clip=(0.0, 1.0), sanity_samples=0)
            mlaudit.robustness(model, X, y, attack=mla.PGD(eps=0.15, steps=3, random_start=True), clip=(0.0, 1.0),
                               sanity_samples=0)
    """)
    documents = []
    for seed in (0, 1):
        audit_project.runpytest(f"--mlaudit-seed={seed}", f"--mlaudit-json=seed{seed}.json").assert_outcomes(passed=1)
        documents.append(json.loads((audit_project.path / f"seed{seed}.json").read_text())["audits"])
    (fgsm0, pgd0), (fgsm1, pgd1) = documents
    assert fgsm1["params"]["seed"] != fgsm0["params"]["seed"] and pgd1["params"]["seed"] != pgd0["params"]["seed"]
    assert fgsm1["metrics"] == fgsm0["metrics"]  # FGSM draws nothing from its seed
    assert pgd1["metrics"]["clean_accuracy"] == pgd0["metrics"]["clean_accuracy"]
