"""The report's charts: matplotlib figures inlined in the HTML as small SVG.

One function per kind of chart, each taking the JSON-native data an audit put in
``AuditRecord.extras`` (the shapes the builders of :mod:`pytest_mlaudit.extras`
write; fields those builders add later are optional here, so older JSON documents
still draw) and returning SVG markup:
:func:`curves` (robustness and privacy-utility curves with interval bands),
:func:`points` (trade-offs such as precision against recall per sampler),
:func:`bars` (per-group metrics with error bars) and :func:`confusion_matrix`.

Figures are drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot, so no
global backend or figure registry is touched) and written by matplotlib's SVG
backend with text kept as text (``svg.fonttype: none``) and a fixed hash salt, so
the same data gives the same bytes. :func:`inline_svg` then makes the markup fit
for several charts in one page: element ids prefixed with the chart's id (matplotlib
reuses the same ids in every file), unused ids, metadata and the XML prologue
dropped, coordinates rounded to 0.1 pt. matplotlib is imported only here, and only
when a chart is drawn.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

WIDTH_IN, HEIGHT_IN = 4.2, 2.7
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "pytest-mlaudit",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 7,
    "legend.frameon": False,
}
MARGINS_IN = {"left": 0.65, "right": 0.12, "bottom": 0.48, "top": 0.3}  # fixed: automatic layout doubles the time
MAX_LABEL = 60
# What the SVG writer would repeat in every file (and every text); the page's stylesheet says it once.
SVG_STYLE = "*{stroke-linejoin: round; stroke-linecap: butt}"
SVG_FONT = re.compile(r"(; )?font-family: 'DejaVu Sans', sans-serif(; )?")


def _styled(draw: Callable[[dict[str, Any], str], str]) -> Callable[[dict[str, Any], str], str]:
    """Draw and save under the report's matplotlib settings, leaving the caller's untouched."""

    @functools.wraps(draw)
    def styled(spec: dict[str, Any], chart_id: str) -> str:
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return draw(spec, chart_id)

    return styled


@dataclass(frozen=True)
class Chart:
    """One drawn chart (``svg``), or why the data could not be drawn (``error``)."""

    kind: str
    title: str
    svg: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chart:
        return cls(**{key: str(data.get(key) or "") for key in ("kind", "title", "svg", "error")})


X_SCALES = ("linear", "log")


@_styled
def curves(spec: dict[str, Any], chart_id: str) -> str:
    """Lines over x (e.g. accuracy over eps), each with its interval as a shaded band.

    ``x_scale`` (:class:`~pytest_mlaudit.extras.Curve`) is ``"linear"`` or ``"log"``
    (e.g. privacy budgets epsilon over decades); a document without it is linear.
    """
    x_scale = spec.get("x_scale") or "linear"
    if x_scale not in X_SCALES:
        raise ValueError(f"x_scale must be one of {', '.join(X_SCALES)}, got {x_scale!r}")
    if len({value for series in spec["series"] for value in _numbers(series["x"])}) == 1:
        return _single_x(spec, chart_id)
    if x_scale == "log" and any(value <= 0 for series in spec["series"] for value in _numbers(series["x"])):
        raise ValueError("a log x axis needs positive x values")
    figure, axes = _figure()
    if x_scale == "log":
        axes.set_xscale("log")
    for series in spec["series"]:
        x, y = _numbers(series["x"]), _numbers(series["y"])
        line, = axes.plot(x, y, marker="o", markersize=3, linewidth=1.2, label=_text(series.get("label", "")))
        if series.get("low") is not None and series.get("high") is not None:
            axes.fill_between(x, _numbers(series["low"]), _numbers(series["high"]), color=line.get_color(),
                              alpha=0.18, linewidth=0)
    _decorate(axes, spec, legend=len(spec["series"]) > 1 or bool(spec["series"][0].get("label")))
    return _svg(figure, chart_id)


BASELINE = re.compile(r"\bbaseline\b", re.IGNORECASE)
SCALE_NOTE = re.compile(r"\s*\((log|linear) scale\)", re.IGNORECASE)


def _single_x(spec: dict[str, Any], chart_id: str) -> str:
    """A curve measured at one x (one epsilon, one eps): each series a labelled point with its interval.

    A line over one x would be a dot on a meaningless axis (a log axis of one decade,
    ticks 9.6 to 10.4). The x value goes in the axis label instead; a series named
    as a baseline is a labelled horizontal line with its band, to compare against.
    """
    series = spec["series"]
    x_label = SCALE_NOTE.sub("", _text(spec.get("x_label", ""))) or "x"
    x_value = _numbers(series[0]["x"])[0]
    measured = [s for s in series if not BASELINE.search(str(s.get("label", "")))]
    baselines = [s for s in series if BASELINE.search(str(s.get("label", "")))]
    figure, axes = _figure()
    positions = list(range(len(measured)))
    extent: list[float] = []
    for position, entry in zip(positions, measured):
        y = _numbers(entry["y"])[0]
        low, high = _first(entry.get("low")), _first(entry.get("high"))
        axes.errorbar([position], [y], yerr=_error(y, low, high), fmt="o", markersize=5, capsize=4, linewidth=1.0)
        axes.annotate(f"{y:.3f}", (position, y), xytext=(7, 0), textcoords="offset points", fontsize=7, va="center")
        extent += [value for value in (y, low, high) if value is not None]
    for entry in baselines:
        y = _numbers(entry["y"])[0]
        low, high = _first(entry.get("low")), _first(entry.get("high"))
        axes.axhline(y, color="#555555", linestyle="--", linewidth=1.0,
                     label=f"{_text(entry.get('label', 'baseline'))}: {y:.3f}")
        if low is not None and high is not None:
            axes.axhspan(low, high, color="#555555", alpha=0.12, linewidth=0)
        extent += [value for value in (y, low, high) if value is not None]
    axes.set_xticks(positions, [_text(entry.get("label", "")) for entry in measured])
    axes.set_xlim(-0.6, len(measured) - 0.4)
    bottom, top = min(extent), max(extent)
    pad = 0.12 * (top - bottom or abs(top) or 1.0)
    if 0.0 <= bottom and top <= 1.0:  # a rate: the axis stays within its range
        axes.set_ylim(max(bottom - pad, -0.02), min(top + pad, 1.02))
    else:
        axes.set_ylim(bottom - pad, top + pad)
    _decorate(axes, {**spec, "x_label": f"at {x_label} = {x_value:g}"}, legend=bool(baselines))
    return _svg(figure, chart_id)


def _first(values: Any) -> float | None:
    if isinstance(values, list):
        return None if not values or values[0] is None else float(values[0])
    return None


@_styled
def points(spec: dict[str, Any], chart_id: str) -> str:
    """Labelled points in a plane (e.g. precision against recall, one per sampler).

    A point may carry ``x_low``/``x_high``/``y_low``/``y_high`` (absent or null: none):
    drawn as error bars.
    """
    figure, axes = _figure()
    entries = spec["points"]
    xs = [float(point["x"]) for point in entries]
    middle = (min(xs) + max(xs)) / 2 if xs else 0.0
    for point, x in zip(entries, xs):
        y = float(point["y"])
        xerr = _error(x, point.get("x_low"), point.get("x_high"))
        yerr = _error(y, point.get("y_low"), point.get("y_high"))
        axes.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt="o", markersize=4, capsize=2, linewidth=0.8)
        right_half = x > middle  # label toward the middle, so it stays inside the figure
        axes.annotate(_text(point.get("label", "")), (x, y), xytext=(-4 if right_half else 4, 3),
                      textcoords="offset points", fontsize=7, ha="right" if right_half else "left")
    axes.margins(0.15)
    _decorate(axes, spec, legend=False)
    return _svg(figure, chart_id)


@_styled
def bars(spec: dict[str, Any], chart_id: str) -> str:
    """One horizontal bar per group with its interval as an error bar (per-group fairness metrics).

    Horizontal, so that long group names ("group=A, age_band=40+") stay readable.
    """
    entries = spec["bars"]
    labels = [_text(bar.get("label", "")) for bar in entries]
    values = [float(bar["value"]) for bar in entries]
    # a bar without an interval (``low``/``high`` absent or null, as extras.Bar writes it) has no error bar
    lows = [value if bar.get("low") is None else float(bar["low"]) for bar, value in zip(entries, values)]
    highs = [value if bar.get("high") is None else float(bar["high"]) for bar, value in zip(entries, values)]
    errors = [[value - low for value, low in zip(values, lows)], [high - value for value, high in zip(values, highs)]]
    left = min(2.4, max(MARGINS_IN["left"], 0.3 + 0.068 * max((len(label) for label in labels), default=0)))
    figure, axes = _figure(width=WIDTH_IN + left - MARGINS_IN["left"], height=1.0 + 0.28 * len(values), left=left)
    positions = list(range(len(values)))
    axes.barh(positions, values, xerr=errors, capsize=3, color="#4e79a7", height=0.6, error_kw={"linewidth": 0.8})
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    _decorate(axes, {"x_label": spec.get("metric", ""), **spec}, legend=False)
    return _svg(figure, chart_id)


@_styled
def confusion_matrix(spec: dict[str, Any], chart_id: str) -> str:
    """Counts per (true, predicted) class; cells shaded by the share of their row."""
    matrix = [[int(count) for count in row] for row in spec["matrix"]]
    size = len(matrix)
    if size == 0 or any(len(row) != size for row in matrix):
        raise ValueError("confusion matrix must be square and non-empty")
    labels = [_text(label) for label in spec.get("labels", range(size))]
    shares = [[count / (sum(row) or 1) for count in row] for row in matrix]
    cell = min(0.6, 3.2 / size)
    figure, axes = _figure(width=0.95 + MARGINS_IN["right"] + cell * size, height=0.8 + cell * size, left=0.95)
    axes.pcolormesh(shares, cmap="Blues", vmin=0.0, vmax=1.0, edgecolors="white", linewidth=0.5)
    for row in range(size):
        for column in range(size):
            axes.text(column + 0.5, row + 0.5, str(matrix[row][column]), ha="center", va="center", fontsize=7,
                      color="white" if shares[row][column] > 0.6 else "black")
    axes.set_xticks([i + 0.5 for i in range(size)], labels)
    axes.set_yticks([i + 0.5 for i in range(size)], labels)
    axes.invert_yaxis()
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    _decorate(axes, {"x_label": "predicted", "y_label": "true", **spec}, legend=False)
    return _svg(figure, chart_id)


# extras key -> (function, whether the key holds a list of charts or a single one)
KINDS: dict[str, tuple[Callable[[dict[str, Any], str], str], bool]] = {
    "curves": (curves, True),
    "points": (points, True),
    "bars": (bars, True),
    "confusion_matrix": (confusion_matrix, False),
}


def charts_for(extras: dict[str, Any], prefix: str) -> list[Chart]:
    """Every chart an audit's extras ask for; malformed data gives a Chart with ``error``.

    A report must never fail because of one audit's chart data (older JSON, a partial
    record), so each chart is drawn on its own and a failure becomes a note.
    """
    charts: list[Chart] = []
    for kind, (draw, many) in KINDS.items():
        specs = extras.get(kind)
        if specs is None:
            continue
        for spec in (specs if many and isinstance(specs, list) else [specs]):
            chart_id = f"{prefix}-{len(charts)}"
            title = str(spec.get("title", "")) if isinstance(spec, dict) else ""
            try:
                if not isinstance(spec, dict):
                    raise TypeError(f"expected an object, got {type(spec).__name__}")
                charts.append(Chart(kind, title, svg=draw(spec, chart_id)))
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                charts.append(Chart(kind, title, error=f"{kind} data could not be drawn: {type(exc).__name__}: {exc}"))
    return charts


def drawn_where_recorded(extras: dict[str, Any], nodeid: str, index: int) -> list[dict[str, str]]:
    """The charts of one record, drawn in the process that made it (an xdist worker), as plain data.

    They travel on the test report beside the record, so the controller only
    assembles the page. Chart ids are prefixed from the record's identity (test id
    and position), unique in any report the record lands in.
    """
    prefix = "c" + hashlib.sha1(f"{nodeid}\0{index}".encode()).hexdigest()[:10]
    return [chart.to_dict() for chart in charts_for(extras, prefix)]


def _figure(width: float = WIDTH_IN, height: float = HEIGHT_IN, left: float = MARGINS_IN["left"]):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(left=left / width, right=1 - MARGINS_IN["right"] / width,
                           bottom=MARGINS_IN["bottom"] / height, top=1 - MARGINS_IN["top"] / height)
    return figure, figure.add_subplot()


def _decorate(axes, spec: dict[str, Any], legend: bool) -> None:
    axes.set_title(_text(spec.get("title", "")))
    axes.set_xlabel(_text(spec.get("x_label", "")))
    axes.set_ylabel(_text(spec.get("y_label", "")))
    if legend:
        axes.legend()


def _svg(figure, chart_id: str) -> str:
    stream = io.StringIO()
    figure.savefig(stream, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return inline_svg(stream.getvalue(), chart_id)


_ID = re.compile(r' id="([^"]*)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]*)')
_GEOMETRY = re.compile(r'\b(d|x|y|transform|points)="([^"]*)"')
_LONG_NUMBER = re.compile(r"-?\d+\.\d{2,}")


def inline_svg(svg: str, chart_id: str) -> str:
    """matplotlib's SVG file as markup to put inside an HTML page next to other charts."""
    svg = svg[svg.index("<svg"):]
    svg = svg.replace(f'<style type="text/css">{SVG_STYLE}</style>', "")
    referenced = {match.group(2) for match in _REFERENCE.finditer(svg)}
    svg = _ID.sub(lambda m: f' id="{chart_id}-{m.group(1)}"' if m.group(1) in referenced else "", svg)
    svg = _REFERENCE.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", svg)
    svg = _GEOMETRY.sub(lambda m: f'{m.group(1)}="{_LONG_NUMBER.sub(_round, m.group(2))}"', svg)
    svg = SVG_FONT.sub(lambda m: "; " if m.group(1) and m.group(2) else "", svg)
    svg = re.sub(r' transform="rotate\(-0 [^"]*\)"', "", svg)
    svg = re.sub(r">\s+<", "><", svg)
    svg = re.sub(r"\s*\n\s*", " ", svg)
    svg = svg.replace("<defs></defs>", "")
    return svg.replace("<svg ", f'<svg class="chart" id="{chart_id}" role="img" ', 1).strip()


