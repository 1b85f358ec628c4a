"""Shared fixtures of the audit files: the embedded data sets and the trained reference models.

Models are trained once per session (and cached across sessions by
``reference_models.cache``), with seeds derived from ``--mlaudit-seed``. Training
prints one line per epoch on pytest's terminal (not under ``-q``, not on xdist workers).
"""

import pytest


@pytest.fixture(scope="session")
def training_progress(pytestconfig):
    import pytest_mlaudit as mla

    return mla.terminal_writer(pytestconfig)


@pytest.fixture(scope="session")
def digits():
    from reference_models.datasets import load_digits_images

    return load_digits_images()


@pytest.fixture(scope="session")
def digits_cnn(digits, mlaudit_settings, training_progress, one_torch_thread):
    """The paper's CNN (8x8 variant) after the paper's standard training on digits."""
    from reference_models.paper_cnn import paper_recipe, trained_paper_cnn

    config, _ = paper_recipe(mlaudit_settings.seed)
    return trained_paper_cnn(digits, config, progress=training_progress)


@pytest.fixture(scope="session")
def digits_cnn_adversarial(digits, mlaudit_settings, training_progress, one_torch_thread):
    """``digits_cnn`` after the paper's FGSM adversarial training (eps 0.1 in pixel units)."""
    from reference_models.paper_cnn import adversarially_trained_paper_cnn, paper_recipe

    return adversarially_trained_paper_cnn(digits, *paper_recipe(mlaudit_settings.seed), progress=training_progress)


@pytest.fixture(scope="session")
def transactions(mlaudit_settings):
    """The generated bank transactions (6,000, 20% fraud), split 70 / 30."""
    from reference_models.fraudnet import transactions_split

    return transactions_split(seed=mlaudit_settings.seed)


@pytest.fixture(scope="session")
def fraudnet(transactions, mlaudit_settings, training_progress, one_torch_thread):
    from reference_models.fraudnet import trained_fraudnet

    return trained_fraudnet(transactions, mlaudit_settings.seed, progress=training_progress)


@pytest.fixture(scope="session")
def fraudnet_secured(transactions, mlaudit_settings, training_progress, one_torch_thread):
    from reference_models.fraudnet import secured_fraudnet

    return secured_fraudnet(transactions, mlaudit_settings.seed, progress=training_progress)


@pytest.fixture(scope="session")
def one_torch_thread():
    """torch computes on one CPU thread for the rest of the session (restored after).

    The embedded models are small (8x8 images, 5-feature transactions), so a second
    thread buys nothing, and on a loaded machine (other processes, or the other
    worker of ``-n 2``) two threads each waiting for the other made the robustness
    audit files 3.7x slower (28 s against 7.5 s at load 4). One thread also fixes the order of
    floating-point sums, as in training: the numbers do not depend on the core count.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``-n N`` (xdist's default ``--dist load``), send each audit file to one worker.

    The module-scoped fixtures of an audit file (the 60,000 generated transactions and
    the three fitted fraud pipelines, the hiring population and its model) are then
    built once, not once per worker. An explicit other ``--dist`` mode is kept.
    """
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadFileScheduling

    return LoadFileScheduling(config, log)
