"""A failed script's error names its exception and last frame (the run's headline), through a real service."""

from __future__ import annotations

from jupyter_aml import Experiment, ScriptRunConfig
from jupyter_aml.agent.tracebacks import last_exception
from tests.e2e.conftest import write_script


def test_failed_run_error_names_the_exception_and_its_frame(service, tmp_path):
    project = tmp_path / "project"
    write_script(project, "def main():\n    print('starting')\n    return 1 / 0\n\n\nmain()\n", name="train.py")
    run = Experiment(service.workspace(), "failures").submit(
        ScriptRunConfig(source_directory=project, script="train.py"))
    details = run.wait_for_completion(show_output=False, raise_on_error=False)
    assert details["status"] == "Failed"
    error = details["error"]
    assert error["message"] == "ZeroDivisionError: division by zero at train.py:3 in main"
    assert error["exception_type"] == "ZeroDivisionError" and error["exception_message"] == "division by zero"
    assert error["frame"] == {"file": "train.py", "line": 3, "function": "main"}
    assert "Traceback (most recent call last)" in error["details"]  # the traceback is still there
    # v1's body: code, message and the exception in debugInfo
    assert error["error"]["code"] == "UserError"
    assert error["error"]["debugInfo"]["type"] == "ZeroDivisionError"
    assert error["error"]["message"] == error["message"]
    assert run.get_details()["error"]["message"] == error["message"]


def test_a_script_without_a_traceback_keeps_the_exit_code(service, tmp_path):
    project = tmp_path / "project"
    write_script(project, "import sys\nprint('bye', file=sys.stderr)\nsys.exit(3)\n", name="train.py")
    run = Experiment(service.workspace(), "failures").submit(
        ScriptRunConfig(source_directory=project, script="train.py"))
    details = run.wait_for_completion(show_output=False, raise_on_error=False)
    assert details["error"]["message"] == "script exited with code 3"
    assert details["error"].get("exception_type") is None


def test_last_exception_reads_the_final_chained_traceback():
    lines = [
        "Traceback (most recent call last):",
        '  File "/runs/x/wd/train.py", line 4, in load',
        "    open('missing')",
        "FileNotFoundError: [Errno 2] No such file or directory: 'missing'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "/runs/x/wd/train.py", line 9, in <module>',
        "    load()",
        '  File "/runs/x/wd/lib/data.py", line 7, in load',
        "    raise ValueError('no data')",
        "    ^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "mypkg.errors.DataError: no data",
    ]
    found = last_exception(lines, roots=["/runs/x/wd"])
    assert found is not None
    assert found.headline == "mypkg.errors.DataError: no data at lib/data.py:7 in load"
    assert last_exception(["plain output", "no traceback"]) is None
