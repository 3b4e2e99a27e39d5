"""HyperDrive (``azureml.train.hyperdrive``): hyperparameter sweeps with Azure ML v1's names.

``Experiment(ws, name).submit(HyperDriveConfig(...))`` creates a parent run; the workspace service runs its
children on the base ScriptRunConfig's compute target, so the sweep goes on when the notebook closes.
See docs/hyperdrive.md.
"""

from jupyter_aml.sdk.hyperdrive.parameter_expressions import (
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from jupyter_aml.sdk.hyperdrive.policy import (
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
)
from jupyter_aml.sdk.hyperdrive.run import HyperDriveRun
from jupyter_aml.sdk.hyperdrive.runconfig import HyperDriveConfig, PrimaryMetricGoal
from jupyter_aml.sdk.hyperdrive.sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    HyperParameterSampling,
    RandomParameterSampling,
)

__all__ = [
    "BanditPolicy",
    "BayesianParameterSampling",
    "EarlyTerminationPolicy",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveRun",
    "HyperParameterSampling",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "TruncationSelectionPolicy",
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
