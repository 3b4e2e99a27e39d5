"""Git provenance for a submitted run: which repository, branch and commit, and what was uncommitted.

Azure ML v1 records repository/branch/commit/dirty with every run; we also keep the uncommitted diff (capped)
so a run can be reproduced from a dirty tree. All git access goes through :func:`run_git`, one seam that tests
or other environments can replace. Failure to find git or a repository is never an error: provenance is
optional, so :func:`git_info` returns None.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MAX_DIFF_BYTES = 1024 * 1024
MAX_UNTRACKED = 1000
GIT_TIMEOUT_SECONDS = 60.0
# No index refresh writes (status would otherwise take .git/index.lock under a user's concurrent git
# command) and never block on a credential prompt.
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
_SECRET_SCHEMES = {"http", "https", "ftp", "ftps"}


class GitUnavailable(Exception):
    """git is not installed or cannot be started."""


class GitFailed(Exception):
    """A git command exited with a non-zero status (for example: not a repository)."""

    def __init__(self, status: int, stderr: str) -> None:
        super().__init__(f"git exited with {status}: {stderr.strip()}")
        self.status = status
        self.stderr = stderr


class _CappedSink:
    """File-like sink that keeps the first ``limit + 1`` bytes so a huge diff never fills memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buf = bytearray()

    def write(self, data: bytes) -> int:
        room = self.limit + 1 - len(self.buf)
        if room > 0:
            self.buf += data[:room]
        return len(data)

    def flush(self) -> None:
        pass


def run_git(cwd: Path, *args: str, limit: int | None = None) -> bytes:
    """Run ``git args...`` in ``cwd`` and return stdout bytes (at most ``limit + 1`` bytes when capped).

    Raises :class:`GitUnavailable` when git cannot be run and :class:`GitFailed` on a non-zero exit.
    """
    try:
        import git  # GitPython refuses to import when no git executable is found
        from git.exc import GitCommandError, GitCommandNotFound
    except Exception as exc:
        raise GitUnavailable(str(exc)) from exc
    command = [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", "-c", "core.quotepath=off", *args]
    runner = git.Git(str(cwd))
    try:
        if limit is None:
            out = runner.execute(
                command,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                kill_after_timeout=GIT_TIMEOUT_SECONDS,
                env=_GIT_ENV,
            )
            return out if isinstance(out, bytes) else b""
        sink = _CappedSink(limit)
        runner.execute(
            command,
            output_stream=sink,
            stdout_as_string=False,
            kill_after_timeout=GIT_TIMEOUT_SECONDS,
            env=_GIT_ENV,
        )
        return bytes(sink.buf)
    except GitCommandNotFound as exc:
        raise GitUnavailable(str(exc)) from exc
    except GitCommandError as exc:
        stderr = exc.stderr if isinstance(exc.stderr, str) else repr(exc.stderr)
        raise GitFailed(int(exc.status) if isinstance(exc.status, int) else -1, stderr) from exc
    except OSError as exc:
        raise GitUnavailable(str(exc)) from exc


def strip_credentials(url: str) -> str:
    """Remove secrets from a remote URL: all userinfo for http(s)/ftp (tokens often sit in the user part),
    only the password for other schemes and scp-style ``user:pass@host:path`` (``git@`` is not a secret)."""
    if "://" in url:
        parts = urlsplit(url)
        if "@" not in parts.netloc:
            return url
        userinfo, host = parts.netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = host if parts.scheme.lower() in _SECRET_SCHEMES else f"{user}@{host}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    scp = re.match(r"^([^@/]+)@([^/]+:.*)$", url)
    if scp and ":" in scp.group(1):
        return f"{scp.group(1).split(':', 1)[0]}@{scp.group(2)}"
    return url


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _optional(cwd: Path, *args: str) -> str | None:
    try:
        value = _text(run_git(cwd, *args)).strip()
    except GitFailed:
        return None
    return value or None


def _remote_url(top: Path) -> str | None:
    names = _text(run_git(top, "remote")).split()
    if not names:
        return None
    name = "origin" if "origin" in names else names[0]
    url = _optional(top, "remote", "get-url", name)
    return strip_credentials(url) if url else None


def _status(top: Path) -> tuple[bool, list[str]]:
    """Return (dirty, untracked paths) from porcelain status; -z keeps odd file names intact."""
    raw = _text(run_git(top, "status", "--porcelain=v1", "-z", "--untracked-files=all"))
    tokens = raw.split("\x00")
    dirty = False
    untracked: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if len(tok) < 4:
            continue
        dirty = True
        code, path = tok[:2], tok[3:]
        if code == "??":
            untracked.append(path)
        elif code[0] in "RC":
            i += 1  # the rename/copy source path follows as its own token
    return dirty, untracked


def _diff(top: Path, has_commit: bool) -> tuple[str, bool]:
    flags = ("--no-color", "--no-ext-diff")
    if has_commit:
        chunks = [run_git(top, "diff", "HEAD", *flags, limit=MAX_DIFF_BYTES)]
    else:  # no HEAD yet: staged files against the empty tree, then unstaged edits
        chunks = [
            run_git(top, "diff", "--cached", *flags, limit=MAX_DIFF_BYTES),
            run_git(top, "diff", *flags, limit=MAX_DIFF_BYTES),
        ]
    data = b"".join(chunks)
    if len(data) <= MAX_DIFF_BYTES:
        return _text(data), False
    cut = data[:MAX_DIFF_BYTES]
    newline = cut.rfind(b"\n")
    if newline > 0:
        cut = cut[: newline + 1]
    return cut.decode("utf-8", errors="ignore"), True


def git_info(path: str | Path) -> dict[str, Any] | None:
    """Describe the git repository containing ``path`` (parents are searched), or None if there is none.

    Returns ``{repository, branch, commit, dirty, diff, untracked, diff_truncated, untracked_truncated}``:
    ``repository`` has credentials stripped, ``branch`` is None when detached, ``commit`` is None before the
    first commit, ``diff`` is the uncommitted change to tracked files against HEAD (capped at 1 MiB).
    """
    start = Path(path).expanduser().absolute()
    if not start.is_dir():
        start = start.parent
    if not start.is_dir():
        return None
    try:
        top_text = _optional(start, "rev-parse", "--show-toplevel")
        if top_text is None:
            return None
        top = Path(top_text)
        commit = _optional(top, "rev-parse", "--verify", "-q", "HEAD^{commit}")
        branch = _optional(top, "symbolic-ref", "--short", "-q", "HEAD")
        repository = _remote_url(top)
        dirty, untracked = _status(top)
        diff, truncated = _diff(top, commit is not None)
    except (GitUnavailable, GitFailed):
        return None
    return {
        "repository": repository,
        "branch": branch,
        "commit": commit,
        "dirty": dirty,
        "diff": diff,
        "untracked": untracked[:MAX_UNTRACKED],
        "diff_truncated": truncated,
        "untracked_truncated": len(untracked) > MAX_UNTRACKED,
    }
