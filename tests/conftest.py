"""Shared fixtures of the plugin's own tests: a tiny torch classifier and its data.

The classifier labels its own inputs (clean accuracy 1.0 by construction), so the
robustness numbers in the tests are exact and depend only on the attack.
"""

import os
import textwrap

import numpy  # noqa: F401  loaded once here: pytester's in-process runs cannot re-import extension modules
import pytest

from pytest_mlaudit.dependencies import LIBRARIES, MissingExtraError, available

if available("torch"):
    import torch  # noqa: F401  (the core-only install has no torch: its tests skip)


def pytest_configure(config):
    """``MLAUDIT_HYPOTHESIS_PROFILE=mutation``: few examples, no deadline, fixed seed, for the mutation run.

    The mutation run (docs/testing.md) reruns the property tests once per mutant under
    mutmut's trampolines, on shared cores: a deadline would fail slow calls, not mutants.
    """
    if os.environ.get("MLAUDIT_HYPOTHESIS_PROFILE") == "mutation":
        from hypothesis import settings

        settings.register_profile("mutation", max_examples=25, deadline=None, derandomize=True, database=None)
        settings.load_profile("mutation")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that reaches an optional library the environment lacks skips, naming the extra.

    Only when the library really is not installed: with it installed, the error is a failure.
    """
    try:
        return (yield)
    except ImportError as exc:
        module = exc.module if isinstance(exc, MissingExtraError) else (exc.name or "").split(".")[0]
        if isinstance(exc, (MissingExtraError, ModuleNotFoundError)) and module in LIBRARIES and not available(module):
            library, extra = LIBRARIES[module]
            pytest.skip(f'needs {library}: pip install "pytest-mlaudit[{extra}]"')
        raise

TINY_MODEL_SOURCE = textwrap.dedent('''
    import numpy as np
    import torch


    def tiny_model():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


    def tiny_data(model, n=200):
        X = np.random.default_rng(0).uniform(0.0, 1.0, size=(n, 4)).astype(np.float32)
        with torch.no_grad():
            y = model(torch.from_numpy(X)).argmax(1).numpy()
        return X, y
''')


@pytest.fixture
def tiny_module(tmp_path_factory):
    """The tiny model's source imported as a module (the same code pytester projects use)."""
    import importlib.util

    path = tmp_path_factory.mktemp("tiny") / "self_labelled.py"
    path.write_text(TINY_MODEL_SOURCE)
    spec = importlib.util.spec_from_file_location("self_labelled", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny(tiny_module):
    model = tiny_module.tiny_model()
    X, y = tiny_module.tiny_data(model)
    return model, X, y


@pytest.fixture
def audit_project(pytester):
    """A pytester project whose conftest offers the tiny model and its data as fixtures."""
    if not available("torch"):
        pytest.skip('the tiny model needs torch: pip install "pytest-mlaudit[robustness]"')
    pytester.makepyfile(self_labelled=TINY_MODEL_SOURCE)
    pytester.makeconftest('''
        import pytest
        from self_labelled import tiny_data, tiny_model

        @pytest.fixture
        def model():
            return tiny_model()

        @pytest.fixture
        def data(model):
            return tiny_data(model)
    ''')
    pytester.syspathinsert()
    return pytester
