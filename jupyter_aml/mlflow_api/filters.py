"""MLflow's search grammar: a tokenizer, a recursive-descent parser to a list of comparisons (MLflow joins
clauses with ``AND`` only), the matching of one record, and ``order_by`` clauses.

The grammar (``mlflow.utils.search_utils``)::

    filter     := clause ("AND" clause)*
    clause     := identifier comparator value
                | identifier ["NOT"] "IN" "(" string ("," string)* ")"
                | identifier "IS" ["NOT"] "NULL"
    identifier := [entity "."] key         entity: metric(s), param(s)/parameter(s), tag(s), attribute(s)/attr/run
    key        := name | `back-quoted` | "double-quoted"
    comparator := = != < <= > >= LIKE ILIKE
    value      := 'string' | "string" | number
    order_by   := identifier ["ASC" | "DESC"]

A key without an entity is an attribute (``status = 'FINISHED'``), as in MLflow. What each entity accepts is
MLflow's own table (metrics: numbers and the six numeric comparators; params and tags: strings, LIKE, ILIKE,
IS [NOT] NULL; attributes: by key). Anything else is refused with ``INVALID_PARAMETER_VALUE`` naming the
offending text, the same code the MLflow server answers; ``OR`` too, which MLflow does not support either.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from jupyter_aml.mlflow_api.errors import invalid

Entity = Literal["metric", "param", "tag", "attribute"]
ENTITIES: dict[str, Entity] = {
    "metric": "metric", "metrics": "metric",
    "param": "param", "params": "param", "parameter": "param", "parameters": "param",
    "tag": "tag", "tags": "tag",
    "attribute": "attribute", "attributes": "attribute", "attr": "attribute", "run": "attribute",
}
NUMERIC_COMPARATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_COMPARATORS = frozenset({"=", "!=", "LIKE", "ILIKE"})
KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"})
MAX_FILTER = 100_000  # characters: a filter longer than any MLflow UI writes is refused before tokenizing


@dataclass(frozen=True)
class Token:
    kind: Literal["ident", "string", "number", "op", "keyword", "lparen", "rparen", "comma"]
    text: str  # for ident: the entity-qualified identifier, quotes removed from its key; for string: unquoted
    pos: int
    entity: str | None = None  # ident only: the part before the first '.', if any


@dataclass(frozen=True)
class Comparison:
    entity: Entity
    key: str
    op: str  # = != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL
    value: str | float | tuple[str, ...] | None


@dataclass(frozen=True)
class OrderBy:
    entity: Entity
    key: str
    ascending: bool


@dataclass(frozen=True)
class Schema:
    """What one search accepts: its entities, and its attributes by type."""

    entities: frozenset[Entity]
    string_attributes: frozenset[str]
    numeric_attributes: frozenset[str]
    aliases: Mapping[str, str]  # alternate attribute names -> the attribute (``created`` -> ``start_time``)
    names: Mapping[str, Entity] | None = None  # the entity prefixes it takes, if not runs' (traces: metadata.)

    def attribute(self, key: str) -> str:
        name = self.aliases.get(key, key)
        if name not in self.string_attributes and name not in self.numeric_attributes:
            valid = sorted(self.string_attributes | self.numeric_attributes)
            raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are '{valid}'")
        return name


RUNS = Schema(
    entities=frozenset({"metric", "param", "tag", "attribute"}),
    string_attributes=frozenset({"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"}),
    numeric_attributes=frozenset({"start_time", "end_time"}),
    aliases={"created": "start_time", "Created": "start_time", "run name": "run_name", "Run name": "run_name",
             "Run Name": "run_name"},
)
EXPERIMENTS = Schema(
    entities=frozenset({"tag", "attribute"}),
    string_attributes=frozenset({"name", "experiment_id"}),
    numeric_attributes=frozenset({"creation_time", "last_update_time"}),
    aliases={},
)

_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]*")
_OPS = ("!=", "<=", ">=", "<>", "=", "<", ">")


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens. A quoted key right after ``entity.`` belongs to the identifier."""
    if len(text) > MAX_FILTER:
        raise invalid(f"the filter is {len(text)} characters long; at most {MAX_FILTER} are accepted")
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
        elif char in "'\"`":
            value, end = _quoted(text, i)
            tokens.append(Token("ident" if char == "`" else "string", value, i))
            i = end
        elif char == "(":
            tokens.append(Token("lparen", char, i))
            i += 1
        elif char == ")":
            tokens.append(Token("rparen", char, i))
            i += 1
        elif char == ",":
            tokens.append(Token("comma", char, i))
            i += 1
        elif (op := next((o for o in _OPS if text.startswith(o, i)), None)) is not None:
            tokens.append(Token("op", "!=" if op == "<>" else op, i))
            i += len(op)
        elif (number := _NUMBER.match(text, i)) is not None and (char.isdigit() or char in "+-."):
            tokens.append(Token("number", number.group(), i))
            i = number.end()
        elif (name := _NAME.match(text, i)) is not None:
            word, i = name.group(), name.end()
            if word.upper() in KEYWORDS:
                tokens.append(Token("keyword", word.upper(), name.start()))
                continue
            entity, dot, key = word.partition(".")
            if dot and not key and i < len(text) and text[i] in "`\"":
                key, i = _quoted(text, i)  # metrics."my metric", tags.`mlflow.user`
            tokens.append(Token("ident", key if dot else word, name.start(), entity if dot else None))
        else:
            raise invalid(f"Invalid filter: unexpected character {char!r} at position {i} of {text!r}")
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The text between a quote and its closing twin (doubled, it stands for itself), and where it ends."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(text[i])
        i += 1
    raise invalid(f"Invalid filter: the quote at position {start} of {text!r} is never closed")


