"""Metrics: idempotent journal ingest, per-series summaries, and downsampled histories.

Scalars are appended to packed float64 chunks of CHUNK_POINTS points; a history read concatenates the
chunks with numpy, and downsampling keeps each bucket's minimum and maximum so that spikes survive.

A scalar keeps the type it was logged with (v1 does): a chunk whose points are all floats stores no
types; otherwise one uint8 code per point (CODES) says float, int, bool, None or str, the float64 array
holds the number a chart draws (NaN for None and strings), and the chunk's ``texts`` hold strings and
integers past 2**53 exactly. Non-finite floats are stored as themselves and answered as marker strings
(runtime/metric_values.py).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from jupyter_aml.core import metric_rollups as rollups
from jupyter_aml.core import models
from jupyter_aml.core.events import METRIC_EVENT_POINTS, EventSink, MetricEvent, discard
from jupyter_aml.core.journal_check import Checked, needs_readable, readable
from jupyter_aml.core.journal_scalars import ScalarColumns, Scalars
from jupyter_aml.core.metric_points import CODE, CODES, Points, downsample_indices, pack
from jupyter_aml.core.runs import RunService
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.runtime.metric_values import V1_KINDS, encode_nested
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
KINDS = {"m": "scalar", "l": "list", "r": "row", "tb": "table", "i": "image", **V1_KINDS}
Floats = NDArray[np.float64]
# Run properties that say a run's journal had records the service refused (how many, and the latest why).
REJECTED_COUNT = "aml.journal.rejected"
REJECTED_REASON = "aml.journal.rejected_reason"


SERIES_QUERY_NAMES = 500  # names per IN (...) when reading a batch's series: far below SQLite's variable limit


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
            checked.admit(index, record)
        return self.ingest_checked(workspace, owner_run_id, checked).acked_seq

    def ingest_checked(self, workspace: str, owner_run_id: str, batch: Checked) -> models.JournalAck:
        """Store the records after the stream's acknowledged seq in one transaction; refuse bad ones alone.

        The answer's ``acked_seq`` covers stored and refused records alike, so a resend changes nothing;
        ``rejected`` says which were refused and why. Refusals are counted on the run (RUN_REJECTED_*).
        """
        rejected = list(batch.rejected)
        scalars = batch.scalars.in_seq_order()
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
            scalars = scalars.after(acked)
            fresh_rejected = [r for r in rejected if r.seq is None or r.seq > acked]
            newest = max([rec.seq for _, rec in fresh] + scalars.seq[-1:]
                         + [r.seq for r in fresh_rejected if r.seq is not None], default=acked)
            run_ids = {r.run_id for _, r in fresh} | set(scalars.run_id)
            allowed = set(
                s.scalars(select(RunRow.id).where(RunRow.id.in_(run_ids), RunRow.path.startswith(owner.path)))
            ) if run_ids else set()
            keep: list[tuple[int, models.JournalRecord]] = []
            for index, rec in fresh:
                if rec.run_id in allowed:
                    keep.append((index, rec))
                else:
                    fresh_rejected.append(_outside(index, rec.seq, rec.run_id))
            if not allowed.issuperset(scalars.run_id):
                inside = [i for i, rid in enumerate(scalars.run_id) if rid in allowed]
                fresh_rejected += [_outside(scalars.index[i], scalars.seq[i], scalars.run_id[i])
                                   for i in range(len(scalars)) if scalars.run_id[i] not in allowed]
                scalars = scalars.take(inside)
            stored, refused = self._apply(s, keep, scalars)
            fresh_rejected += refused
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
        self, s: Session, records: Sequence[tuple[int, models.JournalRecord]], scalars: Scalars | None = None
    ) -> tuple[list[MetricEvent], list[models.JournalRejection]]:
        """Store the records and ``scalars``; return one event per scalar series (the points as stored) and the
        refusals. Without ``scalars``, the scalar records among ``records`` are taken as they come.

        A record whose metric name already holds another kind is refused alone (its series is untouched).
        """
        if scalars is None:
            checked = Checked("", [], [])
            for index, rec in records:
                if rec.k == "m":
                    checked.scalars.add(index, rec.seq, rec.run_id, rec.n, rec.t, rec.v, rec.s, rec.d, rec.vt)
                else:
                    checked.records.append((index, rec))
            records, scalars = checked.records, checked.scalars.in_seq_order()
        refused: list[models.JournalRejection] = []
        groups = scalars.groups()
        named = [(rec.seq, rec.run_id, rec.n, KINDS[rec.k], rec.d) for _, rec in records if rec.k in KINDS]
        named += [(scalars.seq[pos[0]], run_id, name, "scalar", scalars.d[pos[0]])
                  for (run_id, name), pos in groups.items()]
        named.sort(key=lambda item: item[0])  # the first record of a name (by seq) sets its kind
        batch = _SeriesOfBatch(s, [item[1:] for item in named])
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
            else:
                try:
                    series = self._series(batch, rec.run_id, rec.n, KINDS[rec.k], rec.d)
                except InvalidInput as exc:
                    refused.append(models.JournalRejection(index=index, seq=rec.seq, reason=exc.message))
                    continue
                nonfinite = False
                if rec.k == "i":
                    payload: Any = models.ImageValue(sha256=rec.sha256, path=rec.path).model_dump()
                else:
                    payload, found = encode_nested(rec.v)  # floats NaN/inf parsed from the JSON, if any
                    nonfinite = bool(rec.nf) or found
                s.add(MetricValueRow(series_id=series.id, ts=rec.t, payload=payload, nonfinite=nonfinite or None))
                series.count += 1
        events = []
        for (run_id, name), positions in groups.items():
            group = scalars if len(positions) == len(scalars) else scalars.take(positions)
            try:
                events.append(self._append_scalars(s, batch, run_id, name, group))
            except InvalidInput as exc:
                refused += [models.JournalRejection(index=i, seq=seq, reason=exc.message)
                            for i, seq in group.accepted()]
        return events, refused

    @staticmethod
    def _series(batch: _SeriesOfBatch, run_id: str, name: str, kind: str, description: str | None) -> MetricSeriesRow:
        series = batch.rows[(run_id, name)]
        if series.kind != kind:
            raise InvalidInput(
                f"metric {name!r} of run {run_id!r} is a {series.kind}, not a {kind}",
                hint="log each metric name with one kind only",
            )
        if description and not series.description:
            series.description = description
        return series

    def _append_scalars(
        self, s: Session, batch: _SeriesOfBatch, run_id: str, name: str, recs: Scalars
    ) -> MetricEvent:
        """Append to the series' chunks. A point logged without a step gets its index in the series."""
        series = self._series(batch, run_id, name, "scalar", next((d for d in recs.d if d), None))
        cols = ScalarColumns(recs)
        values, codes, texts = cols.values, cols.codes, cols.texts
        typed = bool(codes.any())
        base = series.count
        if None in recs.s:
            steps = np.array([st if st is not None else base + i for i, st in enumerate(recs.s)], dtype=np.float64)
        else:
            steps = np.array(recs.s, dtype=np.float64)
        times = np.array(recs.t, dtype=np.float64)
        newest = slice(-METRIC_EVENT_POINTS, None)
        event = MetricEvent(
            run_id=run_id,
            name=name,
            total=base + len(recs),
            steps=steps[newest].tolist(),
            values=cols.shown(METRIC_EVENT_POINTS),
            times=times[newest].tolist(),
            types=cols.shown_types(METRIC_EVENT_POINTS),
        )
        seen = set(CODES[c] for c in np.unique(codes).tolist())
        before = series.value_type or ("f" if base else None)
        if before is not None and before != "mixed":
            seen.add(before)
        series.value_type = "mixed" if before == "mixed" or len(seen) > 1 else seen.pop()
        last_chunk = None if (run_id, name) in batch.created else s.scalar(
            select(MetricChunkRow)
            .where(MetricChunkRow.series_id == series.id)
            .order_by(MetricChunkRow.chunk_no.desc())
            .limit(1)
        )
        start = 0
        if last_chunk is not None and last_chunk.count < CHUNK_POINTS:
            room = CHUNK_POINTS - last_chunk.count
            head = slice(0, room)
            last_chunk.steps = last_chunk.steps + pack(steps[head])
            last_chunk.values = last_chunk.values + pack(values[head])
            last_chunk.times = last_chunk.times + pack(times[head])
            if typed or last_chunk.types is not None:
                old_types = last_chunk.types if last_chunk.types is not None else bytes(last_chunk.count)
                last_chunk.types = old_types + codes[head].tobytes()
            added = {str(last_chunk.count + i): t for i, t in texts.items() if i < room}
            if added:
                last_chunk.texts = {**(last_chunk.texts or {}), **added}
            last_chunk.count += len(values[head])
            start = room
        next_no = (last_chunk.chunk_no + 1) if last_chunk is not None else 0
        for first in range(start, len(values), CHUNK_POINTS):
            part = slice(first, first + CHUNK_POINTS)
            part_codes = codes[part]
            part_texts = {str(i - first): t for i, t in texts.items() if first <= i < first + CHUNK_POINTS}
            s.add(
                MetricChunkRow(
                    series_id=series.id,
                    chunk_no=next_no,
                    count=len(values[part]),
                    steps=pack(steps[part]),
                    values=pack(values[part]),
                    times=pack(times[part]),
                    types=part_codes.tobytes() if part_codes.any() else None,
                    texts=part_texts or None,
                )
            )
            next_no += 1
        numeric = np.isfinite(values) & np.isin(codes, (CODE["f"], CODE["i"]))
        finite = values[numeric]
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
            series.min_value = low if series.min_value is None else min(series.min_value, low)
            series.max_value = high if series.max_value is None else max(series.max_value, high)
        series.count = base + len(recs)
        last_code, last_number, last_wire = cols.last
        series.last_value = last_number if last_code in ("f", "i", "b") and math.isfinite(last_number) else None
        series.last_json = json.dumps([last_code, last_wire])
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
            return [_summary(r) for r in rows]

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
                rows = s.execute(
                    select(MetricValueRow.payload, MetricValueRow.nonfinite)
                    .where(MetricValueRow.series_id == series.id)
                    .order_by(MetricValueRow.id)
                ).all()
                return _others(run.id, name, series.kind, [tuple(r) for r in rows])
            fast = rollups.downsampled(s, series.id, max_points) if max_points and rollups.usable(
                series.value_type, series.count, max_points) else None  # core/metric_rollups.py
            if fast is not None:
                rollups.store_missing(self.db, fast.missing)
                return fast.history(run_id, name)
            chunks = s.execute(
                select(MetricChunkRow.steps, MetricChunkRow.values, MetricChunkRow.times, MetricChunkRow.types,
                       MetricChunkRow.texts)
                .where(MetricChunkRow.series_id == series.id)
                .order_by(MetricChunkRow.chunk_no)
            ).all()
        points = Points(chunks)
        total = len(points.values)
        chosen = downsample_indices(points.values, max_points) if max_points else None
        steps, times = points.steps, points.times
        if chosen is not None:
            steps, times = steps[chosen], times[chosen]
        values, types = points.wire(chosen)
        return models.MetricHistory.model_construct(
            run_id=run_id,
            name=name,
            kind="scalar",
            total=total,
            downsampled=len(values) < total,
            steps=steps.tolist(),
            values=values,
            times=times.tolist(),
            types=types,
            nonfinite=None,
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
                select(MetricChunkRow.series_id, MetricChunkRow.steps, MetricChunkRow.values, MetricChunkRow.times,
                       MetricChunkRow.types, MetricChunkRow.texts)
                .where(MetricChunkRow.series_id.in_(ids))
                .order_by(MetricChunkRow.series_id, MetricChunkRow.chunk_no)
            ):
                chunks[row[0]].append(tuple(row)[1:])
            payloads: dict[int, list[tuple[Any, bool | None]]] = defaultdict(list)
            for sid, payload, nonfinite in s.execute(
                select(MetricValueRow.series_id, MetricValueRow.payload, MetricValueRow.nonfinite)
                .where(MetricValueRow.series_id.in_(ids))
                .order_by(MetricValueRow.id)
            ):
                payloads[sid].append((payload, nonfinite))
        out = []
        for r in series:
            if r.kind != "scalar":
                out.append(_others(r.run_id, r.name, r.kind, payloads[r.id]))
                continue
            points = Points(chunks[r.id])
            values, types = points.wire(None)
            out.append(models.MetricHistory.model_construct(
                run_id=r.run_id, name=r.name, kind="scalar", total=len(values), downsampled=False,
                steps=points.steps.tolist(), values=values, times=points.times.tolist(), types=types,
                nonfinite=None))
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


