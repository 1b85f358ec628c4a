"""``python -m pytest_mlaudit scan``: the audits that fit a model, run from two loader functions,
ending in a report and in a pytest file the team keeps.

The loaders are named ``package.module:function``; the scan imports and calls them (it
unpickles nothing itself). The model loader returns a fitted classifier (a torch module,
or anything with ``predict``); the data loader returns ``(X, y)``, the test split, or a
dict with ``"test": (X, y)`` and optionally ``"train": (X, y)`` (for membership
inference) and ``"sensitive"`` (a table of sensitive attributes, row for row with the
test split).

Each audit of the battery is written once, as the source of a call to a public assertion
(``mla.assert_robust_accuracy(model, X, y, attack=..., clip=CLIP, at_least={threshold})``).
The scan evaluates the call's measuring twin (``mla.robustness(...)``, same arguments), and
writes the assertion into the generated file with the threshold taken from the measured
interval: its pessimistic end minus ``margin`` (at_least), or plus it (at_most), with a
comment giving the measured value and the rule. The file therefore passes on the model
that was scanned and fails on one whose metric falls below the interval by more than
the margin.
"""

from __future__ import annotations

import importlib
import math
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import validation
from ..records import Estimate
from ..session import AuditSession, Settings, TestAudit, close_test, open_test

KINDS = ("auto", "image", "tabular")


class ScanError(ValueError):
    """A scan that cannot run: a bad loader, a loader returning the wrong thing, data outside any domain."""


@dataclass(frozen=True)
class Step:
    """One audit of the battery: an assertion's source, its measuring twin and the estimate it gates."""

    test_name: str
    title: str
    assertion: str  # e.g. "assert_robust_accuracy"
    twin: str  # e.g. "robustness"
    arguments: str  # the call's arguments but the threshold, as source
    threshold_keyword: str  # "at_least", "at_most", "gap_at_most"
    estimate: Callable[[Any], Any]  # result -> Estimate or tuple of Estimates
    fixtures: tuple[str, ...] = ("model", "X", "y")


@dataclass(frozen=True)
class Measured:
    step: Step
    estimates: tuple[Estimate, ...]
    thresholds: tuple[float, ...]


def load_callable(spec: str, option: str) -> Callable:
    """``package.module:function`` imported; a ScanError naming the option on any problem."""
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ScanError(f"{option} must be 'package.module:function', got {spec!r}")
    module_name, attribute = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ScanError(f"{option} {spec}: cannot import {module_name}: {type(exc).__name__}: {exc}") from exc
    function = getattr(module, attribute, None)
    if function is None:
        raise ScanError(f"{option} {spec}: module {module_name} has no attribute {attribute!r}")
    if not callable(function):
        raise ScanError(f"{option} {spec}: {attribute} is a {type(function).__name__}, not a function")
    return function


def call_loader(function: Callable, spec: str, option: str) -> Any:
    try:
        return function()
    except Exception as exc:
        raise ScanError(f"{option} {spec}: calling it failed: {type(exc).__name__}: {exc}") from exc


def check_model(model: Any, spec: str) -> None:
    if _is_torch(model) or callable(getattr(model, "predict", None)):
        return
    raise ScanError(f"--model {spec} returned a {type(model).__name__}: it must return a fitted classifier "
                    f"(a torch.nn.Module, or an object with predict)")


def split_data(data: Any, spec: str) -> dict[str, Any]:
    """The loader's return as {"test": (X, y), "train": (X, y) or None, "sensitive": table or None}."""
    if isinstance(data, tuple) and len(data) == 2:
        data = {"test": data}
    if not isinstance(data, dict) or "test" not in data:
        raise ScanError(f"--data {spec} returned a {type(data).__name__}: it must return (X, y) or a dict with "
                        f"'test': (X, y) and optionally 'train': (X, y) and 'sensitive'")
    unknown = sorted(set(data) - {"test", "train", "sensitive"})
    if unknown:
        raise ScanError(f"--data {spec}: unknown keys {unknown}; allowed: test, train, sensitive")
    for key in ("test", "train"):
        if key in data and not (isinstance(data[key], tuple) and len(data[key]) == 2):
            raise ScanError(f"--data {spec}: data[{key!r}] must be a pair (X, y), got {type(data[key]).__name__}")
    X, y = data["test"]
    try:
        X = validation.features(validation.from_torch(X), "X (test)") if not hasattr(X, "iloc") else X
        y = validation.labels(validation.from_torch(y), len(X), "y (test)", "X (test)")
    except (TypeError, ValueError) as exc:
        raise ScanError(f"--data {spec}: {exc}") from exc
    return {"test": (X, y), "train": data.get("train"), "sensitive": data.get("sensitive")}


