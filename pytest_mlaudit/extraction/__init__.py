"""Model-extraction (stealing) audits: ``model_extraction``, ``assert_extraction_fidelity`` (in :mod:`.audit`).

ART's ``CopycatCNN`` / ``KnockoffNets`` for torch victims, plain query-and-fit for
black-box scikit-learn and XGBoost victims. The public names are exported by
``pytest_mlaudit`` itself (lazily); this package only holds the module.
"""
