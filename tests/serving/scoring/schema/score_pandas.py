"""A v1 scoring script with a pandas input: the decorator turns the records into a DataFrame."""

import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

SAMPLE = pd.DataFrame({"age": [42], "income": [1000.5], "city": ["Rome"]})


def init():
    pass


@input_schema("Inputs", PandasParameterType(SAMPLE))
@output_schema(StandardPythonParameterType({"rows": 1, "cities": ["Rome"], "mean_income": 1000.5}))
def run(Inputs):
    if not isinstance(Inputs, pd.DataFrame):
        raise TypeError(f"the decorator should have made a DataFrame, not {type(Inputs).__name__}")
    return {"rows": len(Inputs), "cities": sorted(Inputs["city"]), "mean_income": float(Inputs["income"].mean())}
