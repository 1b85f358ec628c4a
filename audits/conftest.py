"""Shared fixtures of the audit files: the embedded data sets and the trained reference models.

Models are trained once per session (and cached across sessions by
``reference_models.cache``), with seeds derived from ``--mlaudit-seed``.
"""

import pytest


@pytest.fixture(scope="session")
def digits():
    from reference_models.datasets import load_digits_images

    return load_digits_images()


@pytest.fixture(scope="session")
def digits_cnn(digits, pytestconfig):
    from pytest_mlaudit.plugin import SESSION_KEY
    from reference_models.paper_cnn import TrainingConfig, trained_digits_cnn

    seed = pytestconfig.stash[SESSION_KEY].settings.seed
    return trained_digits_cnn(digits, TrainingConfig(seed=seed))