class _Parser:
    def __init__(self, text: str, schema: Schema) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0
        self.schema = schema

    def peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, what: str) -> Token:
        token = self.peek()
        if token is None:
            raise invalid(f"Invalid filter {self.text!r}: it ends where {what} was expected")
        self.at += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "keyword" and token.text in words:
            self.at += 1
            return token.text
        return None

    def unexpected(self, token: Token, what: str) -> Exception:
        return invalid(f"Invalid filter {self.text!r}: expected {what} at position {token.pos}, found {token.text!r}")

    def identifier(self) -> tuple[Entity, str]:
        token = self.take("an identifier such as metrics.<key>")
        if token.kind != "ident":
            raise self.unexpected(token, "an identifier such as metrics.<key>, params.<key> or tags.<key>")
        if token.entity is None:
            return "attribute", self.schema.attribute(token.text)
        names = self.schema.names if self.schema.names is not None else ENTITIES
        entity = names.get(token.entity)
        if entity is None or entity not in self.schema.entities:
            valid = ", ".join(sorted(k for k, v in names.items() if v in self.schema.entities))
            raise invalid(f"Invalid entity type '{token.entity}'. Valid values are {valid}")
        if not token.text:
            raise invalid(f"Invalid filter {self.text!r}: '{token.entity}.' names no key")
        return entity, (self.schema.attribute(token.text) if entity == "attribute" else token.text)

    def clauses(self) -> list[Comparison]:
        out = [self.clause()]
        while (token := self.peek()) is not None:
            if token.kind == "keyword" and token.text == "OR":
                raise invalid(f"Invalid clause(s) in filter string: 'OR' is not supported ({self.text!r}); "
                              "make one search per alternative")
            if self.keyword("AND") is None:
                raise self.unexpected(token, "AND")
            out.append(self.clause())
        return out

    def clause(self) -> Comparison:
        entity, key = self.identifier()
        numeric = entity == "metric" or (entity == "attribute" and key in self.schema.numeric_attributes)
        if self.keyword("IS"):
            negated = self.keyword("NOT") is not None
            if self.keyword("NULL") is None:
                raise invalid(f"Invalid filter {self.text!r}: IS must be followed by NULL or NOT NULL")
            if entity not in ("param", "tag"):
                raise invalid(f"Invalid comparator 'IS {'NOT ' if negated else ''}NULL' for {entity} '{key}': "
                              "only params and tags take it")
            return Comparison(entity, key, "IS NOT NULL" if negated else "IS NULL", None)
        negated = self.keyword("NOT") is not None
        if self.keyword("IN"):
            return Comparison(entity, self._in_key(entity, key), "NOT IN" if negated else "IN", self.values())
        if negated:
            raise self.unexpected(self.take("IN"), "IN after NOT")
        token = self.take("a comparator")
        op = token.text if token.kind == "op" or (token.kind == "keyword" and token.text in ("LIKE", "ILIKE")) else ""
        if not op:
            raise self.unexpected(token, "a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE)")
        allowed = NUMERIC_COMPARATORS if numeric else STRING_COMPARATORS
        if op not in allowed:
            raise invalid(f"Invalid comparator '{op}' for {entity} '{key}': use one of {sorted(allowed)}")
        value = self.take("a value")
        if numeric:
            if value.kind != "number":
                raise invalid(f"Expected numeric value type for {entity} '{key}'. Found {value.text!r}")
            return Comparison(entity, key, op, float(value.text))
        if value.kind != "string":
            raise invalid(f"Expected a quoted string value for {entity} '{key}' (e.g. 'my-value'). Got value "
                          f"{value.text}")
        return Comparison(entity, key, op, value.text)

    def _in_key(self, entity: Entity, key: str) -> str:
        if entity != "attribute" or key in self.schema.numeric_attributes:
            raise invalid(f"Invalid comparator 'IN' for {entity} '{key}': only string attributes (run_id, "
                          "run_name, status, ...) compare with a list")
        return key

    def values(self) -> tuple[str, ...]:
        token = self.take("(")
        if token.kind != "lparen":
            raise self.unexpected(token, "'(' opening a list of quoted strings")
        out: list[str] = []
        while True:
            value = self.take("a quoted string")
            if value.kind != "string":
                raise self.unexpected(value, "a quoted string")
            out.append(value.text)
            close = self.take("',' or ')'")
            if close.kind == "rparen":
                return tuple(out)
            if close.kind != "comma":
                raise self.unexpected(close, "',' or ')'")


