#!/usr/bin/env python3
"""Generate ``jupyter_aml/runtime/api_types.py`` (stdlib TypedDicts) from the server's OpenAPI document.

    python scripts/gen_api_types_py.py           # rewrite the file
    python scripts/gen_api_types_py.py --check   # exit 1 when the committed file is stale

The document is the one ``GET /aml/api/v1/openapi.json`` serves (``build_openapi(all_routes(), ...)``,
built from the pydantic models), with a fixed version so the output only changes with the contract.
Besides one TypedDict per schema, the file lists every route as ``Literal`` path templates per HTTP
method, so mypy rejects a path in ``runtime/api.py`` that the service does not serve.
"""

from __future__ import annotations

import argparse
import keyword
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "jupyter_aml" / "runtime" / "api_types.py"
METHODS = ("get", "post", "put", "patch", "delete")

HEADER = '''# ruff: noqa: E501
"""GENERATED FILE - do not edit by hand: ``python scripts/gen_api_types_py.py``.

Request and response shapes of the jupyter-aml REST API as TypedDicts, and its routes as path
templates, generated from the server's OpenAPI document (itself generated from the pydantic models in
``jupyter_aml/core``). Stdlib only, for the run runtime. tests/runtime/test_api_types.py fails when this
file is out of date.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

'''


def load_document() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from jupyter_aml.server.extension import all_routes
    from jupyter_aml.server.openapi import build_openapi

    return build_openapi(all_routes(), "0")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class Emitter:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def type_of(self, schema: dict[str, Any] | bool) -> str:
        """The Python annotation (as source text) for a JSON schema."""
        if schema is True or schema == {}:
            return "Any"
        if schema is False:
            return "None"
        assert isinstance(schema, dict)
        if "$ref" in schema:
            return _ref_name(schema["$ref"])
        if "const" in schema:
            return f"Literal[{schema['const']!r}]"
        if "enum" in schema:
            return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._union([self.type_of(s) for s in schema[key]])
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.type_of(schema["allOf"][0])
        kind = schema.get("type")
        if isinstance(kind, list):
            return self._union([self.type_of({**schema, "type": k}) for k in kind])
        if kind == "string":
            return "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "null":
            return "None"
        if kind == "array":
            if "prefixItems" in schema:
                inner = [self.type_of(s) for s in schema["prefixItems"]]
                return "list[" + self._union(inner) + "]"
            return f"list[{self.type_of(schema.get('items', {}))}]"
        if kind == "object":
            extra = schema.get("additionalProperties")
            if schema.get("properties"):
                return "dict[str, Any]"
            if isinstance(extra, dict):
                return f"dict[str, {self.type_of(extra)}]"
            return "dict[str, Any]"
        return "Any"

    @staticmethod
    def _union(parts: list[str]) -> str:
        seen: list[str] = []
        for part in parts:
            if part not in seen:
                seen.append(part)
        if "Any" in seen:
            return "Any"
        if len(seen) == 1:
            return seen[0]
        literals = [p for p in seen if p.startswith("Literal[")]
        if len(literals) > 1:  # Literal["a"] | Literal["b"] -> Literal["a", "b"]
            merged = "Literal[" + ", ".join(p[len("Literal["):-1] for p in literals) + "]"
            seen = [merged if p == literals[0] else p for p in seen if p not in literals[1:]]
        return " | ".join(seen)

    def emit(self, name: str, schema: dict[str, Any]) -> tuple[str, bool]:
        """Source for one schema and whether it is a TypedDict (classes come before aliases).

        Keys the schema does not require go into a ``total=False`` subclass of a base holding the
        required ones (``NotRequired`` is not in the stdlib of Python 3.10)."""
        doc = (schema.get("description") or "").strip().splitlines()
        if schema.get("type") == "object" and "properties" in schema:
            required = set(schema.get("required", []))
            fields = [(p, self.type_of(sub), p in required) for p, sub in schema["properties"].items()]
            must = [(p, a) for p, a, r in fields if r]
            may = [(p, a) for p, a, r in fields if not r]
            plain = all(p.isidentifier() and not keyword.iskeyword(p) for p, _, _ in fields)
            docline = f'    """{doc[0].replace(chr(34) * 3, "")}"""' if doc else ""
            if not plain:
                parts = []
                if must:
                    body = ", ".join(f"{p!r}: {a!r}" for p, a in must)
                    parts.append(f"_{name}Required = TypedDict({'_' + name + 'Required'!r}, {{{body}}})")
                body = ", ".join(f"{p!r}: {a!r}" for p, a in may)
                if must and may:
                    parts.append(f"{name} = TypedDict({name!r}, {{{body}}}, total=False)  # plus _{name}Required")
                return "\n".join(parts), True
            if must and may:
                lines = [f"class _{name}Required(TypedDict):"] + [f"    {p}: {a}" for p, a in must]
                lines += ["", "", f"class {name}(_{name}Required, total=False):"]
                lines += [docline] if docline else []
                lines += [f"    {p}: {a}" for p, a in may]
                return "\n".join(lines), True
            total = "" if must or not may else ", total=False"
            lines = [f"class {name}(TypedDict{total}):"] + ([docline] if docline else [])
            lines += [f"    {p}: {a}" for p, a in (must or may)] or ["    pass"]
            return "\n".join(lines), True
        return f"{name} = {self._alias(self.type_of(schema))}", False

    @staticmethod
    def _alias(annotation: str) -> str:
        # module-level aliases are evaluated at import, after every TypedDict class: ``A | B`` works there
        return annotation


