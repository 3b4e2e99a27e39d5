"""v1's early termination policies. They are evaluated in the workspace service on the primary metric as
the children log it (core/hyperdrive_policy.py); a child they end is Canceled with the policy's reason."""

from __future__ import annotations

import math
from typing import Any

from jupyter_aml.errors import InvalidInput

__all__ = ["BanditPolicy", "EarlyTerminationPolicy", "MedianStoppingPolicy", "NoTerminationPolicy",
           "TruncationSelectionPolicy"]


def _whole(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput(f"{name} must be a whole number >= {low}, not {value!r}")
    return value


class EarlyTerminationPolicy:
    _name = "Default"

    def __init__(self, properties: dict[str, Any] | None = None) -> None:
        self._properties = dict(properties or {})

    def to_json(self) -> dict[str, Any]:
        """The ``policy_config`` kept on the HyperDrive run (v1's name)."""
        return {"name": self._name, "properties": self._properties}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._properties.items())
        return f"{type(self).__name__}({args})"


class NoTerminationPolicy(EarlyTerminationPolicy):
    """Every child runs to its end."""

    def __init__(self) -> None:
        super().__init__()


class BanditPolicy(EarlyTerminationPolicy):
    """Ends a child whose best primary metric falls outside ``slack_factor`` (a ratio) or ``slack_amount``
    (an absolute distance) of the best child's, at every ``evaluation_interval``-th logged value from
    ``delay_evaluation`` on."""

    _name = "Bandit"

    def __init__(self, evaluation_interval: int = 1, slack_factor: float | None = None,
                 slack_amount: float | None = None, delay_evaluation: int = 0) -> None:
        if (slack_factor is None) == (slack_amount is None):
            raise InvalidInput("BanditPolicy takes exactly one of slack_factor and slack_amount",
                               hint="e.g. BanditPolicy(slack_factor=0.1, evaluation_interval=1)")
        slack = slack_factor if slack_factor is not None else slack_amount
        if isinstance(slack, bool) or not isinstance(slack, (int, float)) or not math.isfinite(slack) or slack < 0:
            raise InvalidInput(f"the slack must be a number >= 0, not {slack!r}")
        props: dict[str, Any] = {"evaluation_interval": _whole("evaluation_interval", evaluation_interval, 1),
                                 "delay_evaluation": _whole("delay_evaluation", delay_evaluation, 0)}
        props["slack_factor" if slack_factor is not None else "slack_amount"] = float(slack)
        super().__init__(props)

    @property
    def slack_factor(self) -> float | None:
        return self._properties.get("slack_factor")

    @property
    def slack_amount(self) -> float | None:
        return self._properties.get("slack_amount")


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Ends a child whose best primary metric is worse than the median of all children's running averages."""

    _name = "MedianStopping"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        super().__init__({"evaluation_interval": _whole("evaluation_interval", evaluation_interval, 1),
                          "delay_evaluation": _whole("delay_evaluation", delay_evaluation, 0)})


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """At each evaluation, ends the children in the lowest ``truncation_percentage`` percent."""

    _name = "TruncationSelection"

    def __init__(self, truncation_percentage: int, evaluation_interval: int = 1, delay_evaluation: int = 0,
                 exclude_finished_jobs: bool = False) -> None:
        pct = _whole("truncation_percentage", truncation_percentage, 1)
        if pct > 99:
            raise InvalidInput(f"truncation_percentage must be from 1 to 99, not {pct}")
        super().__init__({"truncation_percentage": pct,
                          "evaluation_interval": _whole("evaluation_interval", evaluation_interval, 1),
                          "delay_evaluation": _whole("delay_evaluation", delay_evaluation, 0),
                          "exclude_finished_jobs": bool(exclude_finished_jobs)})
