"""``Pipeline``, ``PipelineRun`` and ``StepRun`` with v1's names (``azureml.pipeline.core``).

``Pipeline(ws, steps)`` collects the steps (with ``resolve_closure``, also the steps that produce what they
read); ``submit`` snapshots each step's source folder (an unchanged folder costs no upload) and posts the
whole graph at once, so the service checks it all before creating anything, then runs it on its own
(core/pipelines.py): closing the notebook does not stop the pipeline.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.pipeline_parallel import ParallelRunConfig, ParallelRunStep
from jupyter_aml.sdk.pipeline_steps import (
    CommandStep,
    PipelineData,
    PipelineParameter,
    PipelineStep,
    PythonScriptStep,
    StepSequence,
    _flatten,
)
from jupyter_aml.sdk.run import Run
from jupyter_aml.sdk.run_watch import ActivityFailedError

if TYPE_CHECKING:
    from jupyter_aml.sdk.experiment import Experiment
    from jupyter_aml.sdk.pipeline_publish import PublishedPipeline
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["CommandStep", "ParallelRunConfig", "ParallelRunStep", "Pipeline", "PipelineData", "PipelineParameter",
           "PipelineRun", "PipelineStep", "PortDataReference", "PythonScriptStep", "StepRun", "StepSequence"]
_TERMINAL = ("Completed", "Failed", "Canceled")
_SUBMIT_OPTIONS = ("pipeline_parameters", "continue_on_step_failure", "regenerate_outputs", "parent_run_id",
                   "credential_passthrough", "display_name", "description")


class Pipeline:
    def __init__(self, workspace: Workspace, steps: list[Any], description: str | None = None,
                 default_datastore: Any = None, default_source_directory: str | None = None,
                 resolve_closure: bool = True, **kwargs: Any) -> None:
        if kwargs:
            raise InvalidInput(f"Pipeline() does not take {sorted(kwargs)}")
        if default_datastore is not None:
            raise InvalidInput("Pipeline(default_datastore=...) is not supported here: give each PipelineData its "
                               "datastore", hint="PipelineData(name, datastore=ds)")
        self.workspace = workspace
        self.description = description or ""
        self.default_source_directory = default_source_directory
        listed = _flatten(list(steps) if isinstance(steps, (list, tuple)) else [steps])
        if not listed:
            raise InvalidInput("a pipeline needs at least one step")
        self._steps = list(listed)
        if resolve_closure:
            queue = list(listed)
            while queue:
                for producer in queue.pop()._producers():
                    if not any(producer is s for s in self._steps):
                        self._steps.append(producer)
                        queue.append(producer)

    @property
    def steps(self) -> list[PipelineStep]:
        return list(self._steps)

    def _body(self, experiment_name: str, pipeline_parameters: dict[str, Any] | None = None,
              continue_on_step_failure: bool = False, regenerate_outputs: bool = False,
              display_name: str = "", description: str | None = None,
              tags: dict[str, Any] | None = None) -> T.PipelineRunCreate:
        snapshots: dict[str, str] = {}
        parameters: dict[str, PipelineParameter] = {}
        steps = [s._spec(self.workspace, self.default_source_directory, snapshots, parameters) for s in self._steps]
        return {
            "experiment": experiment_name, "steps": steps,  # type: ignore[typeddict-item]
            "parameters": [{"name": p.name, "default_value": p.default_value} for p in parameters.values()],
            "parameter_assignments": dict(pipeline_parameters or {}),
            "continue_on_step_failure": bool(continue_on_step_failure), "regenerate_outputs": bool(regenerate_outputs),
            "description": self.description if description is None else description, "display_name": display_name,
            "tags": {k: str(v) for k, v in (tags or {}).items()},
        }

    def validate(self) -> list[str]:
        """Check the pipeline on the service (graph, compute targets, scripts, data) without running it; a
        problem raises naming the steps. Returns the problems left: none (v1 returns a list of errors)."""
        self.workspace._api.validate_pipeline(self.workspace.name, self._body("pipeline-validation"))
        return []

    def submit(self, experiment_name: str, pipeline_parameters: dict[str, Any] | None = None,
               continue_on_step_failure: bool = False, regenerate_outputs: bool = False,
               parent_run_id: str | None = None, credential_passthrough: Any = None, **kwargs: Any) -> PipelineRun:
        """Submit the pipeline as a run of ``experiment_name``; the service runs (or reuses) its steps."""
        from jupyter_aml.sdk.experiment import Experiment

        if parent_run_id is not None:
            raise InvalidInput("parent_run_id is not supported: a pipeline run is a top-level run here")
        if credential_passthrough:
            raise InvalidInput("credential_passthrough is not supported: steps run with their run's own token")
        tags = kwargs.pop("tags", None)
        display_name = str(kwargs.pop("display_name", "") or "")
        description = kwargs.pop("description", None)
        if kwargs:
            raise InvalidInput(f"Pipeline.submit() does not take {sorted(kwargs)}")
        body = self._body(experiment_name, pipeline_parameters, continue_on_step_failure, regenerate_outputs,
                          display_name, description, tags)
        info = self.workspace._api.submit_pipeline(self.workspace.name, body)
        experiment = Experiment(self.workspace, experiment_name)
        return PipelineRun(experiment, info["run"]["id"], _details=info["run"])

    def publish(self, name: str | None = None, description: str | None = None, version: str | None = None,
                continue_on_step_failure: bool | None = None) -> PublishedPipeline:
        """Keep an immutable copy of this pipeline on the service, runnable by id (sdk/pipeline_publish.py)."""
        from jupyter_aml.sdk.pipeline_publish import publish_pipeline

        if not name:
            raise InvalidInput("a published pipeline needs a name", hint="pipeline.publish(name='my-pipeline')")
        spec = self._body("published-pipeline", continue_on_step_failure=bool(continue_on_step_failure))
        return publish_pipeline(self.workspace, {
            "name": name, "description": self.description if description is None else description,
            "version": version, "continue_on_step_failure": continue_on_step_failure, "spec": spec})

    def _submit(self, experiment: Experiment, tags: dict[str, Any] | None, **kwargs: Any) -> PipelineRun:
        """``Experiment.submit(pipeline, pipeline_parameters=..., regenerate_outputs=...)``."""
        unknown = sorted(set(kwargs) - set(_SUBMIT_OPTIONS) - {"properties", "progress"})
        if unknown:
            raise InvalidInput(f"Experiment.submit(pipeline) does not take {unknown}")
        if kwargs.get("properties"):
            raise InvalidInput("properties cannot be set on a pipeline run at submit; use run.add_properties()")
        kwargs.pop("properties", None)
        if callable(kwargs.pop("progress", None)):  # True/False (a bar) is Experiment.submit's default: no bar here
            raise InvalidInput("Experiment.submit(pipeline) takes no progress callback: each step's snapshot is "
                               "uploaded at submit", hint="submit without progress=")
        return self.submit(experiment.name, tags=tags, **kwargs)

    def __repr__(self) -> str:
        return f"Pipeline(steps={[s.name for s in self._steps]!r})"


class PortDataReference:
    """Where a step's output is: ``datastore_name`` and ``path_on_datastore``; ``download`` fetches it."""

    def __init__(self, workspace: Workspace, name: str, datastore_name: str, path_on_datastore: str) -> None:
        self._workspace = workspace
        self.name = name
        self.datastore_name = datastore_name
        self.path_on_datastore = path_on_datastore

    @property
    def datastore(self) -> Any:
        from jupyter_aml.sdk.datastore import Datastore

        return Datastore.get(self._workspace, self.datastore_name)

    def download(self, local_path: str, overwrite: bool = False, show_progress: bool = True) -> str:
        """Download the output's files under ``local_path`` (keeping their datastore paths, as v1); returns
        the folder that holds them."""
        import os

        self.datastore.download(local_path, prefix=self.path_on_datastore, overwrite=overwrite,
                                show_progress=show_progress)
        return os.path.join(local_path, self.path_on_datastore)

    def __repr__(self) -> str:
        return f"PortDataReference(name={self.name!r}, datastore={self.datastore_name!r}, " \
               f"path={self.path_on_datastore!r})"


