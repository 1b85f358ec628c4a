"""Loader functions for `python -m pytest_mlaudit scan` on the paper's XGBoost fraud model.

    python -m pytest_mlaudit scan --model audits.scan_fraud:load_model --data audits.scan_fraud:load_data \\
        --out audits/test_scan_fraud.py --report scan.html

The model is the paper's pipeline (StandardScaler, then XGBoost; no resampling) fitted
on the training split of the generated credit-card population of
``reference_models.fraud_pipelines`` (60,000 transactions, 0.2% fraud, the paper's
70/30 stratified split); the data is that split, the training part included so that the
scan also audits membership inference. ``load_degraded_model`` is the same pipeline
fitted on shuffled labels: a model the generated file must fail.
"""

import functools


@functools.lru_cache(maxsize=1)
def _split():
    from reference_models.fraud_pipelines import generated_fraud_data, paper_split

    return paper_split(generated_fraud_data())


def load_model():
    from reference_models.fraud_pipelines import paper_pipeline

    split = _split()
    return paper_pipeline().fit(split.X_train, split.y_train)


def load_degraded_model():
    """The same pipeline fitted on the training labels shuffled (seed 0): it has learnt nothing about fraud."""
    import numpy as np

    from reference_models.fraud_pipelines import paper_pipeline

    split = _split()
    return paper_pipeline().fit(split.X_train, np.random.default_rng(0).permutation(split.y_train))


def load_data():
    split = _split()
    return {"train": (split.X_train, split.y_train), "test": (split.X_test, split.y_test)}
