"""Metric values keep their v1 types through real HTTP: strings, bools, None, ints, NaN and ±inf, v1 shapes."""

from __future__ import annotations

import json
import math
from typing import Any

from jupyter_aml.core.metrics import CHUNK_POINTS
from tests.server.helpers import interactive_run

CM = {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
      "data": {"class_labels": ["cat", "dog"], "matrix": [[5, 1], [2, 7]]}}


def rec(rid: str, seq: int, name: str, v: Any, k: str = "m", **extra: Any) -> dict[str, Any]:
    return {"seq": seq, "run_id": rid, "t": 1000.0 + seq, "k": k, "n": name, "v": v, **extra}


async def _post(aml: Any, rid: str, recs: list[dict[str, Any]]) -> dict[str, Any]:
    status, ack = await aml("POST", f"workspaces/w/runs/{rid}/journal",
                            raw=json.dumps({"stream": "main", "records": recs}).encode())
    assert status == 200, ack
    return ack


async def _values(aml: Any, rid: str) -> dict[str, dict[str, Any]]:
    status, body = await aml("GET", f"workspaces/w/runs/{rid}/metric-values")
    assert status == 200, body
    return {h["name"]: h for h in body["items"]}


async def test_every_scalar_type_comes_back_as_logged(aml):
    rid = (await interactive_run(aml))["id"]
    ack = await _post(aml, rid, [
        rec(rid, 1, "message", "Hello from run!"),
        rec(rid, 2, "flag", True),
        rec(rid, 3, "nothing", None),
        rec(rid, 4, "count", 3),
        rec(rid, 5, "big", 2**60 + 1),  # not exact in a float64: kept exactly
        rec(rid, 6, "loss", 0.5),
        rec(rid, 7, "loss", "NaN", vt="f"),
        rec(rid, 8, "loss", "Infinity", vt="f"),
        rec(rid, 9, "loss", "-Infinity", vt="f"),
        rec(rid, 10, "text_nan", "NaN"),  # a string that happens to read NaN stays a string
        rec(rid, 11, "mixed", 1),
        rec(rid, 12, "mixed", "two"),
        rec(rid, 13, "mixed", 3.0),
        rec(rid, 14, "mixed", False),
        rec(rid, 15, "mixed", None),
    ])
    assert ack["rejected"] == [] and ack["acked_seq"] == 15
    got = await _values(aml, rid)
    assert got["message"]["values"] == ["Hello from run!"] and got["message"]["types"] == ["s"]
    assert got["flag"]["values"] == [True] and got["flag"]["types"] == ["b"]
    assert got["nothing"]["values"] == [None] and got["nothing"]["types"] == ["n"]
    assert got["count"]["values"] == [3] and got["count"]["types"] == ["i"]
    assert got["big"]["values"] == [2**60 + 1]
    # an all-float series carries no types: the three strings are its non-finite floats
    assert got["loss"]["values"] == [0.5, "NaN", "Infinity", "-Infinity"] and got["loss"]["types"] is None
    assert got["text_nan"]["values"] == ["NaN"] and got["text_nan"]["types"] == ["s"]
    assert got["mixed"]["values"] == [1, "two", 3.0, False, None]
    assert got["mixed"]["types"] == ["i", "s", "f", "b", "n"]
    status, summary = await aml("GET", f"workspaces/w/runs/{rid}/metrics")
    by = {m["name"]: m for m in summary["items"]}
    assert (by["message"]["last"], by["message"]["last_type"], by["message"]["value_type"]) == (
        "Hello from run!", "s", "s")
    assert (by["loss"]["last"], by["loss"]["min"], by["loss"]["max"], by["loss"]["last_value"]) == (
        "-Infinity", 0.5, 0.5, None)
    assert by["mixed"]["value_type"] == "mixed" and by["count"]["last"] == 3
    status, one = await aml("GET", f"workspaces/w/runs/{rid}/metrics/loss", params={"max_points": 10})
    assert status == 200 and one["values"] == [0.5, "NaN", "Infinity", "-Infinity"]


async def test_types_survive_chunk_boundaries_and_downsampling(aml):
    rid = (await interactive_run(aml))["id"]
    n = CHUNK_POINTS + 50
    floats = [rec(rid, i + 1, "x", float(i)) for i in range(10)]
    await _post(aml, rid, floats)  # an all-float chunk first (stored without types)
    rest = [rec(rid, i + 1, "x", (f"s{i}" if i % 1000 == 7 else i)) for i in range(10, n)]
    await _post(aml, rid, rest)
    got = (await _values(aml, rid))["x"]
    assert got["total"] == n
    expected = [float(i) for i in range(10)] + [(f"s{i}" if i % 1000 == 7 else i) for i in range(10, n)]
    assert got["values"] == expected
    assert got["types"][:10] == ["f"] * 10 and got["types"][1007] == "s" and got["types"][CHUNK_POINTS + 7] == "i"
    status, small = await aml("GET", f"workspaces/w/runs/{rid}/metrics/x", params={"max_points": 100})
    assert status == 200 and small["downsampled"] and len(small["values"]) == len(small["types"]) <= 100
    for step, value, code in zip(small["steps"], small["values"], small["types"], strict=True):
        assert value == expected[int(step)] and code == ("f" if step < 10 else "s" if isinstance(value, str) else "i")


