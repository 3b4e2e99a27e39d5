"""The README's and docs/'s examples run as written, page by page, in order, on a fresh root.

Each page gets a fresh ``JUPYTER_AML_ROOT`` (the SDK starts the embedded default ``aml serve`` for it on
first use, as it does for a user) and a fresh working folder holding a copy of ``examples/``, since the
README's paths are relative to the repository, and an ``.aml/config.json`` naming workspace ``demo``
(where the README's first example leaves its reader, so that ``Workspace.from_config()`` works). Its
``python`` blocks run in one IPython interpreter (names carry over, as in doctest; ``%magics`` work), its
``bash`` blocks with ``bash -e``, and its ``console`` blocks command by command (a command whose printed
output starts with ``error:`` must fail with that message). A block that cannot run here says so right
before it, visibly in the markdown source: ``<!-- not run: needs an existing Dask deployment -->``; any
other block that fails fails the test. Other languages (``text``, ``json``, ``toml``) are data, not
commands, and are not run. ``-s`` prints each page's time and its slowest blocks.

A page written for the reader's own data (``./data``, an S3 bucket whose endpoint and keys it reads from
``LAKE_ENDPOINT_URL``, ``LAKE_ACCESS_KEY_ID`` and ``LAKE_SECRET_ACCESS_KEY``) gets that data from
tests/docs/page_setup.py before its blocks run: the files its text names, in its working folder, and a real
S3-protocol server (moto, IAM authentication on) of its own with the bucket the page names, its endpoint and
keys in those variables. The blocks are never edited or substituted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from tests.docs.page_setup import prepare
from tests.procs import kill_processes_using

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = {"python", "bash", "sh", "console"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)\s*$")
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<why>.*?)\s*-->\s*$")
BLOCK_TIMEOUT = float(os.environ.get("AML_DOC_BLOCK_TIMEOUT", "240"))


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    not_run: str | None

    def where(self) -> str:
        return f"{page_id(self.page)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, lang, start = match.group("indent"), match.group("lang").lower(), i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = NOT_RUN.match(previous)
        found.append(Block(page, start + 1, lang, "\n".join(body) + "\n", marker.group("why") if marker else None))
        i += 1
    return found


def runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.lang in RUNNABLE and b.not_run is None]


def console_commands(code: str) -> list[tuple[str, str]]:
    """(command, the output printed under it) for each ``$ `` line of a console block."""
    commands: list[tuple[str, list[str]]] = []
    pending = ""
    for line in code.splitlines():
        if pending:
            pending += "\n" + line
            if not line.rstrip().endswith("\\"):
                commands.append((pending, []))
                pending = ""
        elif line.startswith("$ "):
            command = line[2:]
            if command.rstrip().endswith("\\"):
                pending = command
            else:
                commands.append((command, []))
        elif commands:
            commands[-1][1].append(line)
    return [(c, "\n".join(out)) for c, out in commands]


class Page:
    """A page's fresh root, working folder and interpreter."""

    def __init__(self, tmp: Path, page: Path) -> None:
        self.root = tmp / "aml-root"
        self.work = tmp / "work"
        self.work.mkdir(parents=True)
        (self.work / ".aml").mkdir()  # where the README leaves its reader: Workspace.from_config() finds "demo"
        (self.work / ".aml" / "config.json").write_text(json.dumps({"workspace_name": "demo"}))
        shutil.copytree(REPO / "examples", self.work / "examples",
                        ignore=shutil.ignore_patterns("outputs", "__pycache__", ".ipynb_checkpoints"))
        self.log_path = tmp / "page.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        self.env = {**os.environ, "JUPYTER_AML_ROOT": str(self.root), "PYTHONPATH": str(REPO),
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                    "MPLBACKEND": "Agg", "COLUMNS": "120"}
        for name in ("JUPYTER_AML_URL", "JUPYTER_AML_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                     "AWS_SESSION_TOKEN", "AWS_PROFILE"):  # no ambient S3 keys: a page's store gets only its own
            self.env.pop(name, None)
        self.setup = prepare(page.name, self.work, tmp, self.env)  # the files and store the page's text names
        self.python: subprocess.Popen[str] | None = None
        self.blocks: IO[str] | None = None
        self.control: Iterator[str] | None = None

    def run(self, block: Block) -> str | None:
        """None when the block ran as written, else what went wrong."""
        self.log.write(f"\n===== {block.where()} ({block.lang}) =====\n")
        self.log.flush()
        if block.lang == "python":
            return self.run_python(block)
        if block.lang == "console":
            for command, printed in console_commands(block.code):
                expect_error = printed.lstrip().startswith("error:")
                proc = self.shell(command)
                if proc is None:
                    return f"`{command}` did not finish in {BLOCK_TIMEOUT:.0f} s"
                if expect_error != (proc.returncode != 0):
                    return (f"`{command}` exited {proc.returncode}"
                            + (" (the page shows an error)" if expect_error else ""))
                if expect_error:
                    first = printed.strip().splitlines()[0]
                    if first.split(":", 1)[1].strip()[:30] not in proc.stdout + proc.stderr:
                        return f"`{command}` failed, but not with the page's {first!r}"
            return None
        proc = self.shell(block.code)
        if proc is None:
            return f"did not finish in {BLOCK_TIMEOUT:.0f} s"
        return None if proc.returncode == 0 else f"exited {proc.returncode}"

    def shell(self, code: str) -> subprocess.CompletedProcess[str] | None:
        self.log.write(f"$ {code}\n")
        self.log.flush()
        try:
            proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], cwd=self.work, env=self.env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=BLOCK_TIMEOUT,
                                  check=False)
        except subprocess.TimeoutExpired:
            return None
        self.log.write(proc.stdout + proc.stderr + f"[exit {proc.returncode}]\n")
        self.log.flush()
        return proc

    def run_python(self, block: Block) -> str | None:
        if self.python is None:
            blocks_read, blocks_write = os.pipe()
            answers_read, answers_write = os.pipe()
            self.python = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("page_runner.py"))], stdin=subprocess.DEVNULL,
                stdout=self.log, stderr=subprocess.STDOUT, cwd=self.work, text=True,
                env={**self.env, "DOC_RUNNER_FDS": f"{blocks_read},{answers_write}"},
                pass_fds=(blocks_read, answers_write))
            os.close(blocks_read)
            os.close(answers_write)
            self.blocks = os.fdopen(blocks_write, "w")
            self.control = iter(os.fdopen(answers_read))
        assert self.blocks is not None and self.control is not None
        self.blocks.write(json.dumps(block.code) + "\n")
        self.blocks.flush()
        line = next(self.control, "")
        if not line:
            return f"the interpreter exited ({self.python.wait()})"
        answer = json.loads(line)
        return None if answer["ok"] else answer["error"] or "failed"

    def close(self) -> None:
        if self.python is not None:
            if self.blocks is not None:
                self.blocks.close()
            try:
                self.python.wait(30)
            except subprocess.TimeoutExpired:
                self.python.kill()
        self.log.close()
        kill_processes_using(self.root)
        self.setup.stop()


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO)) if page.is_relative_to(REPO) else page.name


