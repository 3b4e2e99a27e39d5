"""The user-facing SDK, with Azure ML v1's names. Stdlib-only at import so it works inside any run."""

from jupyter_aml.sdk.compute import (
    AmlCompute,
    AmlComputeNodeStateCounts,
    AmlComputeProvisioningConfiguration,
    AmlComputeStatus,
    ComputeInstance,
    ComputeInstanceProvisioningConfiguration,
    ComputeInstanceStatus,
    ComputeTarget,
    ComputeTargetException,
    ComputeTargetProvisioningConfiguration,
    ScaleSettings,
)
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.datapath import DataPath
from jupyter_aml.sdk.dataset import Dataset, DataType, FileDataset, TabularDataset
from jupyter_aml.sdk.dataset_consumption import DatasetConsumptionConfig, OutputFileDatasetConfig
from jupyter_aml.sdk.datastore import Datastore
from jupyter_aml.sdk.environment import Environment
from jupyter_aml.sdk.experiment import Experiment, ViewType
from jupyter_aml.sdk.keyvault import Keyvault
from jupyter_aml.sdk.model import Model
from jupyter_aml.sdk.offline import OfflineRun
from jupyter_aml.sdk.queries import ExperimentSummary, RunPage
from jupyter_aml.sdk.run import (
    ActivityFailedError,
    ActivityFailedException,
    Run,
    RunCanceledError,
    RunEnvironmentException,
)
from jupyter_aml.sdk.run_configuration import RunConfiguration
from jupyter_aml.sdk.run_events import RunEvents
from jupyter_aml.sdk.runconfig import DockerConfiguration
from jupyter_aml.sdk.script_run import ScriptRun
from jupyter_aml.sdk.webservice import (
    AciWebservice,
    AksCompute,
    AksWebservice,
    DockerWebservice,
    InferenceConfig,
    LocalWebservice,
    Webservice,
)
from jupyter_aml.sdk.workspace import Workspace

__all__ = [
    "AciWebservice",
    "ActivityFailedError",
    "ActivityFailedException",
    "AksCompute",
    "AksWebservice",
    "AmlCompute",
    "AmlComputeNodeStateCounts",
    "AmlComputeProvisioningConfiguration",
    "AmlComputeStatus",
    "ComputeInstance",
    "ComputeInstanceProvisioningConfiguration",
    "ComputeInstanceStatus",
    "ComputeTarget",
    "ComputeTargetException",
    "ComputeTargetProvisioningConfiguration",
    "DataPath",
    "DataType",
    "Dataset",
    "DatasetConsumptionConfig",
    "Datastore",
    "DockerConfiguration",
    "DockerWebservice",
    "Environment",
    "Experiment",
    "ExperimentSummary",
    "FileDataset",
    "InferenceConfig",
    "Keyvault",
    "LocalWebservice",
    "Model",
    "OfflineRun",
    "OutputFileDatasetConfig",
    "Run",
    "RunCanceledError",
    "RunConfiguration",
    "RunEnvironmentException",
    "RunEvents",
    "RunPage",
    "ScaleSettings",
    "ScriptRun",
    "ScriptRunConfig",
    "TabularDataset",
    "ViewType",
    "Webservice",
    "Workspace",
]
