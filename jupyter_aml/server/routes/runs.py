"""Runs: submit, list, details, update, children, status, cancel, heartbeat."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyter_aml.core import models
from jupyter_aml.mlflow_api import run_filter
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS

RUN = rf"{WS}/runs/(?P<run_id>[^/]+)"
LIST_QUERY = (
    ("experiment", "string", "experiment name"),
    ("status", "string", "repeatable status filter"),
    ("tag", "string", "repeatable: key or key=value"),
    ("property", "string", "repeatable: key or key=value"),
    ("parent_id", "string", "only children of this run"),
    ("root_only", "boolean", "only top-level runs"),
    ("sort", "string", "created_at, start_time, duration, status, number, metric:NAME; '-' for descending"),
    ("page_size", "integer", "1..500"),
    ("page_token", "string", "next_page_token of the previous page"),
    ("filter", "string", "MLflow's grammar: metrics.loss.min < 0.1 AND params.lr = '0.1' AND status = 'Completed'"),
    ("order_by", "string", "repeatable: metrics.acc DESC, params.lr, tags.t, start_time; before sort"),
    ("metrics", "string", "comma-separated metric names returned as metric_columns {last, min, max}"),
    ("params", "string", "comma-separated param (property) names returned as param_columns"),
)


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


class RunsHandler(AMLHandler):
    @api("user", "List runs (paged, filtered, sorted; chosen metrics and params as columns)", returns=models.RunPage,
         query=LIST_QUERY, action="runs/read")
    async def get(self, workspace: str) -> None:
        conds, order = run_filter.rest_terms(self.get_query_argument("filter", None), self.query_list("order_by"))
        page = await asyncio.to_thread(
            self.aml.runs.find,
            workspace,
            experiment=self.get_query_argument("experiment", None),
            statuses=self.query_list("status"),
            tags=self.query_list("tag"),
            properties=self.query_list("property"),
            parent_id=self.get_query_argument("parent_id", None),
            root_only=self.query_flag("root_only"),
            sort=self.get_query_argument("sort", "-created_at"),
            page_size=self.query_int("page_size", 50),
            page_token=self.get_query_argument("page_token", None),
            conds=conds,
            order_by=order,
            metric_columns=_names(self.get_query_argument("metrics", None)),
            param_columns=_names(self.get_query_argument("params", None)),
        )
        self.reply(page)

    @api("user", "Submit a run or start an interactive run", body=models.RunCreate, returns=models.Run, status=201,
         action="runs/submit")
    async def post(self, workspace: str) -> None:
        spec = self.body(models.RunCreate)
        activity = self.take_activity(201)  # written in the run's own transaction
        self.reply(await self.scheduler.submit(workspace, spec, submitter=self.submitter, activity=activity), 201)


class FolderRunsHandler(AMLHandler):
    @api(
        "user",
        "Submit a folder on the server (relative to the Jupyter root) as a run",
        body=models.FolderRunCreate,
        returns=models.Run,
        status=201,
        action="runs/submit",
    )
    async def post(self, workspace: str) -> None:
        spec = self.body(models.FolderRunCreate)
        root = Path(self.settings.get("server_root_dir") or Path.cwd()).expanduser()
        self.reply(await self.app.submit_folder(workspace, spec, server_root=root, submitter=self.submitter), 201)


class RunHandler(AMLHandler):
    @api("run", "Get a run", returns=models.Run, action="runs/read")
    async def get(self, workspace: str, run_id: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.runs.get, workspace, run_id))

    @api("run", "Update tags, properties, name or description", body=models.RunUpdate, returns=models.Run,
         action="runs/write")
    async def patch(self, workspace: str, run_id: str) -> None:
        spec = self.body(models.RunUpdate)
        self.reply(await asyncio.to_thread(self.aml.runs.update, workspace, run_id, spec))


class ChildrenHandler(AMLHandler):
    @api("run", "List child runs", returns=models.RunList, query=(("recursive", "boolean", "all descendants"),),
         action="runs/read", lists_descendants=True)
    async def get(self, workspace: str, run_id: str) -> None:
        recursive = self.query_flag("recursive")
        items = await asyncio.to_thread(self.aml.runs.children, workspace, run_id, recursive=recursive)
        self.reply({"items": [r.model_dump(mode="json") for r in items]})

    @api("run", "Create child runs", body=models.ChildCreate, returns=models.RunList, status=201, action="runs/write")
    async def post(self, workspace: str, run_id: str) -> None:
        spec = self.body(models.ChildCreate)
        items = await asyncio.to_thread(
            self.aml.runs.create_children, workspace, run_id, spec, submitter=self.submitter
        )
        self.reply({"items": [r.model_dump(mode="json") for r in items]}, 201)


class StatusHandler(AMLHandler):
    @api("run", "Report a status change (with the run's last journal records, stored first)", body=models.StatusUpdate,
         returns=models.Run, action="runs/report")
    async def post(self, workspace: str, run_id: str) -> None:
        spec = self.body(models.StatusUpdate)
        journal = spec.journal
        if spec.status == models.RunStatus.CANCELED:
            if journal is not None:
                await asyncio.to_thread(self.aml.metrics.ingest, workspace, run_id, journal)
            self.reply(await self.scheduler.cancel(workspace, run_id))
            return

        def report() -> models.Run:  # the last records first, in the same worker hop: then the status
            if journal is not None:
                self.aml.metrics.ingest(workspace, run_id, journal)
            return self.aml.runs.set_status(workspace, run_id, spec)

        self.reply(await asyncio.to_thread(report))


class CancelHandler(AMLHandler):
    @api("run", "Cancel a run (stops its whole process tree)", returns=models.Run, action="runs/cancel")
    async def post(self, workspace: str, run_id: str) -> None:
        self.reply(await self.scheduler.cancel(workspace, run_id))


class HeartbeatHandler(AMLHandler):
    @api("run", "Heartbeat from the run agent; answers the run's status", returns=models.Heartbeat,
         action="runs/report")
    async def post(self, workspace: str, run_id: str) -> None:
        status = await asyncio.to_thread(self.aml.runs.heartbeat, workspace, run_id)
        self.reply({"status": status.value})


class LogFilesHandler(AMLHandler):
    @api("run", "The run's log files by v1's names (the script's output is azureml-logs/70_driver_log.txt)",
         returns=models.LogFileList, action="runs/read")
    async def get(self, workspace: str, run_id: str) -> None:
        self.reply({"items": await asyncio.to_thread(self.aml.runs.log_file_names, workspace, run_id)})


class LogFileContentHandler(AMLHandler):
    @api("run", "Download one log file as text (its lines so far, while the run is going)",
         query=(("name", "string", "a name from the run's log files"),), content_type="text/plain",
         action="runs/read")
    async def get(self, workspace: str, run_id: str) -> None:
        name = self.get_query_argument("name", "", strip=False)
        pages = await asyncio.to_thread(self.aml.runs.log_file_text, workspace, run_id, name)
        first = await asyncio.to_thread(next, pages, None)  # NotFound is raised before anything is sent
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{Path(name).name}"')
        chunk = first
        while chunk is not None:
            self.write(chunk.encode())
            await self.flush()
            chunk = await asyncio.to_thread(next, pages, None)
        self.finish()


ROUTES = [
    (rf"/workspaces/{WS}/runs", RunsHandler),
    (rf"/workspaces/{WS}/runs/from-folder", FolderRunsHandler),
    (rf"/workspaces/{RUN}", RunHandler),
    (rf"/workspaces/{RUN}/children", ChildrenHandler),
    (rf"/workspaces/{RUN}/status", StatusHandler),
    (rf"/workspaces/{RUN}/cancel", CancelHandler),
    (rf"/workspaces/{RUN}/heartbeat", HeartbeatHandler),
    (rf"/workspaces/{RUN}/logfiles", LogFilesHandler),
    (rf"/workspaces/{RUN}/logfiles/content", LogFileContentHandler),
]
