"""Weak-subgroup search on the generated hiring population and, in the real-data tier, on UCI Adult.

Generated hiring population (reference_models.fairness_data): the historical labels
penalise group B at equal merit, and the screening model learns the penalty through a
proxy feature. A search of the slices of the sensitive attributes (group, age band and
their pairs) for a lower selection rate than the rest, with false-discovery control,
must find group B, and no slice of the age band alone (it carries no disparity).

UCI Adult (``--mlaudit-data-dir`` with ``adult/adult.data`` and ``adult/adult.test``):
the logistic regression of ``reference_models.fairness_data.adult_model``, trained on
``adult.data`` without sex and race among its features, and searched on the 16,281
rows of ``adult.test`` over the slices of sex, race and their pairs (17 slices large
enough to test). The known disparity is by sex: the model predicts income above 50K for
7.9% of women against 24.7% of everyone else, a gap of 0.168 [0.157, 0.179], the
largest of the 9 slices discovered at a false-discovery rate of 0.05. Women who are
Black (753; 4.5%) and Black applicants (1,561; 8.7%) follow.
"""

import functools

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


# Real-data tier: UCI Adult.

@functools.lru_cache(maxsize=1)
def _adult(train_path, test_path):
    """The Adult test split and the model trained on the training split, once per session."""
    from reference_models.fairness_data import adult_model, load_adult

    return load_adult(test_path), adult_model(load_adult(train_path))


@pytest.fixture
def adult(mlaudit):
    return _adult(mlaudit.data_path("adult", "adult.data"), mlaudit.data_path("adult", "adult.test"))


def test_adult_subgroup_search_finds_women_selected_least(mlaudit, adult):
    test, model = adult
    result = mlaudit.weak_subgroups(model, test.X, test.y, slice_by=test.sensitive, metric="selection_rate")
    women = next(s for s in result.slices if s.description == "sex = Female")
    assert result.worst_gap == women.gap and women.gap.low > 0.15
    assert not any(s.description.startswith("sex = Male") and "race" not in s.description for s in result.slices)
    with pytest.raises(AssertionError, match="worst_gap"):
        mla.assert_no_weak_subgroup(model, test.X, test.y, slice_by=test.sensitive, metric="selection_rate",
                                    gap_at_most=0.05)
