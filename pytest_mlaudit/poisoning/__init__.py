"""Poisoning audits: what an attacker who controls part of the training data can make the model do.

- :mod:`.triggers`: backdoor triggers, ART's image perturbations and feature-value patterns for tables;
- :mod:`.backdoor`: ``backdoor``, ``assert_backdoor_success`` (ART's ``PoisoningAttackBackdoor``; detection
  with ART's ``ActivationDefence`` or ``SpectralSignatureDefense``);
- :mod:`.label_flip`: ``label_flip_curve``, ``assert_label_flip_accuracy`` (random and targeted flips).

The public names are exported by ``pytest_mlaudit`` itself (lazily); this package only
holds the modules.
"""
