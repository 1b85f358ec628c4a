"""Weak-subgroup search on the generated hiring population (reference_models.fairness_data).

The historical labels penalise group B at equal merit, and the screening model learns the
penalty through a proxy feature. A search of the slices of the sensitive attributes (group,
age band and their pairs) for a lower selection rate than the rest, with false-discovery
control, must find group B, and no slice of the age band alone (it carries no disparity).
"""

import pytest

import pytest_mlaudit as mla

pytestmark = pytest.mark.mlaudit(requirement="EU-AI-Act-Art10")


def test_subgroup_search_finds_the_planted_disparity_against_group_b(mlaudit, mlaudit_settings):
    from reference_models.fairness_data import hiring_model, hiring_split

    hiring = hiring_split(seed=mlaudit_settings.seed)
    model = hiring_model(hiring.train)
    test = hiring.test
    result = mlaudit.weak_subgroups(model, test.X, test.y, slice_by=test.sensitive, metric="selection_rate")
    found = [s.description for s in result.slices]
    assert "group = B" in found
    assert not any(d in found for d in ("age_band = 40+", "age_band = under 40"))
    with pytest.raises(AssertionError, match="worst_gap"):
        mla.assert_no_weak_subgroup(model, test.X, test.y, slice_by=test.sensitive, metric="selection_rate",
                                    gap_at_most=0.05)