async def test_nested_values_keep_non_finite_floats(aml):
    rid = (await interactive_run(aml))["id"]
    ack = await _post(aml, rid, [
        rec(rid, 1, "curve", [1, "NaN", None, "x"], k="l", nf=1),
        rec(rid, 2, "words", ["NaN", "ok"], k="l"),  # no nf: these are strings
        rec(rid, 3, "row", {"a": 1, "b": "-Infinity"}, k="r", nf=1),
        rec(rid, 4, "table", {"a": [1, 2], "b": ["Infinity", 0.5]}, k="tb", nf=1),
    ])
    assert ack["rejected"] == []
    got = await _values(aml, rid)
    assert got["curve"]["values"] == [[1, "NaN", None, "x"]] and got["curve"]["nonfinite"] == [0]
    assert got["words"]["values"] == [["NaN", "ok"]] and got["words"]["nonfinite"] is None
    assert got["row"]["nonfinite"] == [0] and got["table"]["nonfinite"] == [0]


async def test_v1_shapes_are_stored_and_a_bad_one_is_refused_alone(aml):
    rid = (await interactive_run(aml))["id"]
    bad_cm = {**CM, "data": {"class_labels": ["a", "b"], "matrix": [[1, 2]]}}  # one row for two labels
    residuals = {"schema_type": "residuals", "schema_version": "1.0.0",
                 "data": {"bin_edges": [-1, 0, 1], "bin_counts": [3, 4]}}
    predictions = {"schema_type": "predictions", "schema_version": "1.0.0",
                   "data": {"bin_averages": [0.2, 0.7], "bin_errors": [0.01, 0.02], "bin_counts": [5, 6],
                            "bin_edges": [0, 0.5, 1]}}
    accuracy = {"schema_type": "accuracy_table", "schema_version": "1.0.0",
                "data": {"class_labels": ["0", "1"], "probability_thresholds": [0, 0.5, 1],
                         "percentile_thresholds": [0, 0.5, 1],
                         "probability_tables": [[[5, 5, 0, 0], [4, 1, 4, 1], [0, 0, 5, 5]]] * 2,
                         "percentile_tables": [[[5, 5, 0, 0], [3, 2, 3, 2], [0, 0, 5, 5]]] * 2}}
    ack = await _post(aml, rid, [
        rec(rid, 1, "loss", 0.5),
        rec(rid, 2, "cm", CM, k="cm"),
        rec(rid, 3, "cm_bad", bad_cm, k="cm"),
        rec(rid, 4, "res", residuals, k="rs"),
        rec(rid, 5, "pred", predictions, k="pr"),
        rec(rid, 6, "acc", accuracy, k="at"),
        rec(rid, 7, "res_bad", {**residuals, "schema_type": "predictions"}, k="rs"),
        rec(rid, 8, "loss", 0.25),
    ])
    assert [(r["index"], r["seq"]) for r in ack["rejected"]] == [(2, 3), (6, 7)]
    assert "confusion_matrix: data.matrix must be 2 rows of 2 numbers" in ack["rejected"][0]["reason"]
    assert "schema_type must be 'residuals'" in ack["rejected"][1]["reason"]
    got = await _values(aml, rid)
    assert sorted(got) == ["acc", "cm", "loss", "pred", "res"]
    assert got["loss"]["values"] == [0.5, 0.25]
    assert (got["cm"]["kind"], got["cm"]["values"]) == ("confusion_matrix", [CM])
    assert got["res"]["kind"] == "residuals" and got["pred"]["kind"] == "predictions"
    assert got["acc"]["kind"] == "accuracy_table" and got["acc"]["values"] == [accuracy]


async def test_unstorable_scalars_are_refused_alone(aml):
    rid = (await interactive_run(aml))["id"]
    raw = ('{"stream":"main","records":[' + ",".join([
        json.dumps(rec(rid, 1, "x", 1.0)),
        json.dumps(rec(rid, 2, "x", "x" * 70000)),  # a string past the limit
        json.dumps(rec(rid, 3, "x", {"a": 1})),  # an object is no scalar
        json.dumps(rec(rid, 4, "x", "nope", vt="f")),  # marked non-finite but no marker
        f'{{"seq":5,"run_id":"{rid}","t":1.0,"k":"m","n":"x","v":1{"0" * 400}}}',
        json.dumps(rec(rid, 6, "x", 2.0)),
    ]) + "]}").encode()
    status, ack = await aml("POST", f"workspaces/w/runs/{rid}/journal", raw=raw)
    assert status == 200
    assert [r["seq"] for r in ack["rejected"]] == [2, 3, 4, 5]
    assert "float64" in ack["rejected"][3]["reason"]
    got = await _values(aml, rid)
    assert got["x"]["values"] == [1.0, 2.0]
    assert not any(isinstance(v, float) and math.isnan(v) for v in got["x"]["values"])