def test_markers_are_well_formed() -> None:
    """A skip says why; a marker stands right before a block (not lost in prose)."""
    for page in PAGES:
        lines = page.read_text().splitlines()
        for n, line in enumerate(lines):
            if "not run" in line and "<!--" in line:
                assert NOT_RUN.match(line) and NOT_RUN.match(line).group("why"), f"{page_id(page)}:{n + 1}"  # type: ignore[union-attr]
                following = next((x for x in lines[n + 1:] if x.strip()), "")
                assert FENCE.match(following), f"{page_id(page)}:{n + 1}: a marker must precede a code block"


EXAMPLE_FILE = re.compile(r"\bexamples/[\w./-]+\.py\b")


def test_script_blocks_are_their_example_files() -> None:
    """A block not run because it is a run's script names the file in examples/ that a page's run executes,
    and that file holds the block's code as shown: the page cannot drift from what its run runs."""
    named = [(b, m.group(0)) for page in PAGES for b in blocks(page) if b.not_run
             for m in [EXAMPLE_FILE.search(b.not_run)] if m]
    assert len(named) >= 2
    for block, path in named:
        assert (REPO / path).is_file(), f"{block.where()}: {path} does not exist"
        assert block.code in (REPO / path).read_text(), f"{block.where()}: the block differs from {path}"


