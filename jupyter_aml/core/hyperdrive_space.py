"""A HyperDrive sweep's configuration as it is kept on its parent run, and how points are drawn from its space.

The configuration lives in the parent run's properties, under Azure ML v1's own names
(``generator_config``, ``primary_metric_config``, ``policy_config``, ``max_total_jobs``,
``max_concurrent_jobs``, ``max_duration_minutes``), so a restarted service resumes a sweep from what is stored
and ``run.get_properties()`` reads as it does on Azure. Parameter expressions keep v1's JSON shape:
``{"--lr": ["loguniform", [-6, -1]], "--batch": ["choice", [[16, 32]]]}``.

Every draw is a pure function of what is stored: random sample ``i`` comes from a generator seeded with
``(seed, i)``, the grid is enumerated in a fixed order, and bayesian suggestions rebuild optuna's TPE study
from the children's recorded hyperparameters and results. Nothing needs to survive in memory.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from jupyter_aml.errors import InvalidInput

RUNSOURCE = "hyperdrive"  # the parent's ``azureml.runsource`` property, as v1 sets it
PROPERTY_KEYS = ("generator_config", "primary_metric_config", "policy_config", "max_total_jobs",
                 "max_concurrent_jobs", "max_duration_minutes")
MAX_PROPERTY_CHARS = 5000  # a run property's limit (core/models.py StrMap)

# expression name -> (number of arguments, continuous?)
EXPRESSIONS: dict[str, tuple[int, bool]] = {
    "choice": (1, False), "randint": (1, False),
    "uniform": (2, True), "loguniform": (2, True), "normal": (2, True), "lognormal": (2, True),
    "quniform": (3, True), "qloguniform": (3, True), "qnormal": (3, True), "qlognormal": (3, True),
}
GRID_EXPRESSIONS = frozenset({"choice"})
BAYESIAN_EXPRESSIONS = frozenset({"choice", "uniform", "quniform"})
POLICIES = ("Bandit", "MedianStopping", "TruncationSelection", "Default")

Value = int | float | str | bool | None


class Generator(BaseModel):
    name: Literal["RANDOM", "GRID", "BAYESIANOPTIMIZATION"]
    parameter_space: dict[str, list[Any]] = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Generator:
        for name, expression in self.parameter_space.items():
            check_expression(name, expression)
        allowed = {"RANDOM": None, "GRID": GRID_EXPRESSIONS, "BAYESIANOPTIMIZATION": BAYESIAN_EXPRESSIONS}[self.name]
        bad = {n: e[0] for n, e in self.parameter_space.items() if allowed is not None and e[0] not in allowed}
        if bad:
            what = {"GRID": "Grid", "BAYESIANOPTIMIZATION": "Bayesian"}[self.name]
            raise ValueError(f"{what} sampling supports only {', '.join(sorted(allowed or ()))} expressions; "
                             + ", ".join(f"{n!r} is {k}" for n, k in bad.items()))
        unknown = set(self.properties) - {"seed"}
        if unknown:
            raise ValueError(f"unknown sampling properties {sorted(unknown)}: the only one is 'seed'")
        return self


class PrimaryMetric(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    goal: Literal["maximize", "minimize"]


class Policy(BaseModel):
    name: Literal["Bandit", "MedianStopping", "TruncationSelection", "Default"]
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Policy:
        p = self.properties
        allowed = {"Bandit": {"evaluation_interval", "delay_evaluation", "slack_factor", "slack_amount"},
                   "MedianStopping": {"evaluation_interval", "delay_evaluation"},
                   "TruncationSelection": {"evaluation_interval", "delay_evaluation", "truncation_percentage",
                                           "exclude_finished_jobs"},
                   "Default": set()}[self.name]
        unknown = set(p) - allowed
        if unknown:
            raise ValueError(f"{self.name} policy has no properties {sorted(unknown)}")
        for key in ("evaluation_interval", "delay_evaluation"):
            if key in p and (not isinstance(p[key], int) or isinstance(p[key], bool) or p[key] < (key[0] == "e")):
                raise ValueError(f"{key} must be a whole number >= {int(key[0] == 'e')}, not {p[key]!r}")
        if self.name == "Bandit":
            given = [k for k in ("slack_factor", "slack_amount") if p.get(k) is not None]
            if len(given) != 1:
                raise ValueError("BanditPolicy needs exactly one of slack_factor and slack_amount")
            if not _number(p[given[0]]) or p[given[0]] < 0:
                raise ValueError(f"{given[0]} must be a number >= 0, not {p[given[0]]!r}")
        if self.name == "TruncationSelection":
            pct = p.get("truncation_percentage")
            if not isinstance(pct, int) or isinstance(pct, bool) or not 1 <= pct <= 99:
                raise ValueError(f"truncation_percentage must be a whole number from 1 to 99, not {pct!r}")
        return self


class SweepConfig(BaseModel):
    generator: Generator
    primary_metric: PrimaryMetric
    policy: Policy = Field(default_factory=lambda: Policy(name="Default"))
    max_total_runs: int = Field(ge=1, le=1000)
    max_concurrent_runs: int = Field(ge=1, le=100)
    max_duration_minutes: float = Field(gt=0)

    @model_validator(mode="after")
    def _check(self) -> SweepConfig:
        if self.generator.name == "BAYESIANOPTIMIZATION" and self.policy.name != "Default":
            raise ValueError(f"Bayesian sampling does not support early termination policies ({self.policy.name}"
                             "Policy was given): use policy=None or NoTerminationPolicy()")
        return self

    @property
    def seed(self) -> int:
        return int(self.generator.properties.get("seed", 0))

    def to_properties(self) -> dict[str, str]:
        props = {
            "generator_config": _dumps(self.generator.model_dump()),
            "primary_metric_config": _dumps(self.primary_metric.model_dump()),
            "policy_config": _dumps(self.policy.model_dump()),
            "max_total_jobs": str(self.max_total_runs),
            "max_concurrent_jobs": str(self.max_concurrent_runs),
            "max_duration_minutes": _dumps(self.max_duration_minutes),
        }
        for key, value in props.items():
            if len(value) > MAX_PROPERTY_CHARS:
                raise InvalidInput(f"the HyperDrive {key} is {len(value)} characters; a run keeps at most "
                                   f"{MAX_PROPERTY_CHARS}", hint="use fewer choices (a range as randint/quniform)")
        return props

    @classmethod
    def from_properties(cls, props: Mapping[str, str]) -> SweepConfig:
        missing = [k for k in PROPERTY_KEYS if k not in props]
        if missing:
            raise InvalidInput(f"a HyperDrive run needs the properties {missing}",
                               hint="submit it with Experiment(ws, name).submit(HyperDriveConfig(...))")
        try:
            return cls(
                generator=json.loads(props["generator_config"]),
                primary_metric=json.loads(props["primary_metric_config"]),
                policy=json.loads(props["policy_config"]),
                max_total_runs=int(props["max_total_jobs"]),
                max_concurrent_runs=int(props["max_concurrent_jobs"]),
                max_duration_minutes=float(props["max_duration_minutes"]),
            )
        except ValidationError as exc:
            raise InvalidInput("invalid HyperDrive configuration: " + "; ".join(
                f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())) from None
        except ValueError as exc:
            raise InvalidInput(f"invalid HyperDrive configuration: {exc}") from None

    # -- drawing points ----------------------------------------------------------------------------------
    def grid(self) -> list[dict[str, Value]]:
        names = list(self.generator.parameter_space)
        options = [self.generator.parameter_space[n][1][0] for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*options)]

    def total_runs(self) -> int:
        """How many children the sweep makes at most: a grid smaller than max_total_runs ends with it."""
        if self.generator.name == "GRID":
            return min(self.max_total_runs, math.prod(len(e[1][0]) for e in self.generator.parameter_space.values()))
        return self.max_total_runs

    def point(self, index: int, history: Sequence[tuple[Mapping[str, Any], float]] = (),
              pending: Sequence[Mapping[str, Any]] = ()) -> dict[str, Value]:
        """The hyperparameters of child ``index`` (0-based). Bayesian points depend on ``history`` (the
        finished children's hyperparameters and best primary metric) and ``pending`` (those still running)."""
        if self.generator.name == "GRID":
            return self.grid()[index]
        if self.generator.name == "RANDOM":
            rng = random.Random(f"{self.seed}:{index}")
            return {name: draw(expr, rng) for name, expr in self.generator.parameter_space.items()}
        from jupyter_aml.core.hyperdrive_bayes import suggest

        return suggest(self.generator.parameter_space, seed=self.seed + index, goal=self.primary_metric.goal,
                       history=history, pending=pending)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def check_expression(name: str, expression: Any) -> None:
    """One ``[kind, [args...]]`` expression, as v1's parameter_expressions build them."""
    if not (isinstance(expression, list) and len(expression) == 2 and isinstance(expression[1], list)
            and expression[0] in EXPRESSIONS):
        raise ValueError(f"{name!r}: {expression!r} is not a parameter expression "
                         f"(one of {', '.join(EXPRESSIONS)}, e.g. ['uniform', [0, 1]])")
    kind, args = expression
    count, _continuous = EXPRESSIONS[kind]
    if len(args) != count:
        raise ValueError(f"{name!r}: {kind} takes {count} argument(s), not {len(args)}")
    if kind == "choice":
        options = args[0]
        if not isinstance(options, list) or not options:
            raise ValueError(f"{name!r}: choice needs at least one option")
        if any(isinstance(o, (list, dict)) for o in options):
            raise ValueError(f"{name!r}: choice options must be numbers, strings or booleans")
        return
    if not all(_number(a) for a in args):
        raise ValueError(f"{name!r}: {kind}'s arguments must be finite numbers, not {args!r}")
    if kind == "randint":
        if not isinstance(args[0], int) or args[0] < 1:
            raise ValueError(f"{name!r}: randint(upper) needs a whole upper bound >= 1, not {args[0]!r}")
        return
    if kind in ("uniform", "loguniform", "quniform", "qloguniform") and args[0] >= args[1]:
        raise ValueError(f"{name!r}: {kind} needs min_value < max_value, not {args[0]!r} >= {args[1]!r}")
    if kind in ("normal", "lognormal", "qnormal", "qlognormal") and args[1] <= 0:
        raise ValueError(f"{name!r}: {kind} needs sigma > 0, not {args[1]!r}")
    if kind.startswith("q") and args[2] <= 0:
        raise ValueError(f"{name!r}: {kind} needs q > 0, not {args[2]!r}")


def quantize(value: float, q: float) -> float:
    """``round(value / q) * q``, without the float noise of the product (0.30000000000000004)."""
    digits = max(0, -math.floor(math.log10(q))) + 6 if q < 1 else 6
    return round(round(value / q) * q, digits)


def draw(expression: list[Any], rng: random.Random) -> Value:
    """One value of an expression, with v1's semantics: ``loguniform(a, b)`` is ``exp(uniform(a, b))`` (its
    bounds are exponents), the ``q`` forms round to multiples of ``q``, ``randint(n)`` is in ``[0, n)``."""
    kind, args = expression
    if kind == "choice":
        return rng.choice(args[0])  # type: ignore[no-any-return]
    if kind == "randint":
        return rng.randrange(int(args[0]))
    if kind in ("uniform", "quniform"):
        value = rng.uniform(args[0], args[1])
    elif kind in ("loguniform", "qloguniform"):
        value = math.exp(rng.uniform(args[0], args[1]))
    elif kind in ("normal", "qnormal"):
        value = rng.gauss(args[0], args[1])
    else:  # lognormal, qlognormal
        value = math.exp(rng.gauss(args[0], args[1]))
    return quantize(value, args[2]) if kind.startswith("q") else value


def as_arguments(hyperparameters: Mapping[str, Value]) -> list[str]:
    """v1 appends each sampled value to the script's arguments: ``--lr 0.01`` (a name without a leading dash
    gets ``--``)."""
    out: list[str] = []
    for name, value in hyperparameters.items():
        out += [name if name.startswith("-") else f"--{name}", _argument(value)]
    return out


def _argument(value: Value) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)
