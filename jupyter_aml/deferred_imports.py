"""Imports a server start pays for and may never use, deferred to their first use.

``jsonschema`` (through ``jupyter_events``, which every Jupyter server imports) imports ``rfc3987_syntax``
when it is installed, to check the ``iri`` string format. That import builds an Earley parser from a grammar
file: 1 to 3 s on these machines, on every ``aml serve`` start, for a format no event schema here uses. The
placeholder below stands in for the module until something calls into it, then imports the real one: the
check itself is unchanged, only its cost moves to its first use (usually never).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

IRI_MODULE = "rfc3987_syntax"


class _DeferredModule(types.ModuleType):
    """A module whose real import waits for the first function call or attribute read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._real: types.ModuleType | None = None

    def load(self) -> types.ModuleType:
        if self._real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            self._real = importlib.import_module(self.__name__)
        return self._real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.load(), name)


def defer_iri_checker() -> bool:
    """Stand a placeholder in for ``rfc3987_syntax`` (True when placed; never over an imported module)."""
    if IRI_MODULE in sys.modules or importlib.util.find_spec(IRI_MODULE) is None:
        return False
    placeholder = _DeferredModule(IRI_MODULE)

    def is_valid_syntax(*args: Any, **kwargs: Any) -> Any:
        return placeholder.load().is_valid_syntax(*args, **kwargs)

    placeholder.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[IRI_MODULE] = placeholder
    return True
