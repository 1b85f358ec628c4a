"""Missing extras: every audit family raises MissingExtraError naming the library and the
pip install that brings it, when the audit is called, never when the plugin loads.

A library is made missing by putting None in sys.modules (``import`` then raises
ModuleNotFoundError and ``find_spec`` finds nothing), so these tests run in every
environment; in the core-only environment the libraries are missing for real.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pytest_mlaudit as mla
from pytest_mlaudit.dependencies import MissingExtraError, available, require

X = np.zeros((4, 2))
Y = np.array([0, 1, 0, 1])


def hide(monkeypatch, *modules):
    """Make ``modules`` (and their loaded submodules) unimportable for the test."""
    for module in modules:
        for name in [name for name in sys.modules if name.startswith(f"{module}.")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, module, None)


def expect(monkeypatch, module, library, extra):
    hide(monkeypatch, module)
    return pytest.raises(MissingExtraError, match=rf"{library}.*pip install \"pytest-mlaudit\[{extra}\]\"")


def test_require_names_the_library_and_the_extra(monkeypatch):
    hide(monkeypatch, "fairlearn")
    with pytest.raises(MissingExtraError) as info:
        require("fairlearn", "fairness")
    assert str(info.value) == 'this audit needs fairlearn (import fairlearn), which is not installed: ' \
                              'pip install "pytest-mlaudit[fairness]"'
    assert isinstance(info.value, ImportError) and info.value.extra == "fairness"
    assert info.value.library == "fairlearn"
    assert mla.MissingExtraError is MissingExtraError
    require("numpy", "core")  # installed: no error


@pytest.mark.parametrize("call", [
    lambda: mla.robustness(object(), X, Y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0)),
    lambda: mla.assert_robust_accuracy(object(), X, Y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), at_least=0.5),
    lambda: mla.robustness_curve(object(), X, Y, attack=mla.FGSM(eps=0.1), eps=[0.1], clip=(0.0, 1.0)),
    lambda: mla.assert_robustness_curve(object(), X, Y, attack=mla.FGSM(eps=0.1), eps=[0.1], clip=(0.0, 1.0),
                                        at_least=0.5),
], ids=["robustness", "assert_robust_accuracy", "robustness_curve", "assert_robustness_curve"])
def test_robustness_audits_without_torch(monkeypatch, call):
    with expect(monkeypatch, "torch", "torch", "robustness"):
        call()


@pytest.mark.parametrize("attack", [lambda: mla.CarliniWagnerL2(implementation="art"), mla.DeepFool, mla.HopSkipJump, lambda: mla.Square(eps=0.1)],
                         ids=["CarliniWagnerL2", "DeepFool", "HopSkipJump", "Square"])
def test_art_attacks_without_art(monkeypatch, attack):
    with expect(monkeypatch, "art", "adversarial-robustness-toolbox", "robustness"):
        attack().generate(None, None, None, None)


def test_an_art_that_fails_to_import_is_a_clear_error(monkeypatch):
    from pytest_mlaudit.dependencies import load

    monkeypatch.setattr("pytest_mlaudit.dependencies.available", lambda module: True)
    monkeypatch.setattr("importlib.import_module", lambda name: (_ for _ in ()).throw(
        ImportError("cannot import name '_private' from 'sklearn.utils'")))
    with pytest.raises(ImportError, match=r"adversarial-robustness-toolbox .* is installed but fails to import with "
                                          r"scikit-learn .*cannot import name '_private'"):
        load("art", "robustness", "this ART-backed attack")


@pytest.mark.parametrize("call", [
    lambda: mla.imbalance(object(), X, Y, X, Y),
    lambda: mla.assert_minority_recall(object(), X, Y, X, Y, at_least=0.5),
    lambda: mla.assert_minority_precision(object(), X, Y, X, Y, at_least=0.5),
    lambda: mla.assert_balanced_accuracy(object(), X, Y, X, Y, at_least=0.5),
    lambda: mla.compare_resamplers(object(), X, Y, X, Y),
], ids=["imbalance", "assert_minority_recall", "assert_minority_precision", "assert_balanced_accuracy",
        "compare_resamplers"])
def test_imbalance_audits_without_imbalanced_learn(monkeypatch, call):
    with expect(monkeypatch, "imblearn", "imbalanced-learn", "imbalance"):
        call()


@pytest.mark.parametrize("call", [
    lambda: mla.fairness(object(), X, Y, sensitive_features=Y),
    lambda: mla.assert_demographic_parity(object(), X, Y, sensitive_features=Y, at_most=0.1),
    lambda: mla.assert_equalized_odds(object(), X, Y, sensitive_features=Y, at_most=0.1),
    lambda: mla.assert_disparate_impact(object(), X, Y, sensitive_features=Y),
    lambda: mla.compare_mitigation(object(), X, Y, X, Y, sensitive_features_train=Y, sensitive_features_test=Y),
], ids=["fairness", "assert_demographic_parity", "assert_equalized_odds", "assert_disparate_impact",
        "compare_mitigation"])
def test_fairness_audits_without_fairlearn(monkeypatch, call):
    with expect(monkeypatch, "fairlearn", "fairlearn", "fairness"):
        call()


def diffprivlib_factory(epsilon, seed):
    from diffprivlib.models import LogisticRegression

    return LogisticRegression(epsilon=epsilon, data_norm=2.0, random_state=seed)


@pytest.mark.parametrize("call", [
    lambda: mla.dp_utility(diffprivlib_factory, X, Y, X, Y, epsilons=[1.0], seeds=2),
    lambda: mla.assert_dp_accuracy_floor(diffprivlib_factory, X, Y, X, Y, epsilon=1.0, seeds=2, at_least=0.5),
], ids=["dp_utility", "assert_dp_accuracy_floor"])
def test_privacy_audits_of_a_diffprivlib_factory_without_diffprivlib(monkeypatch, call):
    with expect(monkeypatch, "diffprivlib", "diffprivlib", "privacy"):
        call()


def test_a_missing_library_imported_by_a_family_module_is_translated(monkeypatch):
    """The lazy public names turn a family module's failed import of an optional library into the extra's error."""
    import pytest_mlaudit

    monkeypatch.delitem(pytest_mlaudit.__dict__, "fairness", raising=False)
    monkeypatch.setitem(pytest_mlaudit._EXPORTS, "fairness", "_missing_extra_probe")
    monkeypatch.setitem(sys.modules, "pytest_mlaudit._missing_extra_probe", None)
    with pytest.raises(ModuleNotFoundError):  # our own module missing: not an extra, not translated
        pytest_mlaudit.fairness  # noqa: B018
    hide(monkeypatch, "fairlearn")
    from pytest_mlaudit.dependencies import translate

    error = translate(ModuleNotFoundError("No module named 'fairlearn'", name="fairlearn.metrics"))
    assert isinstance(error, MissingExtraError) and error.extra == "fairness"


BLOCKER = textwrap.dedent("""
    import importlib.abc, sys

    BLOCKED = {"torch", "art", "fairlearn", "imblearn", "diffprivlib", "xgboost", "pandas"}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
""")


def test_the_plugin_loads_and_a_fairness_audit_names_its_extra_without_any_optional_library(tmp_path):
    """As in a core-only install: pytest loads the plugin, and a fairness audit fails with the extra to install."""
    (tmp_path / "test_fair.py").write_text(textwrap.dedent("""
        import numpy as np
        import pytest_mlaudit as mla

        def test_fair(mlaudit):
            X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
            mlaudit.assert_demographic_parity(object(), X, y, sensitive_features=y, at_most=0.1)
    """))
    code = BLOCKER + "import pytest; raise SystemExit(pytest.main(['-p', 'no:cacheprovider', 'test_fair.py', " \
                     "'--mlaudit-json=out.json']))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'MissingExtraError: this audit needs fairlearn (import fairlearn), which is not installed: ' \
           'pip install "pytest-mlaudit[fairness]"' in result.stdout
    assert '"outcome": "error"' in (tmp_path / "out.json").read_text()


def test_available_does_not_import():
    assert available("numpy")
    assert not available("no_such_module_for_mlaudit")
