"""Notebook views of runs. ``from jupyter_aml.widgets import RunDetails; RunDetails(run).show()``.

Imported lazily: ipywidgets and plotly load only when a view is built, so ``import jupyter_aml`` stays light;
``RunDetails`` (also ``azureml.widgets.RunDetails``) loads through widgets/preload.py, which skips an import
plotly pays for and never uses (jsonschema's IRI parser), or waits for the background import already running.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunDetails", "RunFeed", "RunState", "RunsTable", "records_table", "runs_table"]

_WHERE = {
    "RunDetails": "jupyter_aml.widgets.run_details",
    "RunFeed": "jupyter_aml.widgets.feed",
    "RunState": "jupyter_aml.widgets.state",
    "RunsTable": "jupyter_aml.widgets.tables",
    "records_table": "jupyter_aml.widgets.tables",
    "runs_table": "jupyter_aml.widgets.tables",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        if name == "RunDetails":
            from jupyter_aml.widgets import preload

            preload.wait()

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)
