"""``aml secret set|list|delete`` against a real ``aml serve``: values come from a file, a pipe or a prompt that
does not echo (on a real terminal), never from argv, and no command prints one."""

from __future__ import annotations

import os
import pty
import secrets
import select
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from jupyter_aml.cli import app
from jupyter_aml.sdk.workspace import Workspace
from tests.cli.conftest import REPO, Outcome, Service, failed, ok


def _stdin(service: Service, cwd: Path, data: str, *args: str) -> Outcome:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), input=data, env=service.env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def _vault(service: Service, workspace: str) -> dict[str, str | None]:
    ws = Workspace(workspace, service_url=service.url, token=service.token)
    kv = ws.get_default_keyvault()
    return kv.get_secrets([s["name"] for s in kv.list_secrets()])


def test_set_from_a_file_and_a_pipe_list_and_delete(aml: Callable[..., Outcome], service: Service,
                                                    tmp_path: Path) -> None:
    ok(aml("workspace", "create", "cli-kv"))
    value = "v-" + secrets.token_hex(12)
    file = tmp_path / "value.txt"
    file.write_text(value + "\n")
    made = ok(aml("secret", "set", "db-password", "--value-file", str(file), "-w", "cli-kv"))
    assert "db-password" in made.stdout and value not in made.stdout + made.stderr
    piped = ok(_stdin(service, tmp_path, value + "-piped\n", "secret", "set", "api-key", "-w", "cli-kv", "--json"))
    assert piped.json == {"name": "api-key", "set": True}
    ok(_stdin(service, tmp_path, "dash\n", "secret", "set", "dashed", "--value-file", "-", "-w", "cli-kv"))
    assert _vault(service, "cli-kv") == {"api-key": value + "-piped", "dashed": "dash", "db-password": value}

    listed = ok(aml("secret", "list", "-w", "cli-kv"))
    assert "db-password" in listed.stdout and "api-key" in listed.stdout and value not in listed.stdout
    assert ok(aml("secret", "list", "-w", "cli-kv", "--json")).json == {
        "items": [{"name": "api-key"}, {"name": "dashed"}, {"name": "db-password"}]}
    ok(aml("secret", "delete", "dashed", "-w", "cli-kv"))
    assert [i["name"] for i in ok(aml("secret", "list", "-w", "cli-kv", "--json")).json["items"]] == [
        "api-key", "db-password"]


def test_bad_input_is_one_clear_line(aml: Callable[..., Outcome], service: Service, tmp_path: Path) -> None:
    ok(aml("workspace", "create", "cli-kv-bad"))
    bad = failed(_stdin(service, tmp_path, "x\n", "secret", "set", "no_good", "-w", "cli-kv-bad"))
    assert "letters, digits and dashes" in bad.stderr
    empty = failed(_stdin(service, tmp_path, "\n", "secret", "set", "empty", "-w", "cli-kv-bad"))
    assert "empty" in empty.stderr
    missing = failed(aml("secret", "delete", "nope", "-w", "cli-kv-bad"))
    assert "secret 'nope' not found" in missing.stderr
    unreadable = aml("secret", "set", "k", "--value-file", str(tmp_path / "absent"), "-w", "cli-kv-bad")
    assert unreadable.exit_code == 2 and "cannot read" in unreadable.stderr
    # there is no way to give the value on the command line
    assert aml("secret", "set", "k", "the-value", "-w", "cli-kv-bad").exit_code == 2
    assert ok(aml("secret", "list", "-w", "cli-kv-bad", "--json")).json == {"items": []}


def test_a_terminal_prompt_hides_the_value(aml: Callable[..., Outcome], service: Service) -> None:
    """On a real terminal (a pty), ``set`` without a file prompts twice without echoing what is typed."""
    ok(aml("workspace", "create", "cli-kv-tty"))
    value = "typed-" + secrets.token_hex(8)
    env = {**os.environ, **service.env,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_aml.cli", "secret", "set", "typed", "-w", "cli-kv-tty"],
                            stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert marker in seen, seen

    def type_hidden(text: bytes, timeout: float = 30) -> None:
        """Type once the terminal stops echoing (the prompt turns echo off, and flushes what came before)."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(leader)[3] & termios.ECHO:
            assert time.monotonic() < deadline, "the prompt never turned the terminal's echo off"
            time.sleep(0.02)
        os.write(leader, text + b"\r")

    try:
        read_until(b"Value:")
        type_hidden(value.encode())
        read_until(b"Repeat for confirmation:")
        type_hidden(value.encode())
        read_until(b"secret")
        assert proc.wait(60) == 0, seen
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert value.encode() not in seen  # never echoed
    assert _vault(service, "cli-kv-tty") == {"typed": value}
