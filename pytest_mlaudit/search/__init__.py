"""The search family: counterexamples found by hypothesis, metamorphic invariants, weak subgroups, and the scan.

- :mod:`.spaces`: the perturbation spaces (``mla.spaces.box``, ``features``, ``categorical``),
  each a builder of a hypothesis strategy for one sample;
- :mod:`.counterexamples`: ``search_counterexamples``, ``assert_no_counterexample``,
  ``assert_invariant``;
- :mod:`.subgroups`: ``weak_subgroups`` and ``assert_no_weak_subgroup``, slices tested
  against the rest with Benjamini-Hochberg false-discovery control;
- :mod:`.scan`: ``python -m pytest_mlaudit scan``, a battery of audits that ends in a
  pytest file with thresholds from the measured intervals.
"""

from . import spaces  # noqa: E402  (mla.spaces: the namespace of the perturbation spaces)

__all__ = ["spaces"]
