"""Fairness audits: per-group rates with intervals, disparities between groups, mitigation compared with none.

The public names are exported by ``pytest_mlaudit`` itself (lazily); this package only
holds the modules: :mod:`.audit` (the audit functions), :mod:`.results` (what they
return), :mod:`.groups` (the per-group confusion counts every figure comes from),
:mod:`.metrics` (the metrics and their bootstrap intervals, from the counts),
:mod:`.chunks` (a table read in chunks), :mod:`.pooling` (data shards merged exactly),
:mod:`.inputs` (predictions and data fingerprints), :mod:`.recorded` (params, charts
and tables of a record) and :mod:`.mitigation` (``compare_mitigation``).
"""
