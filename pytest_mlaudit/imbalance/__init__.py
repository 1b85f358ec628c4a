"""Imbalance audits: minority-class metrics with intervals, resampler comparison, leakage guards.

The public names are exported by ``pytest_mlaudit`` itself (lazily); this package only
holds the modules.
"""
