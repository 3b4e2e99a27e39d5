"""Journal ingest, metric summaries and histories, and logs."""

from __future__ import annotations

import asyncio
import time

from jupyter_aml.core import models
from jupyter_aml.core.journal_check import parse_batch
from jupyter_aml.errors import PayloadTooLarge
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.runs import RUN


class JournalHandler(AMLHandler):
    @api("run", "Ship journal records (idempotent by seq)", body=models.JournalBatch, returns=models.JournalAck,
         action="runs/report")
    async def post(self, workspace: str, run_id: str) -> None:
        # Each record is checked on its own: the valid ones are stored, the others answered in ``rejected``.
        raw = self.raw_body()
        limit = self.aml.settings.max_request_bytes
        if len(raw) > limit:
            raise PayloadTooLarge(f"the request body is {len(raw)} bytes; the limit is {limit}",
                                  hint="send smaller batches")
        metrics = self.aml.metrics

        def parse_and_store() -> models.JournalAck:  # one hop off the event loop for both (large batches)
            return metrics.ingest_checked(workspace, run_id, parse_batch(raw))

        self.reply(await asyncio.to_thread(parse_and_store))


class MetricsHandler(AMLHandler):
    @api(
        "run",
        "List a run's metrics",
        returns=models.MetricSummaryList,
        query=(("recursive", "boolean", "include child runs"),),
        action="runs/read",
    )
    async def get(self, workspace: str, run_id: str) -> None:
        recursive = self.query_flag("recursive")
        items = await asyncio.to_thread(self.aml.metrics.summaries, workspace, run_id, recursive=recursive)
        self.reply({"items": [m.model_dump(mode="json") for m in items]})


class MetricValuesHandler(AMLHandler):
    @api(
        "run",
        "Every metric of a run with all its values, in one answer (the SDK's get_metrics)",
        returns=models.MetricHistoryList,
        query=(("recursive", "boolean", "include child runs"),),
        action="runs/read",
    )
    async def get(self, workspace: str, run_id: str) -> None:
        recursive = self.query_flag("recursive")
        items = await asyncio.to_thread(self.aml.metrics.all_values, workspace, run_id, recursive=recursive)
        self.reply({"items": [m.model_dump(mode="json") for m in items]})


class MetricHistoryHandler(AMLHandler):
    @api(
        "run",
        "A metric's values; scalars downsampled to max_points keeping minima and maxima",
        returns=models.MetricHistory,
        query=(("max_points", "integer", "downsample to at most this many"),),
        action="runs/read",
    )
    async def get(self, workspace: str, run_id: str, name: str) -> None:
        history = await asyncio.to_thread(
            self.aml.metrics.history, workspace, run_id, name, max_points=self.query_int("max_points")
        )
        self.reply(history.model_dump() if history.kind == "scalar" else history)


class LogsHandler(AMLHandler):
    @api(
        "run",
        "Read log lines after an id",
        returns=models.LogPage,
        query=(
            ("after", "integer", "last line id seen"),
            ("limit", "integer", "1..10000"),
            ("stream", "string", "stdout, stderr, ..."),
        ),
        action="runs/read",
    )
    async def get(self, workspace: str, run_id: str) -> None:
        page = await asyncio.to_thread(
            self.aml.files.logs,
            workspace,
            run_id,
            after=self.query_int("after", 0) or 0,
            limit=self.query_int("limit", 1000) or 1000,
            stream=self.get_query_argument("stream", None),
        )
        self.reply(page)

    @api("run", "Append log lines", body=models.LogBatch, returns=models.ItemCount, action="runs/report")
    async def post(self, workspace: str, run_id: str) -> None:
        batch = self.body(models.LogBatch)
        count = await asyncio.to_thread(self.aml.files.add_logs, workspace, run_id, batch, now=time.time())
        self.reply({"count": count})


ROUTES = [
    (rf"/workspaces/{RUN}/journal", JournalHandler),
    (rf"/workspaces/{RUN}/metrics", MetricsHandler),
    (rf"/workspaces/{RUN}/metric-values", MetricValuesHandler),
    (rf"/workspaces/{RUN}/metrics/(?P<name>[^/]+)", MetricHistoryHandler),
    (rf"/workspaces/{RUN}/logs", LogsHandler),
]
