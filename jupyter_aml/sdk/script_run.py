"""``ScriptRun``: the run ``Experiment.submit(ScriptRunConfig)`` returns, as in v1 (``azureml.core.script_run``).

v1 code checks ``isinstance(run, ScriptRun)`` and imports the name; here it is a ``Run`` that also knows the
folder it was submitted from, and every run record of a submitted script comes back as one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_aml.sdk.run import Run

if TYPE_CHECKING:
    from jupyter_aml.sdk.experiment import Experiment

__all__ = ["ScriptRun"]


class ScriptRun(Run):
    RUN_TYPE = "azureml.scriptrun"

    def __init__(self, experiment: Experiment, run_id: str, directory: str | None = None,
                 _run_config: Any = None, **kwargs: Any) -> None:
        super().__init__(experiment, run_id, **kwargs)
        self.directory = directory  # the source folder, when this process submitted the run
        self._run_config = _run_config


Run._classes["script"] = ScriptRun
