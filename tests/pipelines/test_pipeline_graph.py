"""The pipeline graph checks (core/pipelines_graph.py) on submitted specs, without a service: names,
producers, cycles, parameters and their types."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from jupyter_aml.core.pipelines_graph import order, parameter_values, substitute
from jupyter_aml.core.pipelines_models import PipelineRunCreate
from jupyter_aml.errors import InvalidInput, ValidationError

SNAP = "0" * 64


def _step(name: str, *, outputs: list[str] = (), inputs: list[tuple[str, str]] = (), after: list[str] = (),
          args: list[str] = (), **extra: Any) -> dict[str, Any]:
    return {"name": name, "snapshot_id": SNAP, "run_after": list(after),
            "run_config": {"script": "s.py", "arguments": list(args), "outputs": [{"name": o} for o in outputs]},
            "inputs": [{"name": n, "source": s} for n, s in inputs], **extra}


def _spec(*steps: dict[str, Any], **extra: Any) -> PipelineRunCreate:
    return PipelineRunCreate.model_validate({"experiment": "e", "steps": list(steps), **extra})


def test_steps_run_in_dependency_order() -> None:
    spec = _spec(_step("c", inputs=[("x", "b_out")]), _step("b", outputs=["b_out"], inputs=[("y", "a_out")]),
                 _step("a", outputs=["a_out"]), _step("d", after=["a"]))
    assert order(spec) == ["a", "b", "d", "c"]


@pytest.mark.parametrize(("steps", "message"), [
    ([_step("a"), _step("a")], r"step name\(s\) \['a'\] are used more than once"),
    ([_step("a", outputs=["o"]), _step("b", outputs=["o"])], "output 'o' is written by both step 'a' and step 'b'"),
    ([_step("a", inputs=[("x", "nothing")])], "step 'a' reads 'nothing', which no step"),
    ([_step("a", after=["ghost"])], "step 'a' runs after 'ghost', which is not a step"),
    ([_step("a", outputs=["o"], inputs=[("o", "o")])], r"uses the input/output name\(s\) \['o'\] more than once"),
    ([_step("a", after=["b"]), _step("b", after=["a"])], r"cycle through steps \['a', 'b', 'a'\]"),
])
def test_bad_graphs_name_their_steps(steps: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        order(_spec(*steps))


def test_parameters_keep_their_default_types() -> None:
    params = [{"name": "n", "default_value": 3}, {"name": "lr", "default_value": 0.5},
              {"name": "flag", "default_value": True}, {"name": "label", "default_value": "x"}]
    step = _step("a", args=["PipelineParameter:n", "PipelineParameter:lr"], params={"flag": "PipelineParameter:flag"})
    values = parameter_values(_spec(step, parameters=params, parameter_assignments={"lr": 2, "label": "y"}))
    assert values == {"n": 3, "lr": 2.0, "flag": True, "label": "y"}
    assert substitute("PipelineParameter:lr", values) == "2.0" and substitute("--lr", values) == "--lr"
    for wrong in ({"n": True}, {"n": 1.5}, {"flag": 1}, {"label": 3}, {"lr": "fast"}):
        with pytest.raises(ValidationError, match=r"is a (int|float|bool|str)"):
            parameter_values(_spec(step, parameters=params, parameter_assignments=wrong))
    with pytest.raises(ValidationError, match="uses PipelineParameter 'missing'"):
        parameter_values(_spec(_step("a", args=["PipelineParameter:missing"])))


def test_params_names_are_identifiers() -> None:
    with pytest.raises(pydantic.ValidationError, match="must be a Python identifier"):
        _spec(_step("a", params={"not ok": "1"}))


def test_a_step_output_as_input_is_refused_outside_a_pipeline(tmp_path) -> None:
    from jupyter_aml.sdk import OutputFileDatasetConfig, ScriptRunConfig

    (tmp_path / "s.py").write_text("")
    src = ScriptRunConfig(str(tmp_path), "s.py", arguments=["--data", OutputFileDatasetConfig("prepared").as_input()])
    with pytest.raises(InvalidInput, match="input 'prepared' is another pipeline step's output"):
        src.run_config.to_rest(None)


def test_a_compute_target_tuple_names_the_target() -> None:
    from jupyter_aml.sdk.pipeline import PythonScriptStep

    assert PythonScriptStep("s.py", compute_target=("cpu-cluster", "AmlCompute")).compute_target == "cpu-cluster"
