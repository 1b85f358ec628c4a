"""Reference data of the fairness audits: the generated hiring population and the UCI Adult loader."""

import numpy as np
import pytest

from reference_models.fairness_data import (
    ADULT_NUMERIC, adult_model, hiring_model, hiring_population, hiring_split, load_adult,
)

ADULT_ROWS = [
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K",
    "50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, >50K",
    "38, ?, 215646, HS-grad, 9, Divorced, ?, Not-in-family, Black, Female, 0, 0, 40, ?, <=50K",
    "31, Private, 45781, Masters, 14, Never-married, Prof-specialty, Not-in-family, White, Female, 14084, 0, 50, United-States, >50K",
]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")  # UCI's files end with a blank line
    return path


def test_adult_data_layout_is_read_with_sex_and_race_apart(tmp_path):
    data = load_adult(_write(tmp_path / "adult.data", ADULT_ROWS))
    assert data.y.tolist() == [0, 1, 0, 1]
    assert data.sensitive.columns.tolist() == ["sex", "race"]
    assert data.sensitive["sex"].tolist() == ["Male", "Male", "Female", "Female"]
    assert data.sensitive["race"].tolist() == ["White", "White", "Black", "White"]
    assert not {"sex", "race", "fnlwgt", "income"} & set(data.X.columns)
    assert data.X["age"].tolist() == [39.0, 50.0, 38.0, 31.0] and data.X["capital-gain"].iloc[3] == 14084.0
    assert data.X["workclass"].iloc[2] == "?"


def test_adult_test_layout_with_its_comment_line_and_periods(tmp_path):
    lines = ["|1x3 Cross validator"] + [row + "." for row in ADULT_ROWS]
    data = load_adult(_write(tmp_path / "adult.test", lines))
    assert data.y.tolist() == [0, 1, 0, 1] and len(data.X) == 4


def test_adult_test_layout_without_its_comment_line(tmp_path):
    data = load_adult(_write(tmp_path / "adult.test", [row + "." for row in ADULT_ROWS]))
    assert data.y.tolist() == [0, 1, 0, 1]


def test_adult_rows_with_a_wrong_number_of_values_are_refused(tmp_path):
    path = _write(tmp_path / "adult.data", ADULT_ROWS[:1] + ["39, State-gov, 77516"])
    with pytest.raises(ValueError, match="adult.data:2: expected 15 values separated by ', '"):
        load_adult(path)


def test_adult_income_other_than_the_two_classes_is_refused(tmp_path):
    path = _write(tmp_path / "adult.data", [ADULT_ROWS[0].replace("<=50K", "50K+")])
    with pytest.raises(ValueError, match="income must be '>50K' or '<=50K'"):
        load_adult(path)


def test_an_empty_adult_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="holds no UCI Adult rows"):
        load_adult(_write(tmp_path / "adult.test", ["|1x3 Cross validator"]))


def test_adult_model_one_hot_encodes_and_ignores_unseen_categories(tmp_path):
    train = load_adult(_write(tmp_path / "adult.data", ADULT_ROWS * 3))
    model = adult_model(train)
    unseen = load_adult(_write(tmp_path / "adult.test", [ADULT_ROWS[0].replace("State-gov", "Never-worked") + "."]))
    assert model.predict(unseen.X).shape == (1,)
    assert set(model.named_steps["columntransformer"].transformers_[0][2]) == set(ADULT_NUMERIC)


def test_hiring_population_is_reproducible_from_its_seed():
    first, again, other = hiring_population(500, 3), hiring_population(500, 3), hiring_population(500, 4)
    assert np.array_equal(first.X, again.X) and np.array_equal(first.y, again.y)
    assert first.sensitive.equals(again.sensitive)
    assert not np.array_equal(first.X, other.X)


def test_hiring_labels_carry_the_documented_historical_penalty():
    data = hiring_population(40000, 0)
    in_b = (data.sensitive["group"] == "B").to_numpy()
    assert in_b.mean() == pytest.approx(0.3, abs=0.01)
    assert data.y[~in_b].mean() == pytest.approx(0.33, abs=0.02)
    assert data.y[in_b].mean() == pytest.approx(0.09, abs=0.02)
    merit_proxy = data.X[:, 0]  # the test score: same distribution in both groups
    assert merit_proxy[in_b].mean() == pytest.approx(merit_proxy[~in_b].mean(), abs=0.05)


def test_hiring_model_learns_the_penalty_through_the_neighbourhood_proxy():
    split = hiring_split(seed=0)
    model = hiring_model(split.train)
    assert model.coef_[0][2] < -0.5  # neighbourhood: the group proxy
    predicted = model.predict(split.test.X)
    in_b = (split.test.sensitive["group"] == "B").to_numpy()
    assert 0.35 <= predicted[in_b].mean() / predicted[~in_b].mean() <= 0.55