class StepRun(Run):
    """One step's run of a pipeline run (a reused step's run did not execute: see ``reused_from``)."""

    _state: dict[str, Any]

    @property
    def type(self) -> str:
        return "azureml.StepRun"

    @property
    def name(self) -> str:
        return str(self._state["name"])

    @property
    def reused_from(self) -> str | None:
        """The run whose outputs this step reused, or None when it ran."""
        return self._state.get("reused_from")

    @property
    def reuse_parts(self) -> dict[str, Any]:
        """What the step's reuse key was made of (compare two runs' parts to see why a step re-ran)."""
        return dict(self._state.get("reuse_parts") or {})

    def get_output_data(self, name: str) -> PortDataReference:
        for out in self._state.get("outputs") or []:
            if out["name"] == name:
                return PortDataReference(self.experiment.workspace, name, out["datastore"], out["path_on_datastore"])
        raise InvalidInput(f"step {self.name!r} has no output {name!r}",
                           hint="its outputs: " + ", ".join(o["name"] for o in self._state.get("outputs") or []))

    def get_output(self, name: str) -> PortDataReference:
        return self.get_output_data(name)

    def get_job_log(self) -> str:
        """v1's dump of the step's job log (v1's samples print it for a failed step): every line so far."""
        return "\n".join(str(line["text"]) for line in self.get_logs())

    def get_outputs(self) -> dict[str, PortDataReference]:
        return {o["name"]: self.get_output_data(o["name"]) for o in self._state.get("outputs") or []}