def choose_kind(kind: str, model: Any, X: Any) -> str:
    if kind not in KINDS:
        raise ScanError(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind != "auto":
        return kind
    return "image" if _is_torch(model) and np.ndim(X) >= 3 else "tabular"


def battery(model: Any, data: dict[str, Any], kind: str, sensitive: list[str]) -> tuple[list[Step], dict[str, str]]:
    """The steps that fit the model and data, and the names the steps' sources use (name -> source)."""
    X, y = data["test"]
    torch_model = _is_torch(model)
    names = {"CLIP": "(0.0, 1.0)" if kind == "image" else "mla.feature_range(X)"}
    if kind == "image":
        low, high = float(np.min(X)), float(np.max(X))
        if low < 0.0 or high > 1.0:
            raise ScanError(f"image data must be pixels in [0, 1] (normalization belongs inside the model), but X "
                            f"ranges over [{low:.4g}, {high:.4g}]")
    steps: list[Step] = []
    if torch_model:
        eps = [0.02, 0.05, 0.1] if kind == "image" else [0.05, 0.1, 0.2]
        middle = eps[1]
        steps += [
            Step("test_accuracy_under_random_noise", "the noise baseline", "assert_robust_accuracy", "robustness",
                 f"model, X, y, attack=mla.RandomNoise(eps={middle}), clip=CLIP", "at_least",
                 lambda r: r.robust_accuracy),
            Step("test_fgsm_robustness_curve", "robust accuracy under FGSM at each eps", "assert_robustness_curve",
                 "robustness_curve", f"model, X, y, attack=mla.FGSM(eps={eps[0]}), eps={eps}, clip=CLIP",
                 "at_least", lambda r: tuple(r.robust_accuracy)),
            Step("test_pgd_robust_accuracy", "robust accuracy under PGD", "assert_robust_accuracy", "robustness",
                 f"model, X, y, attack=mla.PGD(eps={middle}, steps=10), clip=CLIP", "at_least",
                 lambda r: r.robust_accuracy),
        ]
    classes = np.unique(np.asarray(y))
    if not torch_model and len(classes) == 2:
        # with imbalanced classes accuracy cannot tell a model from a constant one; these can
        steps += [
            Step("test_balanced_accuracy", "balanced accuracy", "assert_balanced_accuracy", "imbalance",
                 "model, X_test=X, y_test=y, prefit=True", "at_least", lambda r: r.balanced_accuracy),
            Step("test_minority_recall", "minority-class recall", "assert_minority_recall", "imbalance",
                 "model, X_test=X, y_test=y, prefit=True", "at_least", lambda r: r.recall),
        ]
        gives_scores = any(callable(getattr(model, m, None)) for m in ("predict_proba", "decision_function"))
        counts = np.unique(np.asarray(y), return_counts=True)[1]
        if gives_scores and counts.min() >= 2:  # DeLong's interval needs two samples of each class
            steps.append(Step("test_roc_auc", "ROC AUC of the positive class's scores", "assert_roc_auc", "imbalance",
                              "model, X_test=X, y_test=y, prefit=True", "at_least", lambda r: r.roc_auc))
    box = 0.1 if kind == "image" else 0.05
    space = f"mla.spaces.box({box})" if kind == "image" else \
        f"mla.spaces.box({box} * (CLIP[1] - CLIP[0]))"
    steps.append(Step("test_no_counterexample_in_a_small_box", "counterexample search in an L-inf box",
                      "assert_no_counterexample", "search_counterexamples",
                      f"model, X, y, space={space}, domain=CLIP, samples={10 if kind == 'image' else 20}, max_examples=20", "at_most",
                      lambda r: r.counterexample_rate))
    slicing = 'slice_by={"true class": y}' if kind == "image" else "min_size=30"
    steps.append(Step("test_no_weak_subgroup", "weak-subgroup search (accuracy, Benjamini-Hochberg)",
                      "assert_no_weak_subgroup", "weak_subgroups", f"model, X, y, {slicing}, fdr=0.05",
                      "gap_at_most", lambda r: r.worst_gap))
    if sensitive:
        names["SENSITIVE"] = _sensitive_source(data, sensitive)
        steps.append(Step("test_demographic_parity", "demographic parity difference", "assert_demographic_parity",
                          "fairness", "model, X, y, sensitive_features=SENSITIVE", "at_most",
                          lambda r: r.demographic_parity_difference))
    if data["train"] is not None:
        steps.append(Step("test_membership_advantage", "membership-inference advantage",
                          "assert_membership_advantage", "membership_inference",
                          "model, X_train, y_train, X, y", "at_most", lambda r: r.advantage,
                          ("model", "X", "y", "X_train", "y_train")))
    return steps, names


def _sensitive_source(data: dict[str, Any], columns: list[str]) -> str:
    X, _ = data["test"]
    table = data["sensitive"]
    for column in columns:
        in_table = table is not None and column in (table.columns if hasattr(table, "columns") else table)
        in_X = hasattr(X, "columns") and column in X.columns
        if not (in_table or in_X):
            raise ScanError(f"--sensitive {column}: no such column in X or in the data loader's 'sensitive' table")
    where = "SENSITIVE_TABLE" if table is not None and all(c in table for c in columns) else "X"
    return f"{where}[{list(columns)!r}]"


def threshold_for(estimate: Estimate, keyword: str, margin: float, bounds: tuple[float, float]) -> float:
    """The pessimistic end of the interval moved by ``margin`` (down for at_least, up for at_most), in bounds."""
    if keyword == "at_least":
        value = math.floor((estimate.low - margin) * 1000) / 1000
        return max(bounds[0], value)
    value = math.ceil((estimate.high + margin) * 1000) / 1000
    return min(bounds[1], value)


def run_scan(model_spec: str, data_spec: str, *, kind: str = "auto", sensitive: list[str] | None = None,
             out: Path, report: Path | None = None, json_report: Path | None = None, margin: float = 0.02,
             seed: int = 0, echo: Callable[[str], None] = print) -> list[Measured]:
    """Run the battery, write the report(s) and the pytest file; returns what was measured."""
    import pytest_mlaudit as mla

    from ..report import write_reports

    margin = validation.positive_number(margin, "--margin")
    model = call_loader(load_callable(model_spec, "--model"), model_spec, "--model")
    check_model(model, model_spec)
    data = split_data(call_loader(load_callable(data_spec, "--data"), data_spec, "--data"), data_spec)
    X, y = data["test"]
    kind = choose_kind(kind, model, X)
    steps, names = battery(model, data, kind, list(sensitive or []))
    echo(f"scan: {type(model).__name__} on {len(X)} test samples ({kind}); {len(steps)} audits")
    namespace = {"mla": mla, "model": model, "X": X, "y": y, "np": np,
                 "SENSITIVE_TABLE": data["sensitive"]}
    if data["train"] is not None:
        namespace["X_train"], namespace["y_train"] = data["train"]
    namespace["CLIP"] = eval(names["CLIP"], namespace)  # noqa: S307  our own source, written above
    if "SENSITIVE" in names:
        namespace["SENSITIVE"] = eval(names["SENSITIVE"], namespace)  # noqa: S307
    settings = Settings(seed=seed, report_path=report, json_path=json_report)
    session = AuditSession(settings=settings)
    measured = []
    for number, step in enumerate(steps, start=1):
        echo(f"scan: [{number}/{len(steps)}] {step.title} ...")
        started = time.perf_counter()
        test = TestAudit(nodeid=f"scan::{step.test_name}", settings=settings)
        token = open_test(test)
        try:
            result = eval(f"mla.{step.twin}({step.arguments})", namespace)  # noqa: S307
        except Exception as exc:  # noqa: BLE001  one failing audit is reported, the others still run
            echo(f"scan:        failed: {type(exc).__name__}: {exc}")
            continue
        finally:
            close_test(token)
            session.add_records(test.records, "passed")
        found = step.estimate(result)
        estimates = found if isinstance(found, tuple) else (found,)
        bounds = (-1.0, 1.0) if step.assertion == "assert_membership_advantage" else (0.0, 1.0)
        keyword = "at_most" if step.threshold_keyword == "gap_at_most" else step.threshold_keyword
        thresholds = tuple(threshold_for(e, keyword, margin, bounds) for e in estimates)
        measured.append(Measured(step, estimates, thresholds))
        echo("scan:        " + "; ".join(f"{e.value:.4f} [{e.low:.4f}, {e.high:.4f}]" for e in estimates)
             + f" ({time.perf_counter() - started:.1f} s)")
    if report is not None or json_report is not None:
        written, failures = write_reports(session)
        for kind_written, path in written.items():
            echo(f"scan: {kind_written} report: {path}")
        for failure in failures:
            echo(f"scan: {failure}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(generated_source(model_spec, data_spec, kind, sensitive or [], names, measured, margin,
                             data["train"] is not None), encoding="utf-8")
    echo(f"scan: wrote {out} ({len(measured)} gated tests)")
    return measured


