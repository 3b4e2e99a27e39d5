"""One definition of a valid run-file path and of a valid resource name, applied where they enter the service.

Run-file (artifact) paths are stored and looked up exactly as given, so they must have one spelling only:
a name with a space at either end would be one file when registered and another once some layer (a form,
a query-string parser, a shell) trims it, and ``' ../x'`` looks like a traversal to every tool that trims.
Such names are refused with the reason, never silently fixed: a fix would hand back a different name than
the caller chose. Snapshot paths (a user's own source folder) keep the broader rule of
``snapshot/paths.validate_relpath``; this module builds on it.

Standard library only (plus the project's stdlib leaves): the run agent and the CLI import it.
"""

from __future__ import annotations

import re
import unicodedata

from jupyter_aml.errors import InvalidInput
from jupyter_aml.snapshot.paths import MAX_PATH_LENGTH, path_problem

MAX_RUN_PATH_LENGTH = MAX_PATH_LENGTH
MAX_RESOURCE_NAME_LENGTH = 255
RESOURCE_NAME_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_RESOURCE_NAME_LENGTH - 1}}}"
"""Azure ML v1 names (environments, experiments): letters, digits, '_', '-', '.', starting with a letter or
digit. No ':' (it separates ``name:version``) and no '/' (names are URL path segments)."""

_RESOURCE_NAME = re.compile(RESOURCE_NAME_PATTERN)
_RUN_PATH_HINT = (
    "use a relative POSIX path such as 'outputs/model.pkl': names separated by single '/', no '.' or '..', "
    "no control characters and no spaces at either end of a name (paths are never trimmed for you)"
)


def _control_char(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return ch
    return None


def run_path_problem(path: object) -> str | None:
    """Why ``path`` is not a valid run-file path, or None when it is (see :func:`validate_run_path`)."""
    if not isinstance(path, str):
        return f"must be a string, not {type(path).__name__}"
    bad = _control_char(path)
    if bad is not None:
        return f"contains the control character {bad!r}"
    problem = path_problem(path)  # absolute, drive, backslash, '..', NUL, length, percent-encoded tricks
    if problem:
        return problem
    for segment in path.split("/"):
        if segment == "":
            return "has an empty name ('//', or a '/' at the end)"
        if segment == ".":
            return "has a '.' segment"
        if segment != segment.strip():
            core = segment.strip()
            if core in (".", ".."):
                return f"has the segment {segment!r}: {core!r} with spaces around it"
            return f"has the segment {segment!r}, which starts or ends with whitespace"
    return None


def validate_run_path(path: str, what: str = "run file path") -> str:
    """Return ``path`` unchanged when it is a valid run-file path; raise :class:`InvalidInput` saying why not.

    Valid: relative, '/'-separated, every segment non-empty, not '.' or '..', without control characters
    and without whitespace at either end. The check never rewrites the path, so what is stored is what the
    caller named and what a later download must name."""
    problem = run_path_problem(path)
    if problem:
        raise InvalidInput(f"{what} {_shown(path)} {problem}", hint=_RUN_PATH_HINT)
    return path


def validate_resource_name(name: str, kind: str = "environment") -> str:
    """Return ``name`` unchanged when it is a valid resource name; raise :class:`InvalidInput` saying why not."""
    problem = resource_name_problem(name)
    if problem:
        raise InvalidInput(
            f"{kind} name {_shown(name)} {problem}",
            hint=f"use up to {MAX_RESOURCE_NAME_LENGTH} letters, digits, '_', '-' or '.', starting with a letter "
            "or digit, e.g. 'sklearn-env'",
        )
    return name


def resource_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid resource name, or None when it is."""
    if not isinstance(name, str):
        return f"must be a string, not {type(name).__name__}"
    if not name:
        return "is empty"
    if len(name) > MAX_RESOURCE_NAME_LENGTH:
        return f"is {len(name)} characters long (limit {MAX_RESOURCE_NAME_LENGTH})"
    if name != name.strip():
        return "starts or ends with whitespace"
    if _RESOURCE_NAME.fullmatch(name):
        return None
    if not _RESOURCE_NAME.fullmatch(name[0]):
        return f"starts with {name[0]!r}; it must start with a letter or digit"
    bad = next(ch for ch in name if not _RESOURCE_NAME.fullmatch("a" + ch))
    return f"contains {bad!r}"


def _shown(value: object) -> str:
    shown = repr(value) if isinstance(value, str) else type(value).__name__
    return shown if len(shown) <= 120 else shown[:117] + "..."


UNREGISTERED_DATASET_PREFIX = "anonymous-"
_UNREGISTERED_DATASET = re.compile(r"anonymous-[0-9a-f]{16}")


def unregistered_dataset_name(definition_digest: str) -> str:
    """The name a run's unregistered dataset is saved under (v1 saves it with an id and no name): its
    definition's digest, so the same definition is the same saved dataset."""
    return UNREGISTERED_DATASET_PREFIX + definition_digest[:16]


def is_unregistered_dataset(name: str) -> bool:
    """Saved for a run, never registered by a user: not listed, and nameless in the SDK as in v1."""
    return _UNREGISTERED_DATASET.fullmatch(name) is not None
