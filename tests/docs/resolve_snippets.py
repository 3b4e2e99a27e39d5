"""Run in a fresh interpreter: read snippets (JSON on stdin), print the names each uses that the installed
``azureml`` shim does not have (JSON on stdout). Kept out of pytest's process, so that nothing the test
suite imported or patched can make a missing name resolve.

A snippet's calls and attribute chains are followed on the real objects: a class or function name must
exist in one of v1's public modules below, a receiver variable (``ws``, ``run``, ``ds``...) stands for an
instance of its usual class, an attribute after a call is looked up on the callable's return annotation
(any public class, when it has none), and a call whose arguments are spelled out must bind to the
callable's signature.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import sys
import typing
from typing import Any

MODULES = ["azureml.core", "azureml.core.compute", "azureml.core.webservice", "azureml.core.model",
           "azureml.core.runconfig", "azureml.core.environment", "azureml.data", "azureml.train.hyperdrive",
           "azureml.widgets", "azureml.pipeline.core", "azureml.pipeline.steps"]

RECEIVERS = {  # the variable names v1's documentation and the studio's hints use, and what they hold
    "ws": ["Workspace"], "workspace": ["Workspace"], "exp": ["Experiment"], "experiment": ["Experiment"],
    "run": ["Run"], "child": ["Run"], "model": ["Model"], "service": ["Webservice"], "env": ["Environment"],
    "datastore": ["AbstractDatastore"], "ds": ["AbstractDatastore", "FileDataset", "TabularDataset"],
    "dataset": ["FileDataset", "TabularDataset"], "compute": ["ComputeTarget"], "cluster": ["AmlCompute"],
    "pipeline": ["Pipeline"], "endpoint": ["PipelineEndpoint"],
}

Unknown = object()  # a value whose type is not known: any public class may have the attribute


def public_names() -> dict[str, Any]:
    names: dict[str, Any] = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]:
            names.setdefault(name, getattr(module, name))
    from jupyter_aml.sdk.datastore import AbstractDatastore

    names.setdefault("AbstractDatastore", AbstractDatastore)
    return names


NAMES = public_names()
CLASSES = [v for v in NAMES.values() if inspect.isclass(v)]


def returned(fn: Any) -> Any:
    target = fn.__init__ if inspect.isclass(fn) else fn
    if inspect.isclass(fn):
        return [fn]
    try:
        hint = typing.get_type_hints(target).get("return")
    except Exception:
        return Unknown
    if inspect.isclass(hint):
        return [hint]
    args = [a for a in typing.get_args(hint) if inspect.isclass(a) and a is not type(None)]
    return args or Unknown


class Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.missing: list[str] = []

    def value(self, node: ast.expr) -> Any:
        """The candidates (a list of objects) ``node`` may evaluate to, Unknown, or None after a miss."""
        if isinstance(node, ast.Name):
            if node.id == "_any":
                return Unknown
            if node.id in RECEIVERS:
                return [NAMES[c] for c in RECEIVERS[node.id] if c in NAMES]
            if node.id in NAMES:
                return [NAMES[node.id]]
            self.missing.append(node.id)
            return None
        if isinstance(node, ast.Attribute):
            base = self.value(node.value)
            if base is None:
                return None
            pool = CLASSES if base is Unknown else base
            found = [getattr(obj, node.attr) for obj in pool if hasattr(obj, node.attr)]
            if not found:
                self.missing.append(f"{ast.unparse(node)}")
                return None
            return found
        if isinstance(node, ast.Call):
            func = self.value(node.func)
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                self.visit(arg)
            if func is None:
                return None
            if func is Unknown:
                return Unknown
            spelled = not any(isinstance(a, ast.Constant) and a.value is Ellipsis for a in node.args)
            if spelled and not any(self.binds(f, node) for f in func):
                self.missing.append(f"{ast.unparse(node)} (does not match the signature of "
                                    f"{ast.unparse(node.func)})")
            results = [returned(f) for f in func]
            if any(r is Unknown for r in results):
                return Unknown
            return [c for r in results for c in r]
        self.visit(node)
        return Unknown

    @staticmethod
    def binds(fn: Any, call: ast.Call) -> bool:
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return True
        try:
            sig.bind(*[None] * len(call.args), **{k.arg: None for k in call.keywords if k.arg})
        except TypeError:
            if inspect.isfunction(fn) and "self" in sig.parameters:  # an unbound method looked up on a class
                try:
                    sig.bind(None, *[None] * len(call.args), **{k.arg: None for k in call.keywords if k.arg})
                except TypeError:
                    return False
                return True
            return False
        return True

    def visit_Call(self, node: ast.Call) -> None:
        self.value(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.value(node)


def check(code: str) -> list[str]:
    tree = ast.parse(code)
    checker = Checker()
    for stmt in tree.body:
        checker.visit(stmt)
    return checker.missing


if __name__ == "__main__":
    snippets = json.load(sys.stdin)
    json.dump({code: check(code) for code in snippets}, sys.stdout)
