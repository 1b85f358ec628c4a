"""What a fairness audit measured: per-group rates and the disparities between groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..records import Estimate

FOUR_FIFTHS = 0.8


@dataclass(frozen=True)
class GroupMetrics:
    """One group's rates: selection rate P(pred=1), recall P(pred=1 | y=1), false
    positive rate P(pred=1 | y=0) and precision P(y=1 | pred=1)."""

    group: str
    size: int
    selection_rate: Estimate
    recall: Estimate
    false_positive_rate: Estimate
    precision: Estimate


@dataclass(frozen=True)
class GroupFairness:
    """The groups of one partition of the samples (one feature, or the intersection of
    several) and the disparities between them."""

    features: tuple[str, ...]
    groups: tuple[GroupMetrics, ...]
    demographic_parity_difference: Estimate
    demographic_parity_ratio: Estimate
    equalized_odds_difference: Estimate
    equal_opportunity_difference: Estimate

    @property
    def disparate_impact_ratio(self) -> Estimate:
        """Lowest over highest selection rate: the demographic parity ratio."""
        return self.demographic_parity_ratio

    @property
    def meets_four_fifths_rule(self) -> bool:
        return self.demographic_parity_ratio.value >= FOUR_FIFTHS


@dataclass(frozen=True)
class FairnessResult:
    """What one fairness audit measured. ``intersection`` holds the groups of all
    sensitive features together (of the one feature, when there is one); ``by_feature``
    each feature alone, when there are several. The disparity attributes are those of
    ``intersection``."""

    accuracy: Estimate
    n: int
    positive_label: Any
    intersection: GroupFairness
    by_feature: tuple[GroupFairness, ...] = ()

    @property
    def groups(self) -> tuple[GroupMetrics, ...]:
        return self.intersection.groups

    @property
    def demographic_parity_difference(self) -> Estimate:
        return self.intersection.demographic_parity_difference

    @property
    def demographic_parity_ratio(self) -> Estimate:
        return self.intersection.demographic_parity_ratio

    @property
    def disparate_impact_ratio(self) -> Estimate:
        return self.intersection.demographic_parity_ratio

    @property
    def equalized_odds_difference(self) -> Estimate:
        return self.intersection.equalized_odds_difference

    @property
    def equal_opportunity_difference(self) -> Estimate:
        return self.intersection.equal_opportunity_difference

    @property
    def meets_four_fifths_rule(self) -> bool:
        return self.intersection.meets_four_fifths_rule


@dataclass(frozen=True)
class MitigationComparison:
    """The same test split judged with and without post-processing; ``accuracy_change``
    is mitigated minus unmitigated accuracy (paired on the test samples)."""

    unmitigated: FairnessResult
    mitigated: FairnessResult
    accuracy_change: Estimate
    constraints: str
    objective: str
