"""Progress of long audits: seen by a person running pytest, not in -q runs, not from xdist workers."""

import pytest

from pytest_mlaudit import progress

# The project's conftest shows every step (no throttling), so the tiny audits below report.
UNTHROTTLED = """
    @pytest.fixture(autouse=True)
    def unthrottled(monkeypatch):
        import pytest_mlaudit.progress

        monkeypatch.setattr(pytest_mlaudit.progress, "EVERY_S", 0.0)
        monkeypatch.setattr(pytest_mlaudit.progress, "LOG_EVERY_S", 0.0)
"""

FOUR_BATCHES = """
    import pytest_mlaudit as mla
    from pytest_mlaudit import progress

    def test_audit(mlaudit, model, data, pytestconfig):
        X, y = data
        assert progress.active() == (pytestconfig.option.verbose >= 0 and not hasattr(pytestconfig, "workerinput"))
        mlaudit.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), batch_size=50, sanity_samples=0)
"""

BATCH_LINE = "mlaudit: robustness under FGSM (eps=0.1, Linf), 200 samples: batch"


@pytest.fixture
def project(audit_project):
    audit_project.path.joinpath("conftest.py").write_text(
        audit_project.path.joinpath("conftest.py").read_text() + "\n" + UNTHROTTLED.replace("\n    ", "\n"))
    audit_project.makepyfile(FOUR_BATCHES)
    return audit_project


def test_a_long_audit_shows_its_progress_at_default_verbosity(project):
    result = project.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"{BATCH_LINE} 1/4, * s", f"{BATCH_LINE} 2/4, * s", f"{BATCH_LINE} 3/4, * s",
                                 f"{BATCH_LINE} 4/4: done in * s"])
    assert f"{BATCH_LINE} 4/4, " not in result.stdout.str()  # the last step is said once, by the closing line


def test_progress_is_silent_under_quiet(project):
    result = project.runpytest("-q")
    result.assert_outcomes(passed=1)
    assert "mlaudit: robustness" not in result.stdout.str()


@pytest.mark.slow
def test_progress_is_silent_on_xdist_workers(project):
    result = project.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=1)  # the test itself asserts that no writer is active on its worker
    assert "mlaudit: robustness" not in result.stdout.str()


def test_progress_lines_are_throttled_to_one_per_interval(monkeypatch):
    now = [0.0]
    lines = []
    monkeypatch.setattr(progress, "_clock", lambda: now[0])
    monkeypatch.setattr(progress, "_writer", lines.append)
    with progress.Task("DP training: model", 5) as task:
        for step in (0.5, 1.0, 2.5, 3.0, 4.6):
            now[0] = step
            task.advance(detail=f"at {step}")
    assert progress.EVERY_S == 2.0
    assert lines == ["DP training: model 3/5, at 2.5, 2 s", "DP training: model 5/5: done in 5 s"]


def test_quick_work_prints_nothing(monkeypatch):
    lines = []
    monkeypatch.setattr(progress, "_clock", lambda: 1.0)
    monkeypatch.setattr(progress, "_writer", lines.append)
    with progress.Task("resampler comparison: resampler", 3) as task:
        for _ in range(3):
            task.advance()
    assert lines == []


def test_outside_pytest_progress_goes_nowhere(monkeypatch, capsys):
    monkeypatch.setattr(progress, "_writer", None)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    assert not progress.active()
    with progress.Task("work", 2) as task:
        task.advance()
        task.advance()
    progress.report("a line")
    assert capsys.readouterr() == ("", "")


def test_an_inner_pytest_run_gives_back_the_outer_runs_progress_writer(pytester):
    outer = progress._writer
    pytester.makepyfile("def test_nothing():\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=1)
    assert progress._writer is outer


class FakeTerminal:
    """What the progress writer uses of pytest's terminal reporter, keeping what a screen would show."""

    def __init__(self, isatty: bool):
        self.isatty, self.currentfspath, self.screen = isatty, None, [""]
        self._tw = self

    @property
    def width_of_current_line(self) -> int:
        return len(self.screen[-1])

    fullwidth = 200

    def ensure_newline(self) -> None:
        if self.currentfspath:
            self.screen.append("")
            self.currentfspath = None

    def write_line(self, line: str) -> None:
        self.ensure_newline()
        self.screen[-1] += line
        self.screen.append("")

    def rewrite(self, line: str, erase: bool = False) -> None:
        self.screen[-1] = line

    def write_result(self, text: str) -> None:
        """pytest writing a test's result: a new line after anything else was written."""
        if self.currentfspath != "file.py":
            self.screen.append("file.py ")
            self.currentfspath = "file.py"
        self.screen[-1] += text


EPOCHS = [f"training paper CNN (scikit-learn load_digits (UCI optical digits, 8x8)), FGSM eps=0.1: epoch {epoch}/10"
          for epoch in range(1, 11)]


def test_a_training_keeps_one_line_with_a_short_label_on_a_terminal():
    terminal, lines = FakeTerminal(isatty=True), progress._Lines()
    for message in EPOCHS:
        lines.show(terminal, message)
    terminal.write_result(".")
    assert [line for line in terminal.screen if line] == [
        "mlaudit: training paper CNN, FGSM eps=0.1: epoch 10/10", "file.py ."]


def test_a_second_training_starts_its_own_line():
    terminal, lines = FakeTerminal(isatty=True), progress._Lines()
    lines.show(terminal, "training model A: epoch 1/2")
    lines.show(terminal, "training model A: epoch 2/2")
    terminal.write_result(".")
    lines.show(terminal, "training model B: epoch 1/1")
    assert [line for line in terminal.screen if line] == [
        "mlaudit: training model A: epoch 2/2", "file.py .", "mlaudit: training model B: epoch 1/1"]


def test_a_log_gets_a_training_throttled_and_its_last_epoch(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress, "_clock", lambda: now[0])
    terminal, lines = FakeTerminal(isatty=False), progress._Lines()
    for second, message in enumerate(EPOCHS):
        now[0] = 3.0 * second
        lines.show(terminal, message)
    assert progress.LOG_EVERY_S == 10.0
    assert [line.rsplit(" ", 1)[-1] for line in terminal.screen if line] == ["1/10", "5/10", "9/10", "10/10"]
