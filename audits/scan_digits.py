"""Loader functions for `python -m pytest_mlaudit scan` on the digits CNN (the paper's CNN, 8x8 variant).

    python -m pytest_mlaudit scan --model audits.scan_digits:load_model --data audits.scan_digits:load_data \\
        --out audits/test_scan_digits.py --report scan.html

The model is trained with the paper's recipe (seed 0) or read from the weight cache of
``reference_models.cache``; the data is scikit-learn's 8x8 digits, pixels in [0, 1].
``load_degraded_model`` is the same network trained for one epoch of the same recipe on
shuffled labels: a model the generated file must fail.
"""


def load_model():
    import torch

    from reference_models.datasets import load_digits_images
    from reference_models.paper_cnn import paper_recipe, trained_paper_cnn

    torch.set_num_threads(1)
    config, _ = paper_recipe(0)
    return trained_paper_cnn(load_digits_images(), config)


def load_degraded_model():
    """The paper's CNN trained for one epoch on the training labels shuffled (seed 0): it has learnt nothing."""
    import dataclasses

    import numpy as np
    import torch

    from reference_models.datasets import load_digits_images
    from reference_models.paper_cnn import paper_recipe, trained_paper_cnn

    torch.set_num_threads(1)
    config, _ = paper_recipe(0)
    digits = load_digits_images()
    shuffled = dataclasses.replace(digits, y_train=np.random.default_rng(0).permutation(digits.y_train))
    return trained_paper_cnn(shuffled, dataclasses.replace(config, epochs=1))


def load_data():
    from reference_models.datasets import load_digits_images

    digits = load_digits_images()
    return {"test": (digits.X_test, digits.y_test)}
