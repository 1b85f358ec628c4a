"""Robustness (evasion) audits: attacks, sanity checks, the audit functions and curves.

The public names are exported by ``pytest_mlaudit`` itself (lazily); this package only
holds the modules.
"""