class PipelineRun(Run):
    """A pipeline's parent run: its steps are child runs the service drives."""

    @property
    def type(self) -> str:
        return "azureml.PipelineRun"

    def _pipeline_info(self) -> T.PipelineRunInfo:
        return self.experiment.workspace._api.get_pipeline_run(self.experiment.workspace.name, self.id)

    def get_steps(self) -> list[StepRun]:
        """The steps that have a run (started, finished or reused), latest step first as v1 lists them."""
        found = []
        for state in self._pipeline_info()["steps"]:
            run_id = state.get("run_id")
            if run_id:
                step = StepRun(self.experiment, run_id)
                step._state = dict(state)
                found.append(step)
        return found[::-1]

    def find_step_run(self, name: str) -> list[StepRun]:
        """The runs of the step named ``name`` (a list, as v1; empty when it has not started)."""
        return [s for s in self.get_steps() if s.name == name]

    def get_step_states(self) -> dict[str, str]:
        """Each step's status, NotStarted and Skipped included (not in v1: the graph at a glance)."""
        return {s["name"]: s["status"] for s in self._pipeline_info()["steps"]}

    def wait_for_completion(  # type: ignore[override]  # v1's PipelineRun returns the final status
            self, show_output: bool = True, timeout_seconds: float = sys.maxsize, raise_on_error: bool = True,
            poll_seconds: float = 0.5) -> str:
        """Block until the pipeline ends; with ``show_output``, print each step's status as it changes.
        Returns the final status."""
        seen: dict[str, str] = {}
        deadline = time.monotonic() + timeout_seconds
        while True:
            info = self._pipeline_info()
            status = str(info["run"]["status"])
            if show_output:
                for step in info["steps"]:
                    label = step["status"] + (f" (reused from {step['reused_from']})" if step.get("reused_from")
                                              else "")
                    if seen.get(step["name"]) != label:
                        seen[step["name"]] = label
                        print(f"StepRun( {step['name']} ) Status: {label}", flush=True)
            if status in _TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(poll_seconds)
        if show_output:
            print(f"\nPipelineRun {self.id} Status: {status}", flush=True)
        if raise_on_error and status in ("Failed", "Canceled"):
            failure: dict[str, Any] = dict(info["run"].get("error") or {})
            error = failure.get("message") or status
            raise ActivityFailedError(f"pipeline run {self.id} ended {status}: {error}",
                                      hint="see each step with pipeline_run.get_steps()",
                                      details=info["run"].get("error"))
        return status

    def publish_pipeline(self, name: str, description: str, version: str,
                         continue_on_step_failure: bool | None = None, **kwargs: Any) -> PublishedPipeline:
        """Publish the pipeline this run ran, as it was submitted (sdk/pipeline_publish.py)."""
        from jupyter_aml.sdk.pipeline_publish import publish_pipeline

        if kwargs:
            raise InvalidInput(f"publish_pipeline() does not take {sorted(kwargs)}")
        return publish_pipeline(self.experiment.workspace, {
            "name": name, "description": description or "", "version": version,
            "continue_on_step_failure": continue_on_step_failure, "run_id": self.id})

    def __repr__(self) -> str:
        return f"PipelineRun(experiment={self.experiment.name!r}, id={self.id!r})"
