"""The reference models of the studies pytest-mlaudit ships as audits, with their data.

- :mod:`reference_models.datasets`: embedded data (scikit-learn's digits) and the
  CIFAR-10 python-batches loader; :mod:`reference_models.creditcard`: the Kaggle layout.
- :mod:`reference_models.paper_cnn`: the CNN of "Robust and Fair AI", its training and
  FGSM adversarial training (``python -m reference_models.paper_cnn`` for CIFAR-10).
- :mod:`reference_models.fraudnet`: FraudNet, its generated transactions and its securing.
- :mod:`reference_models.training`: the training loops; :mod:`reference_models.normalization`:
  the normalization layer that keeps preprocessing inside the models.
- :mod:`reference_models.adversarial_audit`: the standard-against-secured audit.
- :mod:`reference_models.cache`: trained weights cached by configuration, data and versions.
"""
