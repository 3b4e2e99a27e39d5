"""v1's hyperparameter sampling classes: the search space and how points are drawn from it.

The points themselves are drawn in the workspace service (core/hyperdrive_space.py): the sweep goes on when
the notebook is closed. ``BayesianParameterSampling`` uses optuna's TPE sampler (core/hyperdrive_bayes.py).
"""

from __future__ import annotations

import random
from typing import Any

from jupyter_aml.errors import InvalidInput

__all__ = ["BayesianParameterSampling", "GridParameterSampling", "HyperParameterSampling",
           "RandomParameterSampling"]

_KINDS = ("choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal",
          "lognormal", "qlognormal")


class HyperParameterSampling:
    """The base of the sampling classes: a space of ``{name: parameter expression}``."""

    _name = ""
    _supported: tuple[str, ...] = _KINDS
    _label = ""

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None) -> None:
        if not isinstance(parameter_space, dict) or not parameter_space:
            raise InvalidInput("the parameter space is a non-empty dict of {name: expression}",
                               hint="e.g. {'--lr': uniform(0.01, 0.1), '--batch': choice(16, 32)}")
        for name, expression in parameter_space.items():
            if not isinstance(name, str) or not name.strip("-"):
                raise InvalidInput(f"a hyperparameter's name is a string such as '--lr', not {name!r}")
            if not (isinstance(expression, list) and len(expression) == 2 and expression[0] in _KINDS):
                raise InvalidInput(f"{name!r}: {expression!r} is not a parameter expression",
                                   hint="from azureml.train.hyperdrive import choice, uniform, ...")
            if expression[0] not in self._supported:
                raise InvalidInput(
                    f"{self._label} sampling supports only {', '.join(self._supported)}: {name!r} is "
                    f"{expression[0]}", hint="use RandomParameterSampling for other distributions")
        props = dict(properties or {})
        unknown = set(props) - {"seed"}
        if unknown:
            raise InvalidInput(f"unknown sampling properties {sorted(unknown)}",
                               hint="the only property is 'seed' (a whole number that makes the draws repeatable)")
        if "seed" in props and (isinstance(props["seed"], bool) or not isinstance(props["seed"], int)):
            raise InvalidInput(f"the sampling seed is a whole number, not {props['seed']!r}")
        props.setdefault("seed", random.SystemRandom().randrange(2**31))
        self._parameter_space = {name: [e[0], list(e[1])] for name, e in parameter_space.items()}
        self._properties = props

    def to_json(self) -> dict[str, Any]:
        """The ``generator_config`` kept on the HyperDrive run (v1's name)."""
        return {"name": self._name, "parameter_space": self._parameter_space, "properties": self._properties}

    @property
    def parameter_space(self) -> dict[str, Any]:
        return self._parameter_space

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._parameter_space!r})"


class RandomParameterSampling(HyperParameterSampling):
    """Each child gets values drawn at random from every expression."""

    _name = "RANDOM"
    _label = "Random"


class GridParameterSampling(HyperParameterSampling):
    """Every combination of ``choice`` values, in order; the sweep ends with the grid."""

    _name = "GRID"
    _supported = ("choice",)
    _label = "Grid"


class BayesianParameterSampling(HyperParameterSampling):
    """Points chosen from how earlier children did (optuna's TPE). As in v1: choice, uniform and quniform
    only, and no early termination policy."""

    _name = "BAYESIANOPTIMIZATION"
    _supported = ("choice", "uniform", "quniform")
    _label = "Bayesian"
