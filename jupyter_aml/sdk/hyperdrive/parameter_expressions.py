"""Azure ML v1's parameter expressions: each returns the ``[name, [arguments]]`` list v1 used, which is also
how the sweep's space is kept on the parent run (core/hyperdrive_space.py draws the values).

Semantics follow v1: ``loguniform(min_value, max_value)`` is ``exp(uniform(min_value, max_value))``, so its
bounds are *exponents* (``loguniform(-6, -1)`` gives values from e^-6 to e^-1); ``lognormal(mu, sigma)`` is
``exp(normal(mu, sigma))``; the ``q`` forms return ``round(value / q) * q``; ``randint(upper)`` gives a whole
number in ``[0, upper)``; ``choice(*options)`` takes the options, or one list / range / tuple of them.
"""

from __future__ import annotations

import math
from typing import Any

from jupyter_aml.errors import InvalidInput

__all__ = [
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]


def _numbers(kind: str, *values: Any) -> list[float | int]:
    out: list[float | int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput(f"{kind}() takes finite numbers, not {value!r}")
        out.append(value)
    return out


def _bounded(kind: str, min_value: Any, max_value: Any, *rest: Any) -> list[Any]:
    args = _numbers(kind, min_value, max_value, *rest)
    if args[0] >= args[1]:
        raise InvalidInput(f"{kind}() needs min_value < max_value, not {min_value!r} >= {max_value!r}")
    if rest and args[2] <= 0:
        raise InvalidInput(f"{kind}() needs q > 0, not {rest[0]!r}")
    return [kind, args]


def _spread(kind: str, mu: Any, sigma: Any, *rest: Any) -> list[Any]:
    args = _numbers(kind, mu, sigma, *rest)
    if args[1] <= 0:
        raise InvalidInput(f"{kind}() needs sigma > 0, not {sigma!r}")
    if rest and args[2] <= 0:
        raise InvalidInput(f"{kind}() needs q > 0, not {rest[0]!r}")
    return [kind, args]


def choice(*options: Any) -> list[Any]:
    """One of the options: ``choice(16, 32, 64)``, ``choice([0.1, 0.2])`` or ``choice(range(1, 5))``."""
    if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
        options = tuple(options[0])
    if not options:
        raise InvalidInput("choice() needs at least one option")
    for option in options:
        if not isinstance(option, (int, float, str, bool)) or (isinstance(option, float) and not math.isfinite(option)):
            raise InvalidInput(f"choice() options are numbers, strings or booleans, not {option!r}")
    return ["choice", [list(options)]]


def randint(upper: int) -> list[Any]:
    """A whole number in ``[0, upper)``."""
    if isinstance(upper, bool) or not isinstance(upper, int) or upper < 1:
        raise InvalidInput(f"randint() needs a whole upper bound >= 1, not {upper!r}")
    return ["randint", [upper]]


def uniform(min_value: float, max_value: float) -> list[Any]:
    return _bounded("uniform", min_value, max_value)


def quniform(min_value: float, max_value: float, q: float) -> list[Any]:
    return _bounded("quniform", min_value, max_value, q)


def loguniform(min_value: float, max_value: float) -> list[Any]:
    """``exp(uniform(min_value, max_value))``: the bounds are natural-log exponents, as in v1."""
    return _bounded("loguniform", min_value, max_value)


def qloguniform(min_value: float, max_value: float, q: float) -> list[Any]:
    return _bounded("qloguniform", min_value, max_value, q)


def normal(mu: float, sigma: float) -> list[Any]:
    return _spread("normal", mu, sigma)


def qnormal(mu: float, sigma: float, q: float) -> list[Any]:
    return _spread("qnormal", mu, sigma, q)


def lognormal(mu: float, sigma: float) -> list[Any]:
    """``exp(normal(mu, sigma))``."""
    return _spread("lognormal", mu, sigma)


def qlognormal(mu: float, sigma: float, q: float) -> list[Any]:
    return _spread("qlognormal", mu, sigma, q)
