"""The reference models of the studies pytest-mlaudit ships as audits, with their data.

- :mod:`reference_models.datasets`: embedded data (scikit-learn's digits, generated
  sets) and loaders for the real data sets named by ``--mlaudit-data-dir``.
- :mod:`reference_models.paper_cnn`: the CNN of "Robust and Fair AI" and its training.
- :mod:`reference_models.cache`: trained weights cached by configuration, data and versions.
"""
