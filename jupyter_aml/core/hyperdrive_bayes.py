"""BayesianParameterSampling with optuna's TPE sampler (Tree-structured Parzen Estimator).

Azure ML v1 did not say which Bayesian optimizer it used; here it is optuna's TPE, a well-kept library whose
sampler can be rebuilt from recorded trials. Each suggestion builds a fresh in-memory study from the sweep's
children (their hyperparameters and best primary metric: ``history``; children still running: ``pending``,
told to TPE through its constant-liar option so concurrent children spread out) and asks it once, so a
restarted service resumes the sweep from the runs alone.

The first ``n_startup`` points are random (TPE needs observations to model); the rest follow the model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from jupyter_aml.core.hyperdrive_space import Value, quantize

log = logging.getLogger(__name__)


def _distributions(space: Mapping[str, list[Any]]) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    out: dict[str, Any] = {}
    for name, (kind, args) in space.items():
        if kind == "choice":
            out[name] = CategoricalDistribution(list(args[0]))
        else:  # uniform, quniform (the space was checked: bayesian takes only these)
            out[name] = FloatDistribution(float(args[0]), float(args[1]))
    return out


def n_startup(space: Mapping[str, list[Any]]) -> int:
    """Random points before TPE takes over: a few per dimension, at least 2 and at most optuna's 10."""
    return max(2, min(10, 2 * len(space)))


def _internal(name: str, value: Any, dist: Any) -> Any:
    """A recorded value as the distribution holds it (a quantized value may lie just past a bound)."""
    from optuna.distributions import FloatDistribution

    if isinstance(dist, FloatDistribution):
        return min(max(float(value), dist.low), dist.high)
    return value


def suggest(space: Mapping[str, list[Any]], *, seed: int, goal: str,
            history: Sequence[tuple[Mapping[str, Any], float]],
            pending: Sequence[Mapping[str, Any]] = ()) -> dict[str, Value]:
    import optuna
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = _distributions(space)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup(space), constant_liar=True)
    study = optuna.create_study(direction="maximize" if goal == "maximize" else "minimize", sampler=sampler)
    for params, value in history:
        if not math.isfinite(value):
            continue
        try:
            study.add_trial(create_trial(
                params={n: _internal(n, params[n], d) for n, d in dists.items()}, distributions=dists, value=value))
        except (KeyError, ValueError) as exc:  # a child whose values are not of this space: not evidence
            log.warning("bayesian sampling skips a trial: %s", exc)
    for params in pending:
        try:
            study.add_trial(create_trial(params={n: _internal(n, params[n], d) for n, d in dists.items()},
                                         distributions=dists, state=TrialState.RUNNING))
        except (KeyError, ValueError) as exc:
            log.warning("bayesian sampling skips a running trial: %s", exc)
    trial = study.ask(dists)
    out: dict[str, Value] = {}
    for name, (kind, args) in space.items():
        value = trial.params[name]
        out[name] = quantize(float(value), float(args[2])) if kind == "quniform" else value
    return out