def test_the_parser_sees_the_readme() -> None:
    readme = blocks(REPO / "README.md")
    assert [b.lang for b in readme if b.not_run] and any(b.lang == "bash" and "aml run submit" in b.code
                                                         for b in runnable(REPO / "README.md"))
    assert next(b for b in readme if "./dev lab" in b.code).not_run  # the quick start is not run here


def test_a_failing_block_fails_its_page(tmp_path: Path) -> None:
    """The runner is able to fail: a Python error, a failing shell line, a console command that should have
    failed and did not; names carry over between a page's Python blocks; a marked block is not run."""
    page = tmp_path / "page.md"
    good = "```python\nx = 41\n```\n<!-- not run: shown only -->\n```python\nraise SystemExit(3)\n```\n"
    cases = {
        "```python\nassert x == 42\n```\n": "AssertionError",
        "```bash\ntrue\nfalse\necho never\n```\n": "exited 1",
        "```console\n$ true\nerror: it should have failed\n```\n": "exited 0 (the page shows an error)",
        "```console\n$ echo nope >&2; false\nerror: another message\n```\n": "not with the page's",
    }
    for n, (tail, expected) in enumerate(cases.items()):
        page.write_text(good + tail)
        problem = run_page(page, tmp_path / f"case{n}")
        assert problem is not None and expected in problem, (tail, problem)
    page.write_text(good + "```python\nassert x == 41\n```\n"
                    "```console\n$ echo 'error: no such thing' >&2; false\nerror: no such thing\n```\n")
    assert run_page(page, tmp_path / "ok") is None


def run_page(page: Path, tmp: Path) -> str | None:
    """Run one page's blocks in order; None when all ran, else what failed (with the log's tail)."""
    runner = Page(tmp, page)
    started = time.monotonic()
    took: list[tuple[float, str]] = []
    try:
        for block in runnable(page):
            began = time.monotonic()
            problem = runner.run(block)
            took.append((time.monotonic() - began, block.where()))
            if problem is not None:
                runner.log.flush()
                tail = runner.log_path.read_text()[-6000:]
                return (f"{block.where()}: the {block.lang} block failed: {problem}\n"
                        f"(mark it `<!-- not run: why -->` only if it cannot run on this machine)\n{tail}")
    finally:
        runner.close()
    slowest = ", ".join(f"{where} {seconds:.1f} s" for seconds, where in sorted(took, reverse=True)[:3])
    print(f"{page_id(page)}: {len(took)} blocks in {time.monotonic() - started:.1f} s (slowest: {slowest})")
    return None


RUN_PAGES = [p for p in PAGES if runnable(p)]
WORKERS = int(os.environ.get("AML_DOC_WORKERS", "3"))


@pytest.fixture(scope="module")
def page_results(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[dict[Path, Any]]:
    """Every selected page, run side by side (each on its own root, folder and interpreter): most of a page's
    time is waiting for its runs and services, and CI's time is short. Each page's test waits for its own."""
    selected = [item.callspec.params["page"] for item in request.session.items
                if item.originalname == "test_page_examples_run_as_written" and hasattr(item, "callspec")]
    pool = ThreadPoolExecutor(max_workers=max(1, WORKERS))
    yield {page: pool.submit(run_page, page, tmp_path_factory.mktemp(page.stem)) for page in selected}
    pool.shutdown(wait=True)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("page", RUN_PAGES, ids=page_id)
def test_page_examples_run_as_written(page: Path, page_results: dict[Path, Any]) -> None:
    problem = page_results[page].result()
    if problem is not None:
        pytest.fail(problem)
