"""Metrics: idempotent journal ingest, per-series summaries, and downsampled histories.

Scalars are appended to packed float64 chunks of CHUNK_POINTS points; a history read concatenates the
chunks with numpy, and downsampling keeps each bucket's minimum and maximum so that spikes survive.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jupyter_aml.core import models
from jupyter_aml.core.events import METRIC_EVENT_POINTS, EventSink, MetricEvent, discard
from jupyter_aml.core.journal_check import Checked, needs_readable, problem, readable
from jupyter_aml.core.runs import RunService
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import (
    JournalCursorRow,
    MetricChunkRow,
    MetricSeriesRow,
    MetricValueRow,
    RunPropertyRow,
    RunRow,
    RunTagRow,
)

CHUNK_POINTS = 8192
KINDS = {"m": "scalar", "l": "list", "r": "row", "tb": "table", "i": "image"}
Floats = NDArray[np.float64]
# Run properties that say a run's journal had records the service refused (how many, and the latest why).
REJECTED_COUNT = "aml.journal.rejected"
REJECTED_REASON = "aml.journal.rejected_reason"


def _pack(values: Floats) -> bytes:
    return values.astype("<f8", copy=False).tobytes()


def _unpack(blob: bytes) -> Floats:
    return np.frombuffer(blob, dtype="<f8")


def downsample(steps: Floats, values: Floats, times: Floats, max_points: int) -> tuple[Floats, Floats, Floats]:
    """Keep at most ``max_points`` points: the first, the last, and each bucket's min and max in order."""
    n = len(values)
    if n <= max_points:
        return steps, values, times
    inner = values[1:-1]
    buckets = max(1, (max_points - 2) // 2)
    size = -(-len(inner) // buckets)  # ceil
    padded = np.full(buckets * size, np.nan)
    padded[: len(inner)] = inner
    grid = padded.reshape(buckets, size)
    offsets = np.arange(buckets) * size + 1
    lows = np.argmin(np.where(np.isnan(grid), np.inf, grid), axis=1) + offsets
    highs = np.argmax(np.where(np.isnan(grid), -np.inf, grid), axis=1) + offsets
    chosen = np.unique(np.concatenate(([0, n - 1], lows, highs)))
    chosen = chosen[chosen < n]
    return steps[chosen], values[chosen], times[chosen]


def _jsonable(values: Floats) -> list[float | None]:
    return [None if math.isnan(v) or math.isinf(v) else v for v in values.tolist()]


class MetricService:
    def __init__(self, db: Store, runs: RunService, events: EventSink = discard) -> None:
        self.db = db
        self.runs = runs
        self.events = events

    # -- ingest ---------------------------------------------------------------------------------------
    def ingest(self, workspace: str, owner_run_id: str, batch: models.JournalBatch) -> int:
        """Apply a parsed batch (see :meth:`ingest_checked`); return the new acknowledged seq."""
        checked = Checked(batch.stream, [], [])
        for index, record in enumerate(batch.records):
            reason = problem(record)
            if reason is None:
                checked.records.append((index, record))
            else:
                checked.reject(index, record, None, reason)
        return self.ingest_checked(workspace, owner_run_id, checked).acked_seq

    def ingest_checked(self, workspace: str, owner_run_id: str, batch: Checked) -> models.JournalAck:
        """Store the records after the stream's acknowledged seq in one transaction; refuse bad ones alone.

        The answer's ``acked_seq`` covers stored and refused records alike, so a resend changes nothing;
        ``rejected`` says which were refused and why. Refusals are counted on the run (RUN_REJECTED_*).
        """
        rejected = list(batch.rejected)
        with self.db.session() as s:
            owner = RunService.row(s, workspace, owner_run_id)
            cursor = s.scalar(
                select(JournalCursorRow)
                .where(JournalCursorRow.run_id == owner.id, JournalCursorRow.stream == batch.stream)
                .with_for_update()
            )
            if cursor is None:
                cursor = JournalCursorRow(run_id=owner.id, stream=batch.stream, acked_seq=0)
                s.add(cursor)
            acked = cursor.acked_seq
            fresh = sorted((item for item in batch.records if item[1].seq > acked), key=lambda item: item[1].seq)
            fresh_rejected = [r for r in rejected if r.seq is None or r.seq > acked]
            run_ids = {r.run_id for _, r in fresh}
            allowed = set(
                s.scalars(select(RunRow.id).where(RunRow.id.in_(run_ids), RunRow.path.startswith(owner.path)))
            ) if run_ids else set()
            keep: list[tuple[int, models.JournalRecord]] = []
            for index, rec in fresh:
                if rec.run_id in allowed:
                    keep.append((index, rec))
                else:
                    fresh_rejected.append(models.JournalRejection(
                        index=index, seq=rec.seq,
                        reason=f"run {rec.run_id[:80]!r} is not this run or one of its children"))
            stored, refused = self._apply(s, keep)
            fresh_rejected += refused
            newest = max([rec.seq for _, rec in fresh] + [r.seq for r in fresh_rejected if r.seq is not None],
                         default=acked)
            cursor.acked_seq = acked = max(acked, newest)
            if fresh_rejected:
                self._note_rejections(s, owner.id, batch.stream, fresh_rejected)
        for event in stored:  # after the commit: a client that reads history next finds these points
            self.events(workspace, event)
        if fresh_rejected:
            self.runs._emit(self.runs.get(workspace, owner_run_id))  # the run page shows the refusals
        return models.JournalAck(acked_seq=acked, rejected=sorted(
            {r.index: r for r in [*rejected, *fresh_rejected]}.values(), key=lambda r: r.index))

    @staticmethod
    def _note_rejections(s: Session, run_id: str, stream: str, rejected: Sequence[models.JournalRejection]) -> None:
        """Count the refused records on the run, and keep the latest reason, where the run's readers look."""
        count = s.get(RunPropertyRow, (run_id, REJECTED_COUNT))
        total = len(rejected) + (int(count.value) if count is not None and count.value.isdigit() else 0)
        last = rejected[-1]
        where = f"seq {last.seq}" if last.seq is not None else f"record {last.index} of a batch"
        reason = f"stream {stream}, {where}: {last.reason}"[:2000]
        for key, value in ((REJECTED_COUNT, str(total)), (REJECTED_REASON, reason)):
            row = s.get(RunPropertyRow, (run_id, key))
            if row is None:
                s.add(RunPropertyRow(run_id=run_id, key=key, value=value))
            else:
                row.value = value

    def _apply(
        self, s: Session, records: Sequence[tuple[int, models.JournalRecord]]
    ) -> tuple[list[MetricEvent], list[models.JournalRejection]]:
        """Store the records; return one event per scalar series (the points as stored) and the refusals.

        A record whose metric name already holds another kind is refused alone (its series is untouched).
        """
        scalars: dict[tuple[str, str], list[tuple[int, models.JournalRecord]]] = defaultdict(list)
        refused: list[models.JournalRejection] = []
        for index, rec in records:
            if rec.k == "tag":
                row = s.get(RunTagRow, (rec.run_id, rec.n))
                if row is None:
                    s.add(RunTagRow(run_id=rec.run_id, key=rec.n, value=str(rec.v)))
                else:
                    row.value = str(rec.v)
            elif rec.k == "prop":
                if s.get(RunPropertyRow, (rec.run_id, rec.n)) is None:
                    s.add(RunPropertyRow(run_id=rec.run_id, key=rec.n, value=str(rec.v)))
            elif rec.k == "m":
                scalars[(rec.run_id, rec.n)].append((index, rec))
            else:
                try:
                    series = self._series(s, rec.run_id, rec.n, KINDS[rec.k], rec.d)
                except InvalidInput as exc:
                    refused.append(models.JournalRejection(index=index, seq=rec.seq, reason=exc.message))
                    continue
                payload: Any = (models.ImageValue(sha256=rec.sha256, path=rec.path).model_dump() if rec.k == "i"
                                else rec.v)
                s.add(MetricValueRow(series_id=series.id, ts=rec.t, payload=payload))
                series.count += 1
        events = []
        for (run_id, name), items in scalars.items():
            try:
                events.append(self._append_scalars(s, run_id, name, [rec for _, rec in items]))
            except InvalidInput as exc:
                refused += [models.JournalRejection(index=i, seq=rec.seq, reason=exc.message) for i, rec in items]
        return events, refused

    def _series(self, s: Session, run_id: str, name: str, kind: str, description: str | None) -> MetricSeriesRow:
        series = s.scalar(select(MetricSeriesRow).where(MetricSeriesRow.run_id == run_id, MetricSeriesRow.name == name))
        if series is None:
            series = MetricSeriesRow(run_id=run_id, name=name, kind=kind, description=description or "", count=0)
            s.add(series)
            s.flush()
        elif series.kind != kind:
            raise InvalidInput(
                f"metric {name!r} of run {run_id!r} is a {series.kind}, not a {kind}",
                hint="log each metric name with one kind only",
            )
        if description and not series.description:
            series.description = description
        return series

    def _append_scalars(
        self, s: Session, run_id: str, name: str, recs: Sequence[models.JournalRecord]
    ) -> MetricEvent:
        """Append to the series' chunks. A point logged without a step gets its index in the series."""
        series = self._series(s, run_id, name, "scalar", next((r.d for r in recs if r.d), None))
        try:
            values = np.array([float(r.v) for r in recs], dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"metric {name!r} has a value that is not a number",
                hint="use log_list/log_row/log_table for non-scalar values",
            ) from None
        base = series.count
        steps = np.array([r.s if r.s is not None else base + i for i, r in enumerate(recs)], dtype=np.float64)
        times = np.array([r.t for r in recs], dtype=np.float64)
        newest = slice(-METRIC_EVENT_POINTS, None)
        event = MetricEvent(
            run_id=run_id,
            name=name,
            total=base + len(recs),
            steps=steps[newest].tolist(),
            values=_jsonable(values[newest]),
            times=times[newest].tolist(),
        )
        last_chunk = s.scalar(
            select(MetricChunkRow)
            .where(MetricChunkRow.series_id == series.id)
            .order_by(MetricChunkRow.chunk_no.desc())
            .limit(1)
        )
        if last_chunk is not None and last_chunk.count < CHUNK_POINTS:
            room = CHUNK_POINTS - last_chunk.count
            head = slice(0, room)
            last_chunk.steps = last_chunk.steps + _pack(steps[head])
            last_chunk.values = last_chunk.values + _pack(values[head])
            last_chunk.times = last_chunk.times + _pack(times[head])
            last_chunk.count += len(values[head])
            steps, values_rest, times = steps[room:], values[room:], times[room:]
        else:
            values_rest = values
        next_no = (last_chunk.chunk_no + 1) if last_chunk is not None else 0
        for start in range(0, len(values_rest), CHUNK_POINTS):
            part = slice(start, start + CHUNK_POINTS)
            s.add(
                MetricChunkRow(
                    series_id=series.id,
                    chunk_no=next_no,
                    count=len(values_rest[part]),
                    steps=_pack(steps[part]),
                    values=_pack(values_rest[part]),
                    times=_pack(times[part]),
                )
            )
            next_no += 1
        finite = values[~np.isnan(values)]
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
            series.min_value = low if series.min_value is None else min(series.min_value, low)
            series.max_value = high if series.max_value is None else max(series.max_value, high)
        series.count = base + len(recs)
        series.last_value = float(recs[-1].v)
        series.last_step = float(event.steps[-1])
        return event

    # -- reading --------------------------------------------------------------------------------------
    def summaries(self, workspace: str, run_id: str, *, recursive: bool = False) -> list[models.MetricSummary]:
        with self.db.read() as s:
            run = RunService.row(s, workspace, run_id)
            cond = RunRow.path.startswith(run.path) if recursive else RunRow.id == run.id
            rows = s.scalars(
                select(MetricSeriesRow)
                .join(RunRow, RunRow.id == MetricSeriesRow.run_id)
                .where(cond)
                .order_by(MetricSeriesRow.run_id, MetricSeriesRow.name)
            )
            return [
                models.MetricSummary(
                    run_id=r.run_id,
                    name=r.name,
                    kind=cast(models.MetricKind, r.kind),
                    description=r.description,
                    count=r.count,
                    last_value=r.last_value,
                    last_step=r.last_step,
                    min=r.min_value,
                    max=r.max_value,
                )
                for r in rows
            ]

    def history(self, workspace: str, run_id: str, name: str, *, max_points: int | None = None) -> models.MetricHistory:
        if max_points is not None and max_points < 10:
            raise InvalidInput(f"max_points {max_points} is too small", hint="ask for at least 10 points")
        with self.db.read() as s:
            run = RunService.row(s, workspace, run_id)
            series = s.scalar(
                select(MetricSeriesRow).where(MetricSeriesRow.run_id == run.id, MetricSeriesRow.name == name)
            )
            if series is None:
                raise NotFound(f"metric {name!r} not found in run {run_id!r}", hint="list metrics with get_metrics()")
            if series.kind != "scalar":
                payloads = s.scalars(
                    select(MetricValueRow.payload)
                    .where(MetricValueRow.series_id == series.id)
                    .order_by(MetricValueRow.id)
                )
                values = [readable(v) if needs_readable(v) else v for v in payloads]
                return models.MetricHistory(
                    run_id=run.id,
                    name=name,
                    kind=cast(models.MetricKind, series.kind),
                    total=len(values),
                    values=values,
                )
            chunks = s.execute(
                select(MetricChunkRow.steps, MetricChunkRow.values, MetricChunkRow.times)
                .where(MetricChunkRow.series_id == series.id)
                .order_by(MetricChunkRow.chunk_no)
            ).all()
        steps = np.concatenate([_unpack(c[0]) for c in chunks]) if chunks else np.empty(0)
        values_arr = np.concatenate([_unpack(c[1]) for c in chunks]) if chunks else np.empty(0)
        times = np.concatenate([_unpack(c[2]) for c in chunks]) if chunks else np.empty(0)
        total = len(values_arr)
        if max_points:
            steps, values_arr, times = downsample(steps, values_arr, times, max_points)
        return models.MetricHistory.model_construct(
            run_id=run_id,
            name=name,
            kind="scalar",
            total=total,
            downsampled=len(values_arr) < total,
            steps=steps.tolist(),
            values=_jsonable(values_arr),
            times=times.tolist(),
        )

    def all_values(self, workspace: str, run_id: str, *, recursive: bool = False) -> list[models.MetricHistory]:
        """Every series of the run (and its descendants) with all its values, in three queries."""
        with self.db.read() as s:
            run = RunService.row(s, workspace, run_id)
            cond = RunRow.path.startswith(run.path) if recursive else RunRow.id == run.id
            series = list(
                s.scalars(
                    select(MetricSeriesRow)
                    .join(RunRow, RunRow.id == MetricSeriesRow.run_id)
                    .where(cond)
                    .order_by(MetricSeriesRow.run_id, MetricSeriesRow.name)
                )
            )
            ids = [r.id for r in series]
            chunks: dict[int, list[Any]] = defaultdict(list)
            for row in s.execute(
                select(MetricChunkRow.series_id, MetricChunkRow.steps, MetricChunkRow.values, MetricChunkRow.times)
                .where(MetricChunkRow.series_id.in_(ids))
                .order_by(MetricChunkRow.series_id, MetricChunkRow.chunk_no)
            ):
                chunks[row[0]].append(row)
            payloads: dict[int, list[Any]] = defaultdict(list)
            for sid, payload in s.execute(
                select(MetricValueRow.series_id, MetricValueRow.payload)
                .where(MetricValueRow.series_id.in_(ids))
                .order_by(MetricValueRow.id)
            ):
                payloads[sid].append(payload)
        out = []
        for r in series:
            if r.kind != "scalar":
                values = [readable(v) if needs_readable(v) else v for v in payloads[r.id]]
                out.append(models.MetricHistory(run_id=r.run_id, name=r.name, kind=cast(models.MetricKind, r.kind),
                                                total=len(values),
                                                values=values))
                continue
            parts = chunks[r.id]
            steps = np.concatenate([_unpack(c[1]) for c in parts]) if parts else np.empty(0)
            values_arr = np.concatenate([_unpack(c[2]) for c in parts]) if parts else np.empty(0)
            times = np.concatenate([_unpack(c[3]) for c in parts]) if parts else np.empty(0)
            out.append(models.MetricHistory.model_construct(
                run_id=r.run_id, name=r.name, kind="scalar", total=len(values_arr), downsampled=False,
                steps=steps.tolist(), values=_jsonable(values_arr), times=times.tolist()))
        return out

    def acked_seq(self, workspace: str, run_id: str, stream: str) -> int:
        """The highest seq of ``stream`` of the run's journal that is stored or refused (0: none yet)."""
        with self.db.read() as s:
            run = RunService.row(s, workspace, run_id)
            cursor = s.get(JournalCursorRow, (run.id, stream))
            return cursor.acked_seq if cursor is not None else 0

    def count_points(self, workspace: str, run_id: str) -> int:
        with self.db.read() as s:
            run = RunService.row(s, workspace, run_id)
            return int(
                s.scalar(
                    select(func.coalesce(func.sum(MetricSeriesRow.count), 0)).where(MetricSeriesRow.run_id == run.id)
                )
                or 0
            )