def generated_source(model_spec: str, data_spec: str, kind: str, sensitive: list[str], names: dict[str, str],
              measured: list[Measured], margin: float, with_train: bool) -> str:
    """The source of the generated pytest file."""
    model_module, model_function = model_spec.split(":")
    data_module, data_function = data_spec.split(":")
    command = f"python -m pytest_mlaudit scan --model {model_spec} --data {data_spec} --kind {kind}" + \
        "".join(f" --sensitive {c}" for c in sensitive)
    lines = [
        f'"""Audits written by `{command}` on {date.today().isoformat()}.',
        "",
        "Each threshold was set from what the scan measured: the pessimistic end of the 95% interval",
        f"moved by a margin of {margin:g} (down for at_least, up for at_most). The file passes on the",
        "scanned model and fails when a metric falls past its interval by more than the margin.",
        "It is yours now: edit the thresholds into requirements.",
        '"""',
        "",
        "import pytest",
        "",
        "import pytest_mlaudit as mla",
        f"from {model_module} import {model_function}",
    ]
    if data_module == model_module:
        lines[-1] = f"from {model_module} import {', '.join(sorted({model_function, data_function}))}"
    else:
        lines.append(f"from {data_module} import {data_function}")
    lines += [
        "",
        "",
        '@pytest.fixture(scope="module")',
        "def model():",
        f"    return {model_function}()",
        "",
        "",
        '@pytest.fixture(scope="module")',
        "def data():",
        f"    loaded = {data_function}()",
        '    return loaded if isinstance(loaded, dict) else {"test": loaded}',
        "",
        "",
        '@pytest.fixture(scope="module")',
        "def X(data):",
        '    return data["test"][0]',
        "",
        "",
        '@pytest.fixture(scope="module")',
        "def y(data):",
        '    return data["test"][1]',
        "",
    ]
    if with_train:
        lines += ["", '@pytest.fixture(scope="module")', "def X_train(data):", '    return data["train"][0]', "",
                  "", '@pytest.fixture(scope="module")', "def y_train(data):", '    return data["train"][1]', ""]
    for item in measured:
        step = item.step
        fixtures = ["mlaudit", *step.fixtures]
        if "SENSITIVE" in step.arguments:
            fixtures.append("data")
        lines += ["", f"def {step.test_name}({', '.join(fixtures)}):", f'    """{step.title[0].upper()}{step.title[1:]}."""']
        if "CLIP" in step.arguments:
            lines.append(f"    CLIP = {names['CLIP']}")
        if "SENSITIVE" in step.arguments:
            source = names["SENSITIVE"].replace("SENSITIVE_TABLE", 'data["sensitive"]')
            lines.append(f"    SENSITIVE = {source}")
        keyword = step.threshold_keyword
        rule = "low - margin" if keyword == "at_least" else "high + margin"
        if len(item.thresholds) == 1:
            e = item.estimates[0]
            lines.append(f"    # measured {e.value:.4f}, {e.confidence:.0%} CI [{e.low:.4f}, {e.high:.4f}] (n={e.n}); "
                         f"threshold = {rule} = {e.low if keyword == 'at_least' else e.high:.4f} "
                         f"{'-' if keyword == 'at_least' else '+'} {margin:g}")
            threshold = f"{item.thresholds[0]:g}"
        else:
            lines.append(f"    # threshold per point = {rule} ({margin:g})")
            for e, t in zip(item.estimates, item.thresholds):
                lines.append(f"    #   measured {e.value:.4f}, CI [{e.low:.4f}, {e.high:.4f}] -> {t:g}")
            threshold = "[" + ", ".join(f"{t:g}" for t in item.thresholds) + "]"
        lines.append(f"    mlaudit.{step.assertion}({step.arguments}, {keyword}={threshold})")
        lines.append("")
    return "\n".join(lines)


def _is_torch(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def main(args: Any) -> int:
    """The ``scan`` subcommand: 0 when the scan ran (the gates are in the written file), 2 on a ScanError."""
    try:
        run_scan(args.model, args.data, kind=args.kind, sensitive=args.sensitive, out=args.out, report=args.report,
                 json_report=args.json, margin=args.margin, seed=args.seed)
    except ScanError as exc:
        print(f"python -m pytest_mlaudit scan: error: {exc}", file=sys.stderr)
        return 2
    return 0
