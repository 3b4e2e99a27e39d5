"""Run a notebook as a run's script: ``python -m jupyter_aml.agent.notebook NB.ipynb [--parameters JSON]``.

The agent runs this module instead of ``python script`` when the script ends in ``.ipynb``. The notebook is
executed top to bottom with nbclient in a fresh kernel of *this* interpreter (the run's environment), whose
process inherits the run's variables, so ``Run.get_context()`` in a cell logs into the run. Parameters are
injected papermill-style: a cell tagged ``injected-parameters`` right after the cell tagged ``parameters``
(or at the top when there is none). Cell output is echoed to this process's stdout/stderr as it arrives, so
it reaches the run's logs live, and the executed notebook (outputs included, also when a cell fails) is
written to ``outputs/<name>.ipynb``, which the agent uploads with the run's other outputs.

Exit codes: 0 every cell ran, 1 a cell raised (the run fails with the cell's error), 2 bad arguments or
nbclient/ipykernel missing from the run's environment. Stdlib only at import.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from jupyter_aml.runtime.params import check_name, parameters_source, parse_value

__all__ = ["check_name", "inject_parameters", "main", "parameters_source", "parse_value", "run_notebook"]

MISSING_HINT = (
    "running a notebook needs nbclient, nbformat and ipykernel in the run's environment: add them to the "
    "environment's pip packages (e.g. Environment.add_pip_packages(['nbclient', 'ipykernel'])) or use a "
    "user-managed environment that has them"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def inject_parameters(nb: Any, params: dict[str, Any]) -> int | None:
    """Insert the parameters cell; return its index (None when there are no parameters)."""
    import nbformat

    def tags(cell: Any) -> list[str]:
        return list(cell.get("metadata", {}).get("tags", []))

    nb.cells = [c for c in nb.cells if "injected-parameters" not in tags(c)]
    if not params:
        return None
    cell = nbformat.v4.new_code_cell(parameters_source(params))  # type: ignore[no-untyped-call]
    cell.metadata["tags"] = ["injected-parameters"]
    anchor = next((i for i, c in enumerate(nb.cells) if "parameters" in tags(c)), None)
    index = 0 if anchor is None else anchor + 1
    nb.cells.insert(index, cell)
    return index


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jupyter_aml.agent.notebook",
                                     description="Execute a notebook as a jupyter-aml run.")
    parser.add_argument("notebook", help="the .ipynb file, relative to the run's working folder")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a parameter; VALUE is a Python literal or else a string (repeatable)")
    parser.add_argument("--parameters", default=None, metavar="JSON", help="parameters as one JSON object")
    parser.add_argument("--output", default=None, help="where to write the executed notebook "
                                                        "(default: outputs/<name>.ipynb)")
    parser.add_argument("--cell-timeout", type=float, default=None, help="seconds a cell may run (default: none)")
    return parser


def read_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.parameters:
        loaded = json.loads(args.parameters)
        if not isinstance(loaded, dict):
            raise ValueError("--parameters must be a JSON object")
        params.update(loaded)
    for name, value in args.parameter:
        params[name] = parse_value(value)
    for name in params:
        check_name(name)
    return params


def _client_class() -> Any:
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from nbclient import NotebookClient

    class ThisInterpreter(KernelSpecManager):
        """Whatever kernel the notebook names, it runs in the run's own interpreter."""

        def get_kernel_spec(self, kernel_name: str) -> Any:
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python ({sys.executable})",
                language="python",
                resource_dir="",
            )

    class StreamingClient(NotebookClient):
        """Echoes each cell's output as it arrives, so it reaches the run's logs while the cell runs."""

        def output(self, outs: Any, msg: dict[str, Any], display_id: Any, cell_index: int) -> Any:
            kind, content = msg.get("msg_type") or msg["header"]["msg_type"], msg.get("content", {})
            if kind == "stream":
                stream = sys.stderr if content.get("name") == "stderr" else sys.stdout
                stream.write(content.get("text", ""))
                stream.flush()
            elif kind == "error":
                text = "\n".join(content.get("traceback") or [f"{content.get('ename')}: {content.get('evalue')}"])
                sys.stderr.write(_ANSI.sub("", text) + "\n")
                sys.stderr.flush()
            return super().output(outs, msg, display_id, cell_index)

    return StreamingClient, ThisInterpreter


def cell_traceback(notebook: str, number: int, cell: Any) -> str | None:
    """The failing cell's error as a one-frame Python traceback (file the notebook, line the cell's, function
    ``cell N``), which the agent reads for the run's error headline ("ValueError: ... at train.ipynb:3 in
    cell 2"); IPython's own traceback ("Cell In[2], line 3") is not a form it reads."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = _ANSI.sub("", "\n".join(out.get("traceback") or []))
            found = re.search(r"Cell In\[\d+\], line (\d+)", text) or re.search(r"line (\d+)", text)
            return (f'Traceback (most recent call last):\n  File "{notebook}", line {found.group(1) if found else 1}, '
                    f'in cell {number}\n{out.get("ename")}: {out.get("evalue")}')
    return None


def run_notebook(path: Path, params: dict[str, Any], output: Path, cell_timeout: float | None) -> int:
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    streaming_client, spec_manager = _client_class()
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    injected = inject_parameters(nb, params)
    nb.metadata["jupyter_aml"] = {"run_id": os.environ.get("AML_RUN_ID"), "parameters": params,
                                  "source": path.as_posix()}
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    where = f"with parameters cell at index {injected}" if injected is not None else "without parameters"
    print(f"[notebook] executing {path} ({len(code_cells)} code cells, {where})", flush=True)

    running = {"index": -1}

    def on_cell_start(cell: Any, cell_index: int, **_: Any) -> None:
        if cell.cell_type == "code":
            running["index"] = cell_index
            print(f"[notebook] cell {code_cells.index(cell_index) + 1}/{len(code_cells)}", flush=True)

    km = KernelManager(kernel_name="python3", kernel_spec_manager=spec_manager())
    client = streaming_client(
        nb,
        km=km,
        timeout=cell_timeout,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        on_cell_start=on_cell_start,
    )
    failure: str | None = None
    try:
        client.execute()
    except CellExecutionError as exc:
        failure = f"a cell raised {exc.ename}: {exc.evalue}"
    except (CellTimeoutError, DeadKernelError) as exc:
        failure = f"{exc.__class__.__name__}: {exc}"
    finally:
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, output)  # type: ignore[no-untyped-call]
        print(f"[notebook] executed notebook written to {output}", flush=True)
    if failure:
        print(f"[notebook] failed: {failure}", file=sys.stderr, flush=True)
        if running["index"] in code_cells:
            frame = cell_traceback(path.as_posix(), code_cells.index(running["index"]) + 1, nb.cells[running["index"]])
            if frame:
                print(frame, file=sys.stderr, flush=True)
        return 1
    print("[notebook] every cell ran", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        params = read_parameters(args)
    except ValueError as exc:
        print(f"jupyter-aml notebook run: {exc}", file=sys.stderr)
        return 2
    path = Path(args.notebook)
    if not path.is_file():
        print(f"jupyter-aml notebook run: {path} does not exist in {Path.cwd()}", file=sys.stderr)
        return 2
    try:
        import ipykernel  # noqa: F401 - the kernel runs in this interpreter
        import jupyter_client  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as exc:
        print(f"jupyter-aml notebook run: {exc.name or exc} is missing; {MISSING_HINT}", file=sys.stderr)
        return 2
    output = Path(args.output) if args.output else Path("outputs") / path.name
    return run_notebook(path, params, output, args.cell_timeout)


if __name__ == "__main__":
    sys.exit(main())
