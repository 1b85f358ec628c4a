"""records.jsonable: the one conversion of params and labels to JSON-native values."""

import json
import math

import numpy as np

from pytest_mlaudit.records import jsonable


def test_native_scalars_stay_as_they_are():
    assert [jsonable(v) for v in (None, True, 3, 0.25, "a")] == [None, True, 3, 0.25, "a"]


def test_numpy_scalars_become_python_values():
    values = [jsonable(v) for v in (np.int64(3), np.bool_(True), np.float32(0.5))]
    assert values == [3, True, 0.5] and [type(v) for v in values] == [int, bool, float]
    assert json.dumps(jsonable(np.str_(">50K"))) == '">50K"'


def test_nan_and_infinity_become_explicit_strings_so_the_json_stays_strict():
    values = [jsonable(math.nan), jsonable(-math.inf), jsonable(np.float64("nan")), jsonable(math.inf)]
    assert values == ["NaN", "-Infinity", "NaN", "Infinity"]
    json.dumps(values, allow_nan=False)


def test_other_objects_become_their_repr_cut_at_200_characters():
    assert jsonable([1, 2]) == "[1, 2]"
    assert jsonable("x" * 300) == "x" * 300 and jsonable(["x" * 300]) == repr(["x" * 300])[:200]
    assert jsonable(np.arange(3)) == repr(np.arange(3))
