"""Where collected model data lands: the workspace service moves the replicas' closed spool chunks
(``collect.py``) into the workspaceblobstore datastore, in Azure ML v1's layout::

    modeldata/<subscription>/<resourcegroup>/<workspace>/<webservice>/<model>/<version>/<designation>/
        <yyyy>/<mm>/<dd>/data.csv

(``default`` for a subscription or resource group the workspace was not named with, as v1's collector's
``default/default/default``). One ``data.csv`` per partition, its header written once; rows are appended.
So ``Dataset.Tabular.from_delimited_files(path=(datastore, "modeldata/.../**/data.csv"))`` reads them and
``datastore.download(prefix="modeldata/...")`` fetches them.

The service, not the replica, decides the destination (the service's own folder), so a scoring script cannot
write into another service's data. Spool files are written by the scoring script's process: they are read
without following links, their folder names are checked, and what they hold is only ever appended as rows.
A partition stops growing at the service's ``max_day_bytes`` (per partition and day): the rows over it are
dropped, counted and logged once per partition. Harvesting runs with the telemetry flush (every few
seconds, and when telemetry is read) and once more when a revision stops, after its replicas flushed.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_aml.serving.collect import DEFAULT_MAX_DAY_BYTES, DESIGNATIONS, SAFE

log = logging.getLogger("jupyter_aml.serving")
MAX_CHUNK_BYTES = 64 * 1024 * 1024  # a chunk larger than this was not written by the collector: skipped
COUNTER_KEYS = ("collected", "rows", "sampled_out", "dropped_too_large", "dropped_queue_full", "dropped_errors",
                "dropped_day_limit")


@dataclass
class ServiceTotals:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTER_KEYS, 0))
    seen: dict[str, dict[str, int]] = field(default_factory=dict)  # a replica's stats file -> counts added
    moved: set[str] = field(default_factory=set)  # chunks appended but not removable (a container's files)
    warned: set[str] = field(default_factory=set)


def _read_nofollow(path: Path, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        data = handle.read(limit + 1)
    return None if len(data) > limit else data


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _no_links(spool: Path, chunk: Path) -> bool:
    """The chunk's path under the spool has no link in it (a link would let a scoring script point the service
    at files elsewhere, which it would then read and remove)."""
    try:
        return chunk.resolve() == spool.resolve().joinpath(*chunk.relative_to(spool).parts)
    except (OSError, ValueError):
        return False


class ModelDataSink:
    """Harvests spool chunks of a service's revisions into its datastore partitions."""

    def __init__(self, destination: Callable[[str, str], Path], max_day_bytes: Callable[[str, str], int]) -> None:
        """``destination(workspace, service)``: the service's folder under ``modeldata/``, made on demand;
        ``max_day_bytes(workspace, service)``: its limit per partition and day."""
        self.destination = destination
        self.max_day_bytes = max_day_bytes
        self.totals: dict[tuple[str, str], ServiceTotals] = {}
        self.lock = threading.Lock()  # one harvest at a time: appends never interleave

    def counters(self, workspace: str, name: str) -> dict[str, int] | None:
        totals = self.totals.get((workspace, name))
        return dict(totals.counts) if totals is not None else None

    def forget(self, workspace: str, name: str) -> None:
        self.totals.pop((workspace, name), None)

    def harvest(self, workspace: str, name: str, folder: Path) -> int:
        """Move the closed chunks found under ``folder`` (a service's folder or one revision's); the number of
        rows appended. Blocking: call it in a thread."""
        if not folder.is_dir():
            return 0
        with self.lock:
            base = folder.resolve()
            spools = [s for s in sorted(folder.glob("*/*/modeldata/*")) + sorted(folder.glob("*/modeldata/*"))
                      if _real_dir(s) and s.resolve().is_relative_to(base)]
            if not spools:
                return 0
            totals = self.totals.setdefault((workspace, name), ServiceTotals())
            chunks = [c for s in spools for c in sorted(s.glob("*/*/*/*/*/*/*.csv")) if _no_links(s, c)]
            appended = 0
            if chunks:
                target = self.destination(workspace, name)
                limit = self.max_day_bytes(workspace, name) or DEFAULT_MAX_DAY_BYTES
                for chunk in chunks:
                    if str(chunk) not in totals.moved:  # never appended twice
                        appended += self._move(chunk, target, limit, totals)
            for spool in spools:
                self._add_stats(spool, totals)
            return appended

    def _move(self, chunk: Path, target: Path, limit: int, totals: ServiceTotals) -> int:
        model, version, designation, year, month, day = chunk.parent.parts[-6:]
        try:
            if (not all(SAFE.fullmatch(p) for p in (model, version, designation, year, month, day))
                    or designation not in DESIGNATIONS or not (year + month + day).isdigit()):
                log.warning("skipping a model data chunk with an unexpected path: %s", chunk)
                return 0
            data = _read_nofollow(chunk, MAX_CHUNK_BYTES)
            if data is None:
                log.warning("skipping a model data chunk that is not a plain file under %d bytes: %s",
                            MAX_CHUNK_BYTES, chunk)
                return 0
            header, _, body = data.partition(b"\n")
            if not body:
                return 0
            partition = target / model / version / designation / year / month / day
            partition.mkdir(parents=True, exist_ok=True)
            dest = partition / "data.csv"
            size = dest.stat().st_size if dest.exists() else 0
            out = b"" if size else header + b"\n"
            rows = body.splitlines(keepends=True)
            kept = 0
            for row in rows:
                if size + len(out) + len(row) > limit:
                    break
                out += row
                kept += 1
            if kept < len(rows):
                totals.counts["dropped_day_limit"] += len(rows) - kept
                key = str(partition)
                if key not in totals.warned:
                    totals.warned.add(key)
                    log.warning("model data partition %s reached its %d-byte daily limit (max_day_bytes): "
                                "further rows of the day are dropped and counted", partition, limit)
            if kept:
                with open(dest, "ab") as handle:
                    handle.write(out)
            return kept
        finally:
            try:
                chunk.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                totals.moved.add(str(chunk))

    @staticmethod
    def _add_stats(spool: Path, totals: ServiceTotals) -> None:
        raw = _read_nofollow(spool / "stats.json", 64 * 1024)
        if raw is None:
            return
        try:
            stats = {k: int(v) for k, v in dict(json.loads(raw)).items() if k in COUNTER_KEYS and int(v) >= 0}
        except (ValueError, TypeError):
            return
        seen = totals.seen.setdefault(str(spool), {})
        for key, value in stats.items():
            delta = value - seen.get(key, 0)
            if delta > 0:
                totals.counts[key] += delta
                seen[key] = value