def parse_filter(text: str | None, schema: Schema = RUNS) -> list[Comparison]:
    """The comparisons of a filter string, all of which must hold (empty: every record)."""
    if not text or not text.strip():
        return []
    parser = _Parser(text, schema)
    return parser.clauses()


def parse_order_by(clauses: list[str] | None, schema: Schema = RUNS) -> list[OrderBy]:
    out: list[OrderBy] = []
    for text in clauses or []:
        parser = _Parser(text, schema)
        entity, key = parser.identifier()
        direction = parser.keyword("ASC", "DESC")
        if (extra := parser.peek()) is not None:
            raise invalid(f"Invalid order_by clause {text!r}: unexpected {extra.text!r}; use '<identifier> "
                          "[ASC|DESC]'")
        out.append(OrderBy(entity, key, direction != "DESC"))
    return out


# -- matching ------------------------------------------------------------------------------------------
Lookup = Callable[[Entity, str], "str | float | None"]


def like(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE as a regular expression: ``%`` any run of characters, ``_`` one character."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(comparisons: list[Comparison], lookup: Lookup) -> bool:
    """Whether one record passes every comparison; ``lookup`` gives its value (None: it has none)."""
    return all(_holds(c, lookup(c.entity, c.key)) for c in comparisons)


def _holds(c: Comparison, actual: str | float | None) -> bool:
    if c.op == "IS NULL":
        return actual is None
    if c.op == "IS NOT NULL":
        return actual is not None
    if actual is None:  # SQL: a missing value satisfies no comparison, != included
        return False
    if isinstance(c.value, tuple):
        return (str(actual) in c.value) == (c.op == "IN")
    if isinstance(c.value, float):
        if not isinstance(actual, float | int) or math.isnan(actual):
            return False
        return _compare(float(actual), c.op, c.value)
    text, wanted = str(actual), str(c.value)
    if c.op in ("LIKE", "ILIKE"):
        return like(wanted, ignore_case=c.op == "ILIKE").fullmatch(text) is not None
    return _compare(text, c.op, wanted)


def _compare(a: str | float, op: str, b: str | float) -> bool:
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]
