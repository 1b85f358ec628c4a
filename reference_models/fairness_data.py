"""Data and models for the group-fairness audits: a generated hiring population with a
known disparity (the embedded default) and the UCI Adult census data (the real-data tier).

The hiring population
---------------------
Each applicant has a latent merit ``q ~ N(0, 1)``, drawn the same way in both groups, and
two sensitive attributes drawn independently of merit: ``group`` ("B" with probability
0.3, else "A") and ``age_band`` ("under 40" or "40+", half each). The model sees three
features:

- ``test_score = q + N(0, 0.5^2)``
- ``experience = 0.5 q + N(0, 1)``
- ``neighbourhood = [group == "B"] + N(0, 0.4^2)``, a proxy that carries group membership
  and no merit (like a postcode).

The labels are *historical hiring decisions* made with a penalty against group B:
``hired = [q + N(0, 0.5^2) - 1.0 [group == "B"] > 0.5]``. About 33% of group A and 9% of
group B were hired, although merit is identically distributed. A model trained on these
labels learns the penalty through the proxy. Expected disparity (measured over five seeds
of ``LogisticRegression`` on 5,000 training and 10,000 test applicants): selection rate
about 0.24 in group A and 0.10 in group B, a demographic parity ratio (disparate impact)
between 0.38 and 0.49, far below the four-fifths rule, and a demographic parity
difference of about 0.14. ``age_band`` carries no disparity of its own. Post-processing
for demographic parity (fairlearn's ``ThresholdOptimizer``) brings the ratio to
0.93-1.0 for about 2 points of accuracy (against the biased labels).

UCI Adult
---------
``adult.data`` and ``adult.test`` as UCI distributes them: no header, values separated
by ", ", ``?`` for a missing value; ``adult.test`` starts with a comment line (``|1x3
Cross validator``, absent from some copies) and its labels end with a period. The label is
income ``>50K`` (1) or ``<=50K`` (0); ``sex`` and ``race`` are the sensitive features and
are kept out of the model's features, as is ``fnlwgt`` (a census sampling weight, not an
attribute of the person). Becker & Kohavi, UCI Machine Learning Repository, CC BY 4.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .seeds import derived_seed

HIRING_FEATURES = ("test_score", "experience", "neighbourhood")
HIRING_SENSITIVE = ("group", "age_band")

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
    "income",
)
ADULT_NUMERIC = ("age", "education-num", "capital-gain", "capital-loss", "hours-per-week")
ADULT_CATEGORICAL = ("workclass", "education", "marital-status", "occupation", "relationship", "native-country")
ADULT_SENSITIVE = ("sex", "race")


@dataclass(frozen=True)
class FairnessData:
    """Features, binary labels (1 = the favourable outcome) and the sensitive features.

    ``sensitive`` is a pandas DataFrame with one column per sensitive attribute, row for
    row with ``X`` and ``y``; ``source`` says where the data came from.
    """

    X: Any
    y: Any
    sensitive: Any
    feature_names: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class FairnessSplit:
    train: FairnessData
    test: FairnessData


def hiring_population(n: int, seed: int) -> FairnessData:
    """``n`` generated applicants with historically biased hiring labels (module docstring)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    in_b = rng.random(n) < 0.3
    older = rng.random(n) < 0.5
    merit = rng.normal(size=n)
    X = np.column_stack([
        merit + rng.normal(0.0, 0.5, n),
        0.5 * merit + rng.normal(0.0, 1.0, n),
        in_b + rng.normal(0.0, 0.4, n),
    ])
    hired = (merit + rng.normal(0.0, 0.5, n) - 1.0 * in_b > 0.5).astype(np.int64)
    sensitive = pd.DataFrame({
        "group": np.where(in_b, "B", "A"),
        "age_band": np.where(older, "40+", "under 40"),
    })
    return FairnessData(X=X, y=hired, sensitive=sensitive, feature_names=HIRING_FEATURES,
                        source=f"generated hiring population (reference_models.fairness_data, n={n}, seed={seed})")


def hiring_split(seed: int, n_train: int = 5000, n_test: int = 10000) -> FairnessSplit:
    """Independent training and test populations drawn from the same process."""
    return FairnessSplit(train=hiring_population(n_train, derived_seed(seed, "hiring", "train")),
                         test=hiring_population(n_test, derived_seed(seed, "hiring", "test")))



def hiring_model(train: FairnessData):
    """The unmitigated screening model: a logistic regression on the three features."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(train.X, train.y)


def load_adult(path: str | Path) -> FairnessData:
    """Read ``adult.data`` or ``adult.test`` (either layout, see the module docstring).

    ``X`` is a DataFrame of the numeric and categorical attributes (``?`` kept as its own
    category), for a pipeline such as :func:`adult_model`.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    rows = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            line = line.strip()
            if not line or line.startswith("|"):
                continue
            values = [value.strip() for value in line.split(",")]
            if len(values) != len(ADULT_COLUMNS):
                raise ValueError(f"{path}:{number}: expected {len(ADULT_COLUMNS)} values separated by ', ' "
                                 f"(the UCI Adult layout), got {len(values)}")
            rows.append(values)
    if not rows:
        raise ValueError(f"{path} holds no UCI Adult rows")
    table = pd.DataFrame(rows, columns=list(ADULT_COLUMNS))
    income = table["income"].str.rstrip(".")
    unknown = sorted(set(income) - {">50K", "<=50K"})
    if unknown:
        raise ValueError(f"{path}: income must be '>50K' or '<=50K' (a trailing period allowed), got {unknown[:3]}")
    X = table[list(ADULT_NUMERIC + ADULT_CATEGORICAL)].copy()
    for column in ADULT_NUMERIC:
        X[column] = pd.to_numeric(X[column], errors="raise").astype(np.float64)
    return FairnessData(X=X, y=(income == ">50K").to_numpy(dtype=np.int64),
                        sensitive=table[list(ADULT_SENSITIVE)].reset_index(drop=True),
                        feature_names=ADULT_NUMERIC + ADULT_CATEGORICAL, source=str(path))


def adult_model(train: FairnessData):
    """Logistic regression on standardised numeric and one-hot categorical attributes."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = ColumnTransformer([
        ("numeric", StandardScaler(), list(ADULT_NUMERIC)),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(ADULT_CATEGORICAL)),
    ])
    return make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(train.X, train.y)