def sink_for(service: Any) -> ModelDataSink:
    """The sink of a workspace service (``core.service.AMLService``): workspaceblobstore's folder, the
    workspace's Azure ids, the service's ``max_day_bytes``."""

    def destination(workspace: str, name: str) -> Path:
        ws = service.workspaces.get(workspace)
        root = Path(service.datastores._blob_folder(workspace))  # made (0700) on first use, as by any write
        path = root.joinpath("modeldata", ws.subscription_id or "default", ws.resource_group or "default",
                             workspace, name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def max_day_bytes(workspace: str, name: str) -> int:
        try:
            config = service.deployments.get(workspace, name).deployment_config
        except Exception:  # deleted meanwhile: the default
            return DEFAULT_MAX_DAY_BYTES
        settings = getattr(config, "data_collection", None)
        return int(getattr(settings, "max_day_bytes", DEFAULT_MAX_DAY_BYTES) or DEFAULT_MAX_DAY_BYTES)

    return ModelDataSink(destination, max_day_bytes)


def prefix(subscription_id: str | None, resource_group: str | None, workspace: str, service: str) -> str:
    """The datastore path of a service's collected data (``modeldata/...``), for readers."""
    return "/".join(["modeldata", subscription_id or "default", resource_group or "default", workspace, service])


__all__ = ["COUNTER_KEYS", "ModelDataSink", "prefix", "sink_for"]