def _outside(index: int, seq: int, run_id: str) -> models.JournalRejection:
    return models.JournalRejection(index=index, seq=seq,
                                   reason=f"run {run_id[:80]!r} is not this run or one of its children")


def _summary(r: MetricSeriesRow) -> models.MetricSummary:
    last_type, last = None, None
    if r.last_json is not None:
        last_type, last = json.loads(r.last_json)
    elif r.kind == "scalar" and r.count:  # stored before types were kept: a float
        last_type, last = "f", r.last_value
    return models.MetricSummary(
        run_id=r.run_id,
        name=r.name,
        kind=cast(models.MetricKind, r.kind),
        description=r.description,
        count=r.count,
        last_value=r.last_value,
        last_step=r.last_step,
        min=r.min_value,
        max=r.max_value,
        value_type=r.value_type or ("f" if r.kind == "scalar" and r.count else None),
        last=last,
        last_type=last_type,
    )


def _others(run_id: str, name: str, kind: str, rows: Sequence[tuple[Any, bool | None]]) -> models.MetricHistory:
    """A non-scalar history: the stored values, and which of them hold non-finite markers."""
    values = [readable(v) if needs_readable(v) else v for v, _ in rows]
    nonfinite = [i for i, (_, flag) in enumerate(rows) if flag]
    return models.MetricHistory(run_id=run_id, name=name, kind=cast(models.MetricKind, kind), total=len(values),
                                values=values, nonfinite=nonfinite or None)


