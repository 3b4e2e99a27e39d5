"""Notebook magics: ``%load_ext jupyter_aml``, then ``%aml_submit``, ``%%aml_submit``, ``%aml_runs``, ``%aml_show``.

Every magic parses its arguments with argparse (``--help`` prints the options). A bad option, a missing
script or a service-side refusal (unknown compute target, invalid name) is reported as one ``UsageError``
line plus a ``hint:`` line, without a traceback, and nothing is submitted.

``%%aml_submit`` writes the cell's body to ``_aml_cell_<sha256[:12]>.py`` in the notebook's folder only for
the moment the snapshot is taken (created exclusively, removed in a ``finally``, never touching a file of
the same name that it did not create), so the run's snapshot holds the cell as a real script next to the
folder's other files, git provenance still describes the user's repository, and nothing is left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shlex
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class

from jupyter_aml.errors import AMLError, NotFound
from jupyter_aml.runtime.params import check_name, parse_value

if TYPE_CHECKING:
    from jupyter_aml.sdk.compute import ComputeTarget
    from jupyter_aml.sdk.environment import Environment
    from jupyter_aml.sdk.run import Run
    from jupyter_aml.sdk.workspace import Workspace
    from jupyter_aml.widgets.run_details import RunDetails
    from jupyter_aml.widgets.status_line import SubmitStatus

CELL_PREFIX = "_aml_cell_"
EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")  # as the service checks it
RUNS_LIMIT = 20


class _HelpShown(Exception):
    """argparse printed ``--help``: end the magic quietly."""


class MagicParser(argparse.ArgumentParser):
    """argparse that reports errors as a one-line ``UsageError`` with a hint instead of exiting."""

    def __init__(self, *args: Any, hint: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hint = hint or f"{self.prog} --help lists the options"

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}\nhint: {self.hint}")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        if message:
            self.error(message.strip())
        raise _HelpShown


def _usage(message: str, hint: str | None) -> UsageError:
    return UsageError(message + (f"\nhint: {hint}" if hint else ""))


def _without_comment(line: str) -> str:
    """``line`` up to a shell comment: a ``#`` outside quotes that starts a word (``exp#2`` and ``"run #1"``
    keep theirs), so ``%aml_submit train.py  # note`` passes no note to the script."""
    quote = ""
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _split(line: str) -> tuple[list[str], list[str]]:
    """Options before ``--``, the script's own arguments after it; a trailing ``# comment`` is left out."""
    try:
        words = shlex.split(_without_comment(line))
    except ValueError as exc:
        raise _usage(f"cannot parse the magic's line: {exc}", "check the quotes") from None
    if "--" in words:
        cut = words.index("--")
        return words[:cut], words[cut + 1:]
    return words, []


def submit_parser(prog: str = "%aml_submit") -> MagicParser:
    parser = MagicParser(
        prog=prog,
        description=(
            "Snapshot the notebook's folder and submit a script (or, with %%aml_submit, this cell; or a whole "
            ".ipynb notebook, run with nbclient) as a run. Returns the Run and shows its live view."
        ),
        epilog="Examples: %aml_submit train.py -e digits -- --C 0.5 | %%aml_submit -e scratch | "
        "%aml_submit sweep.ipynb -p lr 0.1 -p epochs 5",
        add_help=True,
    )
    parser.add_argument("script", nargs="?", help="script (.py) or notebook (.ipynb), relative to the notebook's "
                                                  "folder; omitted with %%%%aml_submit")
    parser.add_argument("-e", "--experiment", help="experiment name (default: the notebook folder's name)")
    parser.add_argument("-c", "--compute", default="local", help="compute target (default: local)")
    parser.add_argument("--environment", metavar="ENV_OR_REQUIREMENTS",
                        help="an Environment object of the notebook, a requirements.txt file, or a Python "
                             "interpreter (default: this kernel's interpreter on local compute)")
    parser.add_argument("-t", "--tag", action="append", default=[], metavar="KEY=VALUE", help="a tag (repeatable)")
    parser.add_argument("-w", "--workspace", help="workspace (default: .aml/config.json found upwards, else "
                                                  "'default')")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="notebook parameter, papermill-style (repeatable; .ipynb only)")
    parser.add_argument("-n", "--name", default="", help="display name of the run")
    parser.add_argument("--source-directory", default=".", metavar="DIR",
                        help="folder to snapshot (default: the notebook's folder, the kernel's working folder)")
    parser.add_argument("--wait", action="store_true", help="block until the run ends")
    parser.add_argument("--no-widget", action="store_true", help="do not display the live view")
    return parser


