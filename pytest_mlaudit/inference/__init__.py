"""Attribute-inference audits: ``attribute_inference``, ``assert_attribute_inference_advantage``
(in :mod:`.attribute`), through ART's black-box attribute inference and its baseline.

The public names are exported by ``pytest_mlaudit`` itself (lazily); this package only
holds the module.
"""