class _SeriesOfBatch:
    """The series a journal batch writes to: the existing ones read in one query per run, the new ones made
    with one flush, in the order the batch first names them (the first record of a name sets its kind).
    One to three queries per metric name made a 10-metric run's first batch a third of its creation cost."""

    def __init__(self, s: Session, named: Sequence[tuple[str, str, str, str | None]]) -> None:
        """``named``: (run id, metric name, kind, description) of the batch's records in seq order."""
        self.rows: dict[tuple[str, str], MetricSeriesRow] = {}
        self.created: set[tuple[str, str]] = set()  # made here: no chunk to look up
        wanted: dict[str, set[str]] = defaultdict(set)
        for run_id, name, _, _ in named:
            wanted[run_id].add(name)
        self._read(s, wanted)
        new: dict[tuple[str, str], dict[str, Any]] = {}
        for run_id, name, kind, description in named:
            key = (run_id, name)
            if key not in self.rows and key not in new:
                new[key] = {"run_id": run_id, "name": name, "kind": kind, "description": description or "",
                            "count": 0}
        if new:  # one multi-row INSERT, then one read: the ORM's flush inserts them one by one
            s.execute(insert(MetricSeriesRow), list(new.values()))
            made: dict[str, set[str]] = defaultdict(set)
            for run_id, name in new:
                made[run_id].add(name)
            self._read(s, made)
            self.created.update(new)

    def _read(self, s: Session, names_of_run: dict[str, set[str]]) -> None:
        for run_id, names in names_of_run.items():
            ordered = sorted(names)
            for start in range(0, len(ordered), SERIES_QUERY_NAMES):
                rows = s.scalars(select(MetricSeriesRow).where(
                    MetricSeriesRow.run_id == run_id,
                    MetricSeriesRow.name.in_(ordered[start:start + SERIES_QUERY_NAMES])))
                self.rows.update({(row.run_id, row.name): row for row in rows})
