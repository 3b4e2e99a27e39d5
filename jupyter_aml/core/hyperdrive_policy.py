"""HyperDrive's early termination policies, as pure functions of the children's primary-metric series.

Each time a child logs the primary metric counts as one *interval* (v1's definition). A policy looks at an
active child at its latest interval ``k`` that is a multiple of ``evaluation_interval`` and at least
``delay_evaluation``, and compares it with every child (running or finished) that reached interval ``k``:

- **Bandit**: the child's best value up to ``k`` is compared with the best value any child had up to ``k``;
  it ends when ``best_own * (1 + slack_factor) < best`` (maximize; minimize: ``best_own / (1 + slack_factor)
  > best``), or with ``slack_amount``, when it is more than that amount worse.
- **MedianStopping**: the child ends when its best value up to ``k`` is worse than the median of the
  children's running averages over intervals ``1..k``.
- **TruncationSelection**: the children at ``k`` are ranked by their best value up to ``k``; the lowest
  ``truncation_percentage`` percent (rounded down) end, finished children counted unless
  ``exclude_finished_jobs``.
- **Default** (NoTerminationPolicy): nothing ends early.

The functions return the children to end, each with a reason naming the policy and the numbers, which becomes
the Canceled child's error message. The service re-evaluates whenever a child logs or ends.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trial:
    run_id: str
    values: Sequence[float]  # the primary metric, in logged order (finite numbers only)
    active: bool


@dataclass(frozen=True)
class Termination:
    run_id: str
    reason: str


def _best(values: Sequence[float], maximize: bool) -> float:
    return max(values) if maximize else min(values)


def eligible_interval(count: int, evaluation_interval: int, delay_evaluation: int) -> int | None:
    """The latest interval ``k <= count`` the policy applies at: a multiple of evaluation_interval that is at
    least delay_evaluation (None: not yet)."""
    step = max(1, evaluation_interval)
    k = (count // step) * step
    return k if k >= max(1, delay_evaluation) else None


def evaluate(name: str, properties: Mapping[str, Any], goal: str, metric: str,
             trials: Sequence[Trial]) -> list[Termination]:
    """The active trials the policy ends now."""
    if name == "Default":
        return []
    maximize = goal == "maximize"
    interval = int(properties.get("evaluation_interval", 1))
    delay = int(properties.get("delay_evaluation", 0))
    out = []
    for trial in trials:
        if not trial.active:
            continue
        k = eligible_interval(len(trial.values), interval, delay)
        if k is None:
            continue
        peers = [t for t in trials if len(t.values) >= k]
        reason = _RULES[name](trial, peers, k, maximize, metric, properties)
        if reason:
            out.append(Termination(trial.run_id, reason))
    return out


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _bandit(trial: Trial, peers: Sequence[Trial], k: int, maximize: bool, metric: str,
            p: Mapping[str, Any]) -> str | None:
    own = _best(trial.values[:k], maximize)
    leader = max(peers, key=lambda t: _best(t.values[:k], maximize) * (1 if maximize else -1))
    best = _best(leader.values[:k], maximize)
    if p.get("slack_factor") is not None:
        factor = float(p["slack_factor"])
        limit = best / (1 + factor) if maximize else best * (1 + factor)
        slack = f"slack_factor={_fmt(factor)}"
    else:
        amount = float(p["slack_amount"])
        limit = best - amount if maximize else best + amount
        slack = f"slack_amount={_fmt(amount)}"
    if (own < limit) if maximize else (own > limit):
        return (f"early termination by BanditPolicy({slack}, evaluation_interval={p.get('evaluation_interval', 1)}, "
                f"delay_evaluation={p.get('delay_evaluation', 0)}): at interval {k} its best {metric} "
                f"{_fmt(own)} is {'below' if maximize else 'above'} {_fmt(limit)}, the slack of the best run "
                f"{leader.run_id}'s {_fmt(best)}")
    return None


def _median(trial: Trial, peers: Sequence[Trial], k: int, maximize: bool, metric: str,
            p: Mapping[str, Any]) -> str | None:
    own = _best(trial.values[:k], maximize)
    median = statistics.median(statistics.fmean(t.values[:k]) for t in peers)
    if (own < median) if maximize else (own > median):
        return (f"early termination by MedianStoppingPolicy(evaluation_interval={p.get('evaluation_interval', 1)}, "
                f"delay_evaluation={p.get('delay_evaluation', 0)}): at interval {k} its best {metric} {_fmt(own)} "
                f"is {'below' if maximize else 'above'} {_fmt(median)}, the median of {len(peers)} runs' running "
                "averages")
    return None


def _truncation(trial: Trial, peers: Sequence[Trial], k: int, maximize: bool, metric: str,
                p: Mapping[str, Any]) -> str | None:
    pct = int(p["truncation_percentage"])
    ranked = [t for t in peers if t.active or not p.get("exclude_finished_jobs", False)]
    if trial not in ranked:
        ranked.append(trial)
    cut = len(ranked) * pct // 100
    if cut < 1:
        return None
    ranked.sort(key=lambda t: _best(t.values[:k], maximize), reverse=not maximize)  # worst first
    lowest = ranked[:cut]
    if trial in lowest:
        own = _best(trial.values[:k], maximize)
        return (f"early termination by TruncationSelectionPolicy(truncation_percentage={pct}, evaluation_interval="
                f"{p.get('evaluation_interval', 1)}, delay_evaluation={p.get('delay_evaluation', 0)}): at interval "
                f"{k} its best {metric} {_fmt(own)} is among the lowest {pct}% ({cut} of {len(ranked)} runs)")
    return None


_RULES = {"Bandit": _bandit, "MedianStopping": _median, "TruncationSelection": _truncation}
