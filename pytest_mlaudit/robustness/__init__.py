"""Robustness (evasion) audits: attacks, sanity checks, the audit functions and curves.

- :mod:`.geometry`: norms, budgets, the eps-ball, steps and projections (shared by all attacks);
- :mod:`.protocol`: running, describing and re-sizing any attack object;
- :mod:`.attacks`: the native PyTorch attacks (FGSM, PGD, BIM, random noise, transfer);
- :mod:`.art_attacks`: the attacks run through ART (C&W-L2, DeepFool, HopSkipJump, Square);
- :mod:`.registry`: attacks by name (``make_attack``), built-in and from other plugins;
- :mod:`.sanity`: the sanity checks of an evaluation (Carlini et al. 2019);
- :mod:`.audit`: ``robustness``, ``assert_robust_accuracy``, ``sample_outcomes``, ``feature_range``;
- :mod:`.curves`: ``robustness_curve``, ``assert_robustness_curve``.

The public names are exported by ``pytest_mlaudit`` itself (lazily); this package only
holds the modules.
"""
