"""A v1 driver notebook's run cells in a real kernel: submit through the azureml shim, get a ScriptRun, show
``azureml.widgets.RunDetails(run).show()`` (the live widget), and ``Run.get_context(allow_offline=False)``
refusing outside a run with v1's exception."""

from __future__ import annotations

from tests.kernel.conftest import Kernel

WIDGET = "application/vnd.jupyter.widget-view+json"


def run_id_of(reply) -> str:
    return reply.stdout.split("run id: ", 1)[1].split()[0]


def test_v1_cells_submit_show_the_widget_and_refuse_a_missing_context(kernel: Kernel, workspace) -> None:
    k = kernel
    (k.folder / "train.py").write_text(  # type: ignore[attr-defined]
        "from azureml.core import Run\nrun = Run.get_context()\nprint('training')\nrun.log('accuracy', 0.9)\n")
    reply = k.run(
        "from azureml.core import Experiment, Run, ScriptRunConfig, Workspace\n"
        "from azureml.core.script_run import ScriptRun\n"
        "from azureml.widgets import RunDetails\n"
        f"ws = Workspace.get({workspace.name!r})\n"
        "exp = Experiment(workspace=ws, name='v1-widget')\n"
        "run = exp.submit(ScriptRunConfig(source_directory='.', script='train.py'))\n"
        "print(type(run).__name__, isinstance(run, ScriptRun), run.type)\n"
        "print('run id:', run.id)\n"
        "RunDetails(run).show()\n")
    assert reply.status == "ok", reply.text
    assert "ScriptRun True azureml.scriptrun" in reply.stdout
    assert WIDGET in reply.mimes()  # the live view, displayed by show()
    plain = next(out["data"]["text/plain"] for out in reply.outputs if WIDGET in out.get("data", {}))
    assert plain.startswith("Run ") and run_id_of(reply) in plain and "VBox(" not in plain  # not the widget repr
    done = k.run("details = run.wait_for_completion(show_output=True)\n"
                 "print(details['status'], sorted(details['logFiles']))")
    assert done.status == "ok", done.text
    assert "training" in done.stdout
    assert "Completed ['azureml-logs/55_azureml-execution.txt', 'azureml-logs/70_driver_log.txt']" in done.stdout
    assert k.value("run.get_metrics()['accuracy']") == 0.9

    refused = k.run(
        "from azureml.exceptions import RunEnvironmentException\n"
        "try:\n"
        "    Run.get_context(allow_offline=False)\n"
        "except RunEnvironmentException as exc:\n"
        "    print('refused:', exc)\n"
        "print('offline:', type(Run.get_context()).__name__)\n")
    assert refused.status == "ok", refused.text
    assert "refused: Failed to load a submitted run, if outside of an execution context" in refused.stdout
    assert "offline: OfflineRun" in refused.stdout
