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
line saying it is done (instead of its last step, never after it).

Each piece of work keeps one line: its label (the text before the first ``": "``,
with long parenthesized details dropped, so ``training paper CNN (scikit-learn
load_digits (UCI optical digits, 8x8)), FGSM: epoch 3/10`` shows as ``training paper
CNN, FGSM: epoch 3/10``; a short one such as ``(eps=0.1, Linf)`` stays). On a terminal
the line is rewritten in place; in a log (no TTY) a label prints at most once per
:data:`LOG_EVERY_S`, and always its last step (``10/10``, ``done``). Imports nothing
heavy (the plugin loads it in every run).
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

Writer = Callable[[str], None]

EVERY_S = 2.0
LOG_EVERY_S = 10.0
PREFIX = "mlaudit: "
_PARENTHESIZED = re.compile(r"\s*\((?:[^()]|\([^()]*\))*\)")
LONG_DETAIL = 24  # characters: a parenthesized detail this long (a data set's description) is dropped
_LAST_STEP = re.compile(r"\b(\d+)/\1\b|: done\b")

_writer: Writer | None = None
_clock = time.perf_counter


def terminal_writer(config: Any) -> Writer | None:
    """Write lines on pytest's terminal, past output capture; None under ``-q`` or on an xdist worker."""
    if hasattr(config, "workerinput") or config.option.verbose < 0:
        return None
    manager = config.pluginmanager
    lines = _Lines()

    def write(message: str) -> None:
        terminal = manager.get_plugin("terminalreporter")
        if terminal is None:
            return
        capture = manager.get_plugin("capturemanager")
        if capture is None:
            lines.show(terminal, message)
            return
        with capture.global_and_fixture_disabled():
            lines.show(terminal, message)

    return write


def short(message: str) -> tuple[str, str]:
    """``(label, message)`` with the label's long parenthesized details dropped; the label is the text before ``": "``."""
    label, separator, rest = message.partition(": ")
    label = _PARENTHESIZED.sub(lambda m: "" if len(m.group(0).strip()) >= LONG_DETAIL or m.group(0).count("(") > 1
                               else m.group(0), label)
    return label, label + separator + rest


class _Lines:
    """One line per label on pytest's terminal: rewritten in place on a TTY, throttled in a log."""

    def __init__(self) -> None:
        self.label: str | None = None  # the label of the line left open on the TTY
        self.width = -1  # the terminal's line width just after it was written
        self.printed: dict[str, float] = {}  # label -> when a log last printed it

    def show(self, terminal: Any, message: str) -> None:
        label, text = short(message)
        if getattr(terminal, "isatty", False):
            self._rewrite(terminal, label, PREFIX + text)
            return
        now = _clock()
        if now - self.printed.get(label, -LOG_EVERY_S) < LOG_EVERY_S and not _LAST_STEP.search(text):
            return
        self.printed[label] = now
        terminal.write_line(PREFIX + text)

    def _rewrite(self, terminal: Any, label: str, line: str) -> None:
        writer = terminal._tw
        still_ours = (label == self.label and terminal.currentfspath == -2
                      and writer.width_of_current_line == self.width)
        if not still_ours:
            terminal.ensure_newline()
        terminal.rewrite(line[:max(writer.fullwidth - 1, 20)], erase=True)
        # -2 (pytest's own marker for "a line was written"): the next result or line starts on a new line
        terminal.currentfspath = -2
        self.label, self.width = label, writer.width_of_current_line


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
        if self.done >= self.total:
            return  # the closing line says it
        report(f"{self.label} {self.done}/{self.total}{', ' + detail if detail else ''}, {now - self.start:.0f} s")

    def __enter__(self) -> Task:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        """A closing line when progress was shown and the work finished."""
        if self.reported and kind is None:
            report(f"{self.label} {self.done}/{self.total}: done in {_clock() - self.start:.0f} s")
