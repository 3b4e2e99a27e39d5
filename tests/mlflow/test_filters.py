"""MLflow's search grammar: what parses to what, what is refused (with MLflow's code), and how records match."""

from __future__ import annotations

import math

import pytest

from jupyter_aml.mlflow_api import filters
from jupyter_aml.mlflow_api.errors import INVALID_PARAMETER_VALUE, MlflowError
from jupyter_aml.mlflow_api.filters import Comparison, OrderBy, parse_filter, parse_order_by


def test_clauses_of_every_entity_joined_by_and() -> None:
    parsed = parse_filter("metrics.acc > 0.5 and params.p = 'a' AND tags.`mlflow.user` LIKE 'r%' "
                          "AND attributes.status IN ('FINISHED', 'FAILED') AND run_name != \"x\"")
    assert parsed == [
        Comparison("metric", "acc", ">", 0.5),
        Comparison("param", "p", "=", "a"),
        Comparison("tag", "mlflow.user", "LIKE", "r%"),
        Comparison("attribute", "status", "IN", ("FINISHED", "FAILED")),
        Comparison("attribute", "run_name", "!=", "x"),
    ]


def test_quoted_and_dotted_keys_aliases_and_null_checks() -> None:
    assert parse_filter('metric."my loss" <= -1e-3') == [Comparison("metric", "my loss", "<=", -0.001)]
    assert parse_filter("tags.mlflow.parentRunId IS NULL") == [Comparison("tag", "mlflow.parentRunId", "IS NULL",
                                                                          None)]
    assert parse_filter("param.p IS NOT NULL") == [Comparison("param", "p", "IS NOT NULL", None)]
    assert parse_filter("created >= 10") == [Comparison("attribute", "start_time", ">=", 10.0)]
    assert parse_filter("run_id NOT IN ('a')") == [Comparison("attribute", "run_id", "NOT IN", ("a",))]
    assert parse_filter("tags.t = 'it''s'") == [Comparison("tag", "t", "=", "it's")]
    assert parse_filter("  ") == []


@pytest.mark.parametrize("text, words", [
    ("metrics.acc > 0.5 OR metrics.acc < 0.1", "'OR' is not supported"),
    ("metrics.acc = 'high'", "Expected numeric value"),
    ("params.p = 3", "Expected a quoted string"),
    ("params.p > 'a'", "Invalid comparator '>'"),
    ("metrics.acc LIKE '1%'", "Invalid comparator 'LIKE'"),
    ("metrics.acc IS NULL", "only params and tags"),
    ("foo.bar = 'x'", "Invalid entity type 'foo'"),
    ("nonsense = 'x'", "Invalid attribute key 'nonsense'"),
    ("tags.t = 'open", "never closed"),
    ("tags.t = 'a' metrics.x > 1", "expected AND"),
    ("tags.t IN ('a')", "only string attributes"),
    ("status IN ('a', 3)", "expected a quoted string"),
    ("metrics.acc >", "ends where a value was expected"),
    ("metrics.acc ~ 1", "unexpected character"),
    ("start_time > 'x'", "Expected numeric value"),
])
def test_bad_filters_are_mlflows_invalid_parameter_value(text: str, words: str) -> None:
    with pytest.raises(MlflowError) as caught:
        parse_filter(text)
    assert caught.value.error_code == INVALID_PARAMETER_VALUE and caught.value.status == 400
    assert words in caught.value.message


def test_experiment_filters_take_names_and_tags_only() -> None:
    assert parse_filter("name ILIKE '%exp%' AND tags.k = 'v'", filters.EXPERIMENTS) == [
        Comparison("attribute", "name", "ILIKE", "%exp%"), Comparison("tag", "k", "=", "v")]
    with pytest.raises(MlflowError, match="Invalid entity type 'metrics'"):
        parse_filter("metrics.x > 1", filters.EXPERIMENTS)


def test_order_by() -> None:
    assert parse_order_by(["metrics.acc DESC", "params.p", "attribute.start_time asc"]) == [
        OrderBy("metric", "acc", False), OrderBy("param", "p", True), OrderBy("attribute", "start_time", True)]
    with pytest.raises(MlflowError, match="unexpected 'sideways'"):
        parse_order_by(["metrics.acc sideways"])


def test_matching_follows_sql() -> None:
    record = {("metric", "acc"): 0.7, ("param", "p"): "Alpha", ("tag", "t"): "x_1", ("metric", "bad"): math.nan}

    def holds(text: str) -> bool:
        return filters.matches(parse_filter(text), lambda entity, key: record.get((entity, key)))

    assert holds("metrics.acc > 0.5 AND metrics.acc <= 0.7")
    assert not holds("metrics.acc != 0.7")
    assert not holds("metrics.missing != 1")  # a missing value satisfies no comparison
    assert not holds("metrics.bad > 0") and not holds("metrics.bad < 0")
    assert holds("params.p LIKE 'Al%'") and not holds("params.p LIKE 'al%'") and holds("params.p ILIKE 'al%'")
    assert holds("tags.t LIKE 'x__'") and not holds("tags.t LIKE 'x_'")
    assert holds("tags.other IS NULL") and holds("tags.t IS NOT NULL")
    assert filters.like("50%.", ignore_case=False).fullmatch("50 percent.") is not None
    assert filters.like("a.c", ignore_case=False).fullmatch("abc") is None  # '.' is no wildcard in LIKE
