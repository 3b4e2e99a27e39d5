"""The one encoding of metric values (runtime/metric_values.py) and the journal records it produces."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime.journal import JournalReader, JournalWriter
from jupyter_aml.runtime.metric_values import (
    check_v1,
    decode_nested,
    decode_scalars,
    encode_float,
    encode_nested,
    type_code,
)

CM = {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
      "data": {"class_labels": ["a", "b"], "matrix": [[1, 2], [3, 4]]}}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def test_non_finite_floats_round_trip_through_their_marker_strings():
    assert [encode_float(v) for v in (math.nan, math.inf, -math.inf, 1.5)] == ["NaN", "Infinity", "-Infinity", 1.5]
    back = decode_scalars(["NaN", "Infinity", "-Infinity", 1.5], None)
    assert math.isnan(back[0]) and back[1:] == [math.inf, -math.inf, 1.5]


def test_types_say_which_strings_are_strings():
    values = [1, "NaN", "NaN", True, None, 2.0]
    got = decode_scalars(values, ["i", "s", "f", "b", "n", "f"])
    assert all(_same(a, b) for a, b in zip(got, [1, "NaN", math.nan, True, None, 2.0], strict=True))
    assert [type_code(v) for v in (1, 1.0, True, None, "x")] == ["i", "f", "b", "n", "s"]
    with pytest.raises(InvalidInput):
        type_code([1])


def test_nested_values_encode_and_decode():
    import numpy as np

    encoded, found = encode_nested({"a": [1.0, float("nan")], "b": (float("-inf"),), "c": np.array([1, 2])})
    assert found and encoded == {"a": [1.0, "NaN"], "b": ["-Infinity"], "c": [1, 2]}
    json.dumps(encoded, allow_nan=False)  # strict JSON
    back = decode_nested(encoded)
    assert math.isnan(back["a"][1]) and back["b"] == [-math.inf]
    assert encode_nested(["NaN", 1]) == (["NaN", 1], False)


def test_the_journal_writes_each_type_as_strict_json(tmp_path: Path):
    path = tmp_path / "main.jsonl"
    with JournalWriter(path) as w:
        for value in ("Hello from run!", True, False, None, 7, 2**70, float("nan"), float("inf"), "NaN"):
            w.log_metric("r", "m", value)
        w.log_list("r", "l", [1, float("nan"), "x"])
        w.log_v1("r", "cm", "confusion_matrix", json.dumps(CM))  # v1 takes the JSON text too
    lines = path.read_text().splitlines()
    for line in lines:
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    records, _ = JournalReader(path).read_from(0)
    scalars = records[:9]
    assert [r["v"] for r in scalars] == ["Hello from run!", True, False, None, 7, 2**70, "NaN", "Infinity", "NaN"]
    assert [r.get("vt") for r in scalars] == [None] * 6 + ["f", "f", None]
    assert records[9]["v"] == [1, "NaN", "x"] and records[9]["nf"] == 1
    assert records[10]["k"] == "cm" and records[10]["v"] == CM and "nf" not in records[10]


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("confusion_matrix", {**CM, "schema_type": "residuals"}, "schema_type must be 'confusion_matrix'"),
    ("confusion_matrix", {**CM, "data": {"class_labels": ["a"], "matrix": [[1, 2]]}}, "1 rows of 1 numbers"),
    ("confusion_matrix", {**CM, "data": {"matrix": [[1]]}}, "class_labels"),
    ("confusion_matrix", {"schema_type": "confusion_matrix", "data": {}}, "schema_version"),
    ("confusion_matrix", "{not json", "not valid JSON"),
    ("confusion_matrix", [1, 2], "must be a dict"),
    ("residuals", {"schema_type": "residuals", "schema_version": "1.0.0",
                   "data": {"bin_edges": [0, 1, 2], "bin_counts": [1]}}, "bin_counts has 1 values, expected 2"),
    ("predictions", {"schema_type": "predictions", "schema_version": "1.0.0",
                     "data": {"bin_edges": [0, 1], "bin_averages": [0.5], "bin_errors": ["x"], "bin_counts": [1]}},
     "bin_errors must be a list of numbers"),
    ("accuracy_table", {"schema_type": "accuracy_table", "schema_version": "1.0.0",
                        "data": {"class_labels": ["0", "1"], "probability_thresholds": [0, 1],
                                 "percentile_thresholds": [0, 1], "probability_tables": [[[1, 1, 1, 1]] * 2],
                                 "percentile_tables": [[[1, 1, 1, 1]] * 2] * 2}},
     "one table per class label"),
])
def test_a_bad_v1_shape_is_a_clear_error(kind: str, value: object, message: str):
    with pytest.raises(InvalidInput) as info:
        check_v1(kind, value)
    assert message in info.value.message


def test_v1_shapes_accept_numpy_and_non_finite_numbers():
    import numpy as np

    value = {**CM, "data": {"class_labels": [0, 1], "matrix": np.array([[0.5, float("nan")], [1, 0]])}}
    assert check_v1("confusion_matrix", value)["data"]["matrix"] is value["data"]["matrix"]
    with pytest.raises(InvalidInput, match="2 rows of 2 numbers"):
        check_v1("confusion_matrix", {**value, "data": {"class_labels": [0, 1], "matrix": np.zeros((2, 3))}})