def _alias_order(aliases: dict[str, str]) -> list[str]:
    """Aliases that name other aliases come after them."""
    done: list[str] = []
    pending = dict(aliases)
    while pending:
        for name, source in sorted(pending.items()):
            deps = {other for other in pending if other != name and other in source.split("=", 1)[1]}
            if not deps:
                done.append(name)
                del pending[name]
                break
        else:  # a cycle: keep the remaining order
            done += sorted(pending)
            break
    return done


def render(document: dict[str, Any]) -> str:
    schemas = document["components"]["schemas"]
    emitter = Emitter(schemas)
    classes: list[str] = []
    aliases: dict[str, str] = {}
    for name in sorted(schemas):
        source, is_class = emitter.emit(name, schemas[name])
        if is_class:
            classes.append(source)
        else:
            aliases[name] = source
    literal_aliases = {n: s for n, s in aliases.items() if s.split("=", 1)[1].strip().startswith("Literal[")}
    other_aliases = {n: s for n, s in aliases.items() if n not in literal_aliases}
    out = [HEADER]
    for name in sorted(literal_aliases):
        out.append(literal_aliases[name] + "\n")
    out.append("\n")
    for source in classes:
        out.append(source + "\n\n\n")
    for name in _alias_order(other_aliases):
        out.append(other_aliases[name] + "\n")
    out.append("\n# -- routes: the path templates the service serves, per method ------------------------------\n")
    for method in METHODS:
        paths = sorted(p for p, ops in document["paths"].items() if method in ops)
        alias = f"{method.capitalize()}Path"
        if not paths:
            out.append(f"{alias} = Literal['']\n")
            continue
        out.append(f"{alias} = Literal[\n" + "".join(f"    {p!r},\n" for p in paths) + "]\n")
    out.append("\nQUERY_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {\n")
    for path, ops in sorted(document["paths"].items()):
        for method in METHODS:
            if method in ops:
                names = tuple(p["name"] for p in ops[method].get("parameters", []) if p["in"] == "query")
                out.append(f"    ({method.upper()!r}, {path!r}): {names!r},\n")
    out.append("}\n")
    text = "".join(out)
    return text.rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    text = render(load_document())
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run python scripts/gen_api_types_py.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