def runs_parser() -> MagicParser:
    parser = MagicParser(prog="%aml_runs", description="A table of the workspace's recent runs with their metrics.")
    parser.add_argument("experiment", nargs="?", help="only this experiment")
    parser.add_argument("-w", "--workspace", help="workspace (default: from .aml/config.json, else 'default')")
    parser.add_argument("-n", "--limit", type=int, default=RUNS_LIMIT, help=f"how many runs (default {RUNS_LIMIT})")
    parser.add_argument("-s", "--status", action="append", default=[], help="only runs with this status (repeatable)")
    parser.add_argument("--children", action="store_true", help="include child runs")
    return parser


def show_parser() -> MagicParser:
    parser = MagicParser(prog="%aml_show", description="Show a run's live view.")
    parser.add_argument("run_id", help="the run's id")
    parser.add_argument("-w", "--workspace", help="workspace (default: from .aml/config.json, else 'default')")
    return parser


def default_experiment(folder: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.resolve().name).strip("-._")
    return name[:64] or "notebook"


def parse_tags(items: list[str], prog: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _usage(f"{prog}: --tag wants KEY=VALUE, got {item!r}", "e.g. --tag owner=me")
        tags[key] = value
    return tags


@contextlib.contextmanager
def cell_script(folder: Path, body: str) -> Iterator[str]:
    """The cell's body as ``_aml_cell_<hash>.py`` in ``folder`` for the duration of the block only."""
    text = body if body.endswith("\n") else body + "\n"
    name = f"{CELL_PREFIX}{hashlib.sha256(text.encode()).hexdigest()[:12]}.py"
    path = folder / name
    created = False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        if path.read_text() != text:  # someone else's file under our name: leave it, refuse
            raise _usage(f"{path} exists and is not this cell", "rename or remove it") from None
    except OSError as exc:
        raise _usage(f"cannot write the cell's script into {folder}: {exc.strerror}",
                     "run %%aml_submit from a writable folder, or save the cell as a script") from None
    else:
        created = True
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
    try:
        yield name
    finally:
        if created:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@magics_class
class AMLMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._workspaces: dict[str | None, Workspace] = {}
        self.views: list[RunDetails] = []  # the live views this kernel opened (each stops when its run ends)

    # -- helpers ----------------------------------------------------------------------------------------
    def _workspace(self, name: str | None) -> Workspace:
        from jupyter_aml.sdk.workspace import Workspace

        if name not in self._workspaces:
            if name:
                self._workspaces[name] = Workspace.get(name)
            else:
                try:
                    self._workspaces[None] = Workspace.from_config()
                except NotFound:
                    self._workspaces[None] = Workspace.get("default")
        return self._workspaces[name]

    def _environment(self, value: str | None, compute: ComputeTarget) -> Environment:
        from jupyter_aml.sdk.environment import Environment

        if value is None:
            env = Environment("notebook-kernel")
            if compute.type == "local":  # same packages as this notebook
                env.python.interpreter_path = sys.executable
            return env
        found = (self.shell.user_ns if self.shell is not None else {}).get(value)
        if isinstance(found, Environment):
            return found
        path = Path(value).expanduser()
        if path.is_file():
            if os.access(path, os.X_OK) and not path.suffix:
                env = Environment(path.name)
                env.python.interpreter_path = str(path.resolve())
                return env
            return Environment.from_pip_requirements(path.stem, path)
        raise _usage(
            f"%aml_submit: --environment {value!r} is neither an Environment in the notebook nor a file",
            "pass a requirements.txt path, an interpreter path, or the name of an Environment variable",
        )

    @staticmethod
    def _view_class() -> type[RunDetails] | None:
        """RunDetails, or None when this kernel lacks ipywidgets/plotly. The import runs in the background
        (widgets/preload.py, started by ``%load_ext``): this waits for it, which is at once when it is done."""
        from jupyter_aml.widgets import preload

        preload.wait()
        try:  # at once when the background import succeeded; else this import says why it cannot
            from jupyter_aml.widgets.run_details import RunDetails
        except ImportError as exc:
            print(f"({(exc.name or 'ipywidgets').partition('.')[0]} is not installed in this kernel: no live view; "
                  "use run.wait_for_completion(show_output=True))")
            return None
        return RunDetails

    def _show(self, run: Run) -> RunDetails | None:
        view_class = self._view_class()
        if view_class is None:
            return None
        view = view_class(run)
        self.views = [v for v in self.views if v.alive]
        self.views.append(view)
        view.show()
        return view

    def _in_kernel(self) -> bool:
        """Whether outputs go to a notebook front end (which redraws a display in place), not a terminal."""
        return getattr(self.shell, "kernel", None) is not None

    # -- %aml_submit / %%aml_submit ---------------------------------------------------------------------
    @line_cell_magic
    def aml_submit(self, line: str, cell: str | None = None) -> Any:
        """Submit a script, this cell, or a notebook as a run. ``%aml_submit --help`` for the options."""
        prog = "%%aml_submit" if cell is not None else "%aml_submit"
        words, script_args = _split(line)
        try:
            opts = submit_parser(prog).parse_args(words)
        except _HelpShown:
            return None
        try:
            return self._submit(prog, opts, script_args, cell)
        except AMLError as exc:
            raise _usage(f"{prog}: {exc.message}", exc.hint) from None

    def _submit(self, prog: str, opts: argparse.Namespace, script_args: list[str], cell: str | None) -> Any:
        source = Path(opts.source_directory).expanduser().resolve()
        if not source.is_dir():
            raise _usage(f"{prog}: source directory {opts.source_directory!r} is not a folder",
                         "--source-directory takes a folder (default: the notebook's folder)")
        script: str | None = None
        if cell is None:
            if not opts.script:
                raise _usage(f"{prog}: which script? none was given",
                             "%aml_submit train.py [-- args], or use %%aml_submit to submit a cell")
            target = (Path.cwd() / opts.script).resolve()
            if not target.is_file():
                raise _usage(f"{prog}: script {opts.script!r} not found in {Path.cwd()}",
                             "the path is relative to the notebook's folder")
            try:
                script = target.relative_to(source).as_posix()
            except ValueError:
                raise _usage(f"{prog}: {opts.script!r} is outside the snapshot folder {source}",
                             "move it into the folder or pass --source-directory") from None
        else:
            if opts.script:
                raise _usage(f"{prog}: the cell is the script; {opts.script!r} is not expected",
                             "put script arguments after --, e.g. %%aml_submit -e demo -- --lr 0.1")
            if not cell.strip():
                raise _usage(f"{prog}: the cell is empty", "write the script's code below the %%aml_submit line")
        notebook = script is not None and script.endswith(".ipynb")
        if opts.parameter and not notebook:
            raise _usage(f"{prog}: -p/--parameter is for notebooks (.ipynb)",
                         "pass a script's arguments after --, e.g. %aml_submit train.py -- --lr 0.1")
        params: dict[str, Any] = {}
        for name, value in opts.parameter:
            try:
                params[check_name(name)] = parse_value(value)
            except ValueError as exc:
                raise _usage(f"{prog}: {exc}", "parameter names are Python identifiers") from None
        tags = parse_tags(opts.tag, prog)
        if opts.experiment is not None and not EXPERIMENT_NAME.match(opts.experiment):
            raise _usage(f"{prog}: experiment name {opts.experiment!r} is not valid",
                         "use letters, digits, '_', '.' and '-', starting with a letter or digit")
        if opts.environment is not None and opts.environment not in (self.shell.user_ns if self.shell else {}):
            path = Path(opts.environment).expanduser()
            if not path.is_file():
                raise _usage(f"{prog}: --environment {opts.environment!r} is neither an Environment in the "
                             "notebook nor a file",
                             "pass a requirements.txt path, an interpreter path, or an Environment variable's name")

        from jupyter_aml.run_names import run_number
        from jupyter_aml.widgets import preload
        from jupyter_aml.widgets.status_line import SubmitStatus

        if not opts.no_widget:
            preload.start()  # the live view's imports, while the snapshot runs (no-op after %load_ext)
        status = SubmitStatus(display=self._in_kernel())
        what = "this cell" if cell is not None else script
        status.show("snapshotting", f"snapshotting {source} for {what}…")
        try:
            run = self._submit_run(opts, source, script, cell, params, tags, script_args, status)
        except BaseException as exc:
            message = exc.message if isinstance(exc, AMLError) else str(exc).partition("\n")[0]
            status.show("failed", f"not submitted: {message or type(exc).__name__}")
            raise
        record: Mapping[str, Any] = run.get_record()
        done = (f"submitted run {run_number(record)} ({run.id}) to experiment {run.experiment.name!r} on "
                f"{opts.compute!r}" + (f" with parameters {params}" if params else ""))
        if not self._in_kernel():
            print(done[0].upper() + done[1:])
        if not opts.no_widget:
            status.show("opening", done + " · opening the live view…")
            self._show(run)
        status.show("submitted", done[0].upper() + done[1:])
        if opts.wait:
            run.wait_for_completion(show_output=opts.no_widget, raise_on_error=False)
            print(f"Run {run.id}: {run.get_status()}")
        return run

    def _submit_run(self, opts: argparse.Namespace, source: Path, script: str | None, cell: str | None,
                    params: dict[str, Any], tags: dict[str, str], script_args: list[str],
                    status: SubmitStatus) -> Run:
        """Snapshot and submit, reporting the snapshot's steps on ``status``."""
        from jupyter_aml.sdk.config import ScriptRunConfig
        from jupyter_aml.sdk.experiment import Experiment
        from jupyter_aml.widgets.status_line import SnapshotReporter

        prog = "%%aml_submit" if cell is not None else "%aml_submit"
        workspace = self._workspace(opts.workspace)
        computes = workspace.compute_targets
        if opts.compute not in computes:
            raise _usage(f"{prog}: compute target {opts.compute!r} does not exist",
                         "available: " + ", ".join(sorted(computes)))
        environment = self._environment(opts.environment, computes[opts.compute])
        experiment = Experiment(workspace, opts.experiment or default_experiment(Path.cwd()))
        arguments = (["--parameters", json.dumps(params)] if params else []) + script_args

        def submit(script_name: str) -> Run:
            config = ScriptRunConfig(source, script_name, arguments, compute_target=opts.compute,
                                     environment=environment)
            report = SnapshotReporter(lambda stage, text, force: status.show(stage, text, force=force))
            try:
                return experiment.submit(config, tags=tags, display_name=opts.name, progress=report)
            finally:
                status.flush()

        if cell is None:
            assert script is not None
            return submit(script)
        with cell_script(source, cell) as name:
            return submit(name)

    # -- %aml_runs ---------------------------------------------------------------------------------------
    @line_magic
    def aml_runs(self, line: str) -> Any:
        """A table of recent runs. ``%aml_runs --help`` for the options."""
        from IPython.display import display

        from jupyter_aml.widgets.tables import records_table

        try:
            opts = runs_parser().parse_args(_split(line)[0])
        except _HelpShown:
            return None
        if opts.limit < 1 or opts.limit > 500:
            raise _usage("%aml_runs: --limit must be between 1 and 500", "e.g. %aml_runs -n 50")
        try:
            page = self._workspace(opts.workspace).list_runs(
                opts.experiment, status=opts.status or None, order_by="-created_at", page_size=opts.limit,
                include_children=opts.children,
            )
            table = records_table(page.items)
        except AMLError as exc:
            raise _usage(f"%aml_runs: {exc.message}", exc.hint) from None
        display(table)  # type: ignore[no-untyped-call]
        return None

    # -- %aml_show ----------------------------------------------------------------------------------------
    @line_magic
    def aml_show(self, line: str) -> Any:
        """Show a run's live view: ``%aml_show RUN_ID``."""
        try:
            opts = show_parser().parse_args(_split(line)[0])
        except _HelpShown:
            return None
        try:
            run = self._workspace(opts.workspace).get_run(opts.run_id)
        except NotFound as exc:
            raise _usage(f"%aml_show: {exc.message}", "%aml_runs lists the runs of the workspace") from None
        except AMLError as exc:
            raise _usage(f"%aml_show: {exc.message}", exc.hint) from None
        self._show(run)
        return None


def register(ipython: Any) -> None:
    """Called by ``%load_ext jupyter_aml``: registers the magics and starts importing the live view's
    heavy parts in the background, so that the first ``%aml_submit`` does not wait for them."""
    from jupyter_aml.widgets import preload

    ipython.register_magics(AMLMagics)
    preload.start()
