"""Progress of long work (training, attack sweeps, repeated DP fits) on pytest's terminal.

A person running pytest should see that a minute-long audit is moving; a ``-q`` run,
a CI log and an xdist worker (whose output reaches nobody) should not. The plugin
installs a writer at configure time (:func:`terminal_writer`, None under ``-q``, on a
worker or without a terminal) and gives back the one it replaced at unconfigure (an
outer run's, under pytester); outside pytest none is installed and everything here
is a no-op.

Long-running code reports through :class:`Task`::

    with Task("robustness curve under PGD: batch", total=len(batches)) as task:
        for batch in batches:
            ...
            task.advance()

Lines are throttled: the first after :data:`EVERY_S` seconds of work, then at most one
per :data:`EVERY_S`, so quick work prints nothing; work that printed ends with a
line saying it is done. Imports nothing heavy (the plugin loads it in every run).
"""

from __future__ import annotations

import time
from typing import Any, Callable

Writer = Callable[[str], None]

EVERY_S = 2.0
PREFIX = "mlaudit: "

_writer: Writer | None = None
_clock = time.perf_counter


def terminal_writer(config: Any) -> Writer | None:
    """Write lines on pytest's terminal, past output capture; None under ``-q`` or on an xdist worker."""
    if hasattr(config, "workerinput") or config.option.verbose < 0:
        return None
    manager = config.pluginmanager

    def write(message: str) -> None:
        terminal = manager.get_plugin("terminalreporter")
        if terminal is None:
            return
        capture = manager.get_plugin("capturemanager")
        if capture is None:
            terminal.write_line(PREFIX + message)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(PREFIX + message)

    return write


def install(writer: Writer | None) -> Writer | None:
    """Where :func:`report` writes from now on (None: nowhere); returns the writer it replaces."""
    global _writer
    previous, _writer = _writer, writer
    return previous


def active() -> bool:
    """Whether progress is shown (inside pytest, at default verbosity or more, not on an xdist worker)."""
    return _writer is not None


def report(message: str) -> None:
    """Show one line of progress, if a writer is installed."""
    if _writer is not None:
        _writer(message)


class Task:
    """``total`` steps of one piece of work, reported as ``label done/total, detail, N s`` (throttled).

    ``label`` names the work and its unit, e.g. ``"DP training, 5 epsilon x 20 seeds: model"``.
    """

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.start = self.last = _clock()
        self.reported = False

    def advance(self, steps: int = 1, detail: str = "") -> None:
        self.done += steps
        now = _clock()
        if _writer is None or now - self.last < EVERY_S:
            return
        self.last, self.reported = now, True
        report(f"{self.label} {self.done}/{self.total}{', ' + detail if detail else ''}, {now - self.start:.0f} s")

    def __enter__(self) -> Task:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        """A closing line when progress was shown and the work finished."""
        if self.reported and kind is None:
            report(f"{self.label} {self.done}/{self.total}: done in {_clock() - self.start:.0f} s")
