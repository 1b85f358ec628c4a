"""records.jsonable and json_tree: the conversions of params, labels and every free-form field to JSON values."""

import json
import math
from pathlib import PurePosixPath
from types import SimpleNamespace

import numpy as np
import pytest

from pytest_mlaudit.records import (MAX_ARRAY_ITEMS, AuditRecord, Check, Estimate, UnrecordableValue, json_tree,
                                    jsonable)


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


# --------------------------------------------------------------------------- json_tree: every free-form field of a record


def test_json_tree_keeps_json_values_and_turns_tuples_and_paths_into_lists_and_strings():
    tree = json_tree({"a": (1, 2.5, None, True), "b": [PurePosixPath("/data/x.csv"), "s"]}, "params")
    assert tree == {"a": [1, 2.5, None, True], "b": ["/data/x.csv", "s"]}


def test_json_tree_turns_numpy_scalars_and_strings_into_python_values():
    tree = json_tree([np.int64(3), np.float32(0.5), np.bool_(False), np.str_("a")], "params")
    assert tree == [3, 0.5, False, "a"]
    assert [type(value) for value in tree] == [int, float, bool, str]


def test_json_tree_writes_non_finite_floats_as_strings():
    assert json_tree([math.nan, math.inf, -math.inf, np.float64(-math.inf)], "x") == ["NaN", "Infinity", "-Infinity",
                                                                                      "-Infinity"]


def test_json_tree_turns_arrays_into_nested_lists():
    assert json_tree(np.arange(6).reshape(2, 3), "extras") == [[0, 1, 2], [3, 4, 5]]


def test_json_tree_accepts_an_array_of_the_largest_recordable_size():
    assert len(json_tree(np.zeros(MAX_ARRAY_ITEMS), "extras")) == MAX_ARRAY_ITEMS


def test_json_tree_refuses_a_larger_array_naming_the_field_and_the_size():
    with pytest.raises(UnrecordableValue, match=rf"^extras.curve: an array of {MAX_ARRAY_ITEMS + 1} items is too "
                                                rf"large to record \(at most {MAX_ARRAY_ITEMS}\); record a summary of it$"):
        json_tree({"curve": np.zeros(MAX_ARRAY_ITEMS + 1)}, "extras")


def test_json_tree_refuses_an_object_naming_where_it_is_and_its_type():
    with pytest.raises(UnrecordableValue, match=r"^params.model\[1\]: a builtins.object has no JSON form; record "
                                                r"numbers, strings, lists or dicts of them$"):
        json_tree({"model": [1, object()]}, "params")


def test_json_tree_turns_number_keys_into_their_json_text():
    assert json_tree({1: "a", 0.5: "b", np.int64(2): "d", math.inf: "e"}, "x") == {
        "1": "a", "0.5": "b", "2": "d", "Infinity": "e"}
    assert json_tree({True: "c"}, "x") == {"true": "c"}


def test_json_tree_refuses_a_key_that_is_not_a_string_or_number_naming_its_type():
    with pytest.raises(UnrecordableValue, match=r"^params: a key of type tuple \(\(1, 2\)\) has no JSON form$"):
        json_tree({(1, 2): "a"}, "params")


def test_a_record_with_a_value_that_has_no_json_form_becomes_an_error_audit_naming_the_field():
    record = AuditRecord(nodeid="t.py::test_a", category="c", name="a", params={"model": object()},
                         metrics={"m": Estimate(0.5, 0.4, 0.6, 10)}, requirements=["R1"], samples={"m": {}})
    made = record.made_jsonable()
    assert (made.outcome, made.metrics, made.gates, made.params, made.samples) == ("error", {}, [], {}, {})
    assert made.requirements == ["R1"]
    assert made.error == ("the audit recorded a value that has no JSON form: params.model: a builtins.object has no "
                          "JSON form; record numbers, strings, lists or dicts of them")


def test_a_record_made_jsonable_converts_its_checks_and_free_form_fields():
    record = AuditRecord(nodeid="t.py::test_a", category="c", name="a", params={"eps": np.float32(0.5)},
                         checks=[Check(np.str_("finite"), np.bool_(True), np.str_("ok"))])
    made = record.made_jsonable()
    assert made.params == {"eps": 0.5} and made.outcome == "passed"
    assert made.checks == [Check("finite", True, "ok")]
    assert [type(value) for value in (made.checks[0].name, made.checks[0].passed, made.checks[0].detail)] == [str, bool,
                                                                                                             str]


def test_jsonable_gives_the_repr_of_an_object_with_an_item_method_but_no_ndim():
    holder = SimpleNamespace(item=lambda: 1)
    assert jsonable(holder) == repr(holder)


def test_json_tree_names_the_field_of_an_unrecordable_object_inside_a_numpy_array():
    with pytest.raises(UnrecordableValue, match=r"^params.m\[0\]: a builtins.object has no JSON form"):
        json_tree({"m": np.array([object()], dtype=object)}, "params")
    with pytest.raises(UnrecordableValue, match=r"^params.m: a builtins.object has no JSON form"):
        json_tree({"m": np.array(object(), dtype=object)}, "params")


def test_json_tree_refuses_a_numpy_object_that_is_not_an_array_naming_its_type():
    with pytest.raises(UnrecordableValue, match=r"^params.rng: a numpy.random._generator.Generator has no JSON form"):
        json_tree({"rng": np.random.default_rng(0)}, "params")


def test_json_tree_converts_arrays_of_numpy_submodules():
    assert json_tree(np.ma.masked_array([1, 2]), "x") == [1, 2]


def test_json_tree_converts_torch_tensors_and_refuses_a_large_one_naming_its_size():
    torch = pytest.importorskip("torch")
    assert json_tree({"t": torch.tensor([1.0, 2.0]), "s": torch.tensor(3)}, "x") == {"t": [1.0, 2.0], "s": 3}
    with pytest.raises(UnrecordableValue, match=rf"^x: an array of torch.Size\(\[{MAX_ARRAY_ITEMS + 1}\]\) items is "
                                                rf"too large"):
        json_tree(torch.zeros(MAX_ARRAY_ITEMS + 1), "x")


def test_json_tree_refuses_a_numpy_object_as_a_key_naming_the_field_and_its_type():
    with pytest.raises(UnrecordableValue, match=r"^params: a numpy.random._generator.Generator has no JSON form"):
        json_tree({np.random.default_rng(0): 1}, "params")
