"""``azureml.exceptions`` provided by jupyter-aml: v1 scripts catch these names; they are the project's errors.

``UserErrorException`` catches every 4xx answer (bad input, unknown ids, refused access, conflicts);
``AzureMLException`` catches everything the project raises on purpose.
"""

from jupyter_aml.errors import AMLError as AzureMLException
from jupyter_aml.errors import ServiceUnavailable
from jupyter_aml.errors import UserError as UserErrorException
from jupyter_aml.sdk.compute import ComputeTargetException
from jupyter_aml.sdk.model import ModelNotFound as ModelNotFoundException
from jupyter_aml.sdk.model import WebserviceException
from jupyter_aml.sdk.run import ActivityFailedException

ServiceException = ServiceUnavailable

__all__ = [
    "ActivityFailedException",
    "AzureMLException",
    "ComputeTargetException",
    "ModelNotFoundException",
    "ServiceException",
    "UserErrorException",
    "WebserviceException",
]
