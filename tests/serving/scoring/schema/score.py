"""A v1 scoring script with inference-schema decorators, as Azure's samples write them: a numpy input, an
optional standard-Python parameter and a numpy output."""

import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

weights = None


def init():
    global weights
    weights = np.array([1.0, 10.0])


@input_schema("data", NumpyParameterType(np.array([[0.5, 1.5]])))
@input_schema("scale", StandardPythonParameterType(1.0), optional=True)
@output_schema(NumpyParameterType(np.array([16.0])))
def run(data, scale=1.0):
    if not isinstance(data, np.ndarray):
        raise TypeError(f"the decorator should have made a numpy array, not {type(data).__name__}")
    if float(scale) < 0:
        raise ValueError("a negative scale is the script's own failure")
    return data @ weights * float(scale)