def _round(match: re.Match) -> str:
    text = f"{float(match.group(0)):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _numbers(values) -> list[float]:
    if not isinstance(values, list):
        raise TypeError(f"expected a list of numbers, got {type(values).__name__}")
    return [float(value) for value in values]


def _error(value: float, low, high):
    if low is None or high is None:
        return None
    return [[value - float(low)], [float(high) - value]]


def _text(value: Any) -> str:
    """A user string as matplotlib text: never mathtext, never a hidden legend label, not too long."""
    text = str(value)
    text = text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"
    text = text.replace("$", r"\$")
    return " " + text if text.startswith("_") else text


@_styled
def changes(spec: dict[str, Any], chart_id: str) -> str:
    """Changes since the baseline with their intervals, one row per metric (a forest plot).

    ``spec``: ``{"title", "tolerance", "rows": [{"label", "value", "low", "high", "regressed"}]}``,
    changes oriented so that negative is worse. A line marks no change, a dashed one
    the tolerance; regressions are drawn in red.
    """
    rows = spec["rows"]
    if not rows:
        raise ValueError("no change to draw")
    labels = [_text(row.get("label", "")) for row in rows]
    left = min(4.3, max(MARGINS_IN["left"], 0.3 + 0.068 * max(len(label) for label in labels)))
    figure, axes = _figure(width=WIDTH_IN + left - MARGINS_IN["left"], height=1.0 + 0.26 * len(rows), left=left)
    for position, row in enumerate(rows):
        value, low, high = float(row["value"]), float(row["low"]), float(row["high"])
        axes.errorbar([value], [position], xerr=[[value - low], [high - value]], fmt="o", markersize=4, capsize=2,
                      linewidth=0.9, color="#b42318" if row.get("regressed") else "#4e79a7")
    axes.axvline(0.0, color="#5b6473", linewidth=0.8)
    tolerance = float(spec.get("tolerance") or 0.0)
    if tolerance:
        axes.axvline(-tolerance, color="#b54708", linewidth=0.8, linestyle="--")
    axes.set_yticks(list(range(len(rows))), labels)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    _decorate(axes, {"x_label": "change (negative is worse where a gate gives the direction)", **spec}, legend=False)
    return _svg(figure, chart_id)
