"""The server start defers jsonschema's IRI checker (rfc3987_syntax builds an Earley parser on import); the
check itself still works the first time it is used. Each case runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("rfc3987_syntax")


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_server_modules_load_without_the_iri_parser_and_the_iri_check_still_works() -> None:
    out = _python(
        "import sys\n"
        "import jupyter_aml.server.standalone\n"  # the extension, jupyter_server, jupyter_events, jsonschema
        "print('jsonschema' in sys.modules, type(sys.modules['rfc3987_syntax']).__name__,"
        " 'lark' in sys.modules)\n"
        "import jsonschema\n"
        "check = jsonschema.Draft202012Validator.FORMAT_CHECKER\n"
        "print(check.conforms('http://example.com/a b', 'iri'), check.conforms('http://example.com/x', 'iri'))\n"
        "print(type(sys.modules['rfc3987_syntax']).__name__)\n")
    assert out.splitlines() == ["True _DeferredModule False", "False True", "module"]


def test_an_already_imported_module_is_left_alone() -> None:
    out = _python("import rfc3987_syntax\nfrom jupyter_aml.deferred_imports import defer_iri_checker\n"
                  "print(defer_iri_checker(), type(__import__('sys').modules['rfc3987_syntax']).__name__)")
    assert out == "False module"
