"""Stored min/max levels of scalar series, so a chart of a 1M-point series costs a few thousand points.

A scalar series is stored in chunks of CHUNK_POINTS points (core/metrics.py); a chunk is appended to until it
is full and never changes after that. When a chunk becomes full, the transaction that fills it also writes
its rollups (table ``metric_rollups``): for each level (LEVELS, points per block), the chunk's first point,
each block's minimum and maximum in point order, and its last point. Reading a downsampled history then reads
the rollups of the full chunks at the coarsest level that still gives every bucket whole blocks, plus the
raw points of the chunk still filling (a live run's newest points are always exact), and keeps each bucket's
minimum and maximum: the same promise as the raw downsampling (spikes survive, first and last points kept).

The rollups are written by a ``before_flush`` listener on every ORM session, not by the ingest code itself,
so whatever path fills a chunk through the ORM rolls it up, and a full chunk without rollups (a store written
before this module, or by a bulk insert) is rolled up from its raw points when it is read and stored then.
Only all-float series (``value_type`` "f") are served from rollups: other types fall back to the raw path,
whose answer carries per-point types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, UOWTransaction

from jupyter_aml.core import models
from jupyter_aml.core.metric_points import _jsonable, pack
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import MetricChunkRow
from jupyter_aml.store.tables_metric_rollups import MetricRollupRow

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
LEVELS = (1024, 64)  # points per block, coarsest first; each divides CHUNK_POINTS
CHUNK_POINTS = 8192  # core/metrics.CHUNK_POINTS (checked by tests/core/test_metric_rollups.py)


def _unpack(blob: bytes) -> Floats:
    return np.frombuffer(blob, dtype="<f8")


def roll_up(steps: Floats, values: Floats, times: Floats, level: int) -> tuple[bytes, bytes, bytes, bytes]:
    """One level of one chunk, packed as stored: first point, (min, max) per block in point order, last point."""
    n = len(values)
    blocks = -(-n // level)
    padded = np.full(blocks * level, np.nan)
    padded[:n] = values
    grid = padded.reshape(blocks, level)
    offsets = np.arange(blocks) * level
    lows = np.argmin(np.where(np.isnan(grid), np.inf, grid), axis=1) + offsets
    highs = np.argmax(np.where(np.isnan(grid), -np.inf, grid), axis=1) + offsets
    lows, highs = np.minimum(lows, n - 1), np.minimum(highs, n - 1)
    pairs = np.sort(np.stack([lows, highs], axis=1), axis=1).reshape(-1)
    pos = np.concatenate(([0], pairs, [n - 1])).astype("<i4")
    return pos.tobytes(), pack(steps[pos]), pack(values[pos]), pack(times[pos])


def _rollup_rows(chunk: MetricChunkRow) -> list[MetricRollupRow]:
    steps, values, times = _unpack(chunk.steps), _unpack(chunk.values), _unpack(chunk.times)
    rows = []
    for level in LEVELS:
        pos, s, v, t = roll_up(steps, values, times, level)
        rows.append(MetricRollupRow(series_id=chunk.series_id, level=level, chunk_no=chunk.chunk_no,
                                    pos=pos, steps=s, values=v, times=t))
    return rows


def _filled(chunk: MetricChunkRow, new: bool) -> bool:
    if chunk.count != CHUNK_POINTS:
        return False
    return new or inspect(chunk).attrs.count.history.has_changes()


@event.listens_for(Session, "before_flush")
def _roll_up_filled_chunks(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """Write the rollups of every chunk this flush fills, in the same transaction as its points."""
    filled = [c for c in session.new if isinstance(c, MetricChunkRow) and _filled(c, True)]
    filled += [c for c in session.dirty if isinstance(c, MetricChunkRow) and _filled(c, False)]
    for chunk in filled:
        for row in _rollup_rows(chunk):
            if session.get(MetricRollupRow, (row.series_id, row.level, row.chunk_no)) is None:
                session.add(row)


def usable(value_type: str | None, count: int, max_points: int | None) -> bool:
    """Whether a history of this series is worth serving from rollups (all floats, at least one level fits)."""
    return bool(max_points) and value_type in (None, "f") and _level(count, cast(int, max_points)) is not None


def _level(count: int, max_points: int) -> int | None:
    """The coarsest level whose blocks fit at least twice in a bucket (None: read the raw points)."""
    if count <= max_points or count < 2 * CHUNK_POINTS:
        return None
    bucket = (count - 2) / max(1, (max_points - 2) // 2)
    return next((level for level in LEVELS if 2 * level <= bucket), None)


@dataclass
class _Stretch:
    """The rollup entries (first, min/max pairs, last) of one chunk at one level, with global indices."""

    pos: Ints
    steps: Floats
    values: Floats
    times: Floats


@dataclass
class Downsampled:
    """What :func:`downsampled` read: the answer, and the rollups it had to compute (to store)."""

    total: int
    steps: Floats
    values: Floats
    times: Floats
    missing: list[MetricRollupRow] = field(default_factory=list)

    def history(self, run_id: str, name: str) -> models.MetricHistory:
        return models.MetricHistory.model_construct(
            run_id=run_id, name=name, kind="scalar", total=self.total, downsampled=len(self.values) < self.total,
            steps=self.steps.tolist(), values=_jsonable(self.values), times=self.times.tolist(), types=None,
            nonfinite=None)


def downsampled(s: Session, series_id: int, max_points: int) -> Downsampled | None:
    """At most ``max_points`` points of an all-float series, from its rollups and its newest raw points.

    None when the series is too short for any level (the caller reads the raw points)."""
    meta = s.execute(
        select(MetricChunkRow.chunk_no, MetricChunkRow.count)
        .where(MetricChunkRow.series_id == series_id)
        .order_by(MetricChunkRow.chunk_no)
    ).all()
    total = sum(c for _, c in meta)
    level = _level(total, max_points)
    if level is None:
        return None
    offsets, start = {}, 0
    for no, count in meta:
        offsets[no] = start
        start += count
    full = [no for no, count in meta if count == CHUNK_POINTS]
    stored = {
        r.chunk_no: r
        for r in s.scalars(
            select(MetricRollupRow).where(MetricRollupRow.series_id == series_id, MetricRollupRow.level == level)
        )
    }
    raw_nos = [no for no, _ in meta if no not in stored]
    raw = {
        row.chunk_no: row
        for row in s.scalars(
            select(MetricChunkRow).where(MetricChunkRow.series_id == series_id, MetricChunkRow.chunk_no.in_(raw_nos))
        )
    } if raw_nos else {}
    missing: list[MetricRollupRow] = []
    stretches = []
    for no, _ in meta:
        row = stored.get(no)
        if row is None:
            chunk = raw.get(no)
            if chunk is None:  # gone since the first query (the run was deleted): nothing to show of it
                continue
            if no in full:
                made = _rollup_rows(chunk)
                missing += made
                row = next(r for r in made if r.level == level)
            else:  # the chunk still filling: rolled up here, never stored
                pos, st, va, ti = roll_up(_unpack(chunk.steps), _unpack(chunk.values), _unpack(chunk.times), level)
                row = MetricRollupRow(pos=pos, steps=st, values=va, times=ti)
        stretches.append(_Stretch(
            pos=np.frombuffer(row.pos, dtype="<i4").astype(np.int64) + offsets[no],
            steps=_unpack(row.steps), values=_unpack(row.values), times=_unpack(row.times)))
    if not stretches:
        return None
    steps, values, times = _merge(stretches, max_points)
    return Downsampled(total=total, steps=steps, values=values, times=times, missing=missing)


def _merge(stretches: Sequence[_Stretch], max_points: int) -> tuple[Floats, Floats, Floats]:
    """Group consecutive blocks into at most (max_points - 2) / 2 buckets and keep each bucket's min and max."""
    pairs = [slice(1, len(x.pos) - 1) for x in stretches]
    pos = np.concatenate([x.pos[p] for x, p in zip(stretches, pairs, strict=True)])
    steps = np.concatenate([x.steps[p] for x, p in zip(stretches, pairs, strict=True)])
    values = np.concatenate([x.values[p] for x, p in zip(stretches, pairs, strict=True)])
    times = np.concatenate([x.times[p] for x, p in zip(stretches, pairs, strict=True)])
    lo_i, hi_i = np.arange(0, len(pos), 2), np.arange(1, len(pos), 2)
    # Within a block the pair is in point order, so either entry may be the minimum: take both per block.
    pair_lo = np.where(np.nan_to_num(values[lo_i], nan=np.inf) <= np.nan_to_num(values[hi_i], nan=np.inf), lo_i, hi_i)
    pair_hi = np.where(pair_lo == lo_i, hi_i, lo_i)
    blocks = len(lo_i)
    buckets = max(1, (max_points - 2) // 2)
    group = -(-blocks // buckets)
    padded = -(-blocks // group) * group

    def pick(index: Ints, fill: float, argpick: Any) -> Ints:
        keyed = np.full(padded, fill)
        keyed[:blocks] = np.where(np.isnan(values[index]), fill, values[index])
        chosen = argpick(keyed.reshape(-1, group), axis=1) + np.arange(0, padded, group)
        return cast(Ints, index[np.minimum(chosen, blocks - 1)])

    chosen = np.concatenate((pick(pair_lo, np.inf, np.argmin), pick(pair_hi, -np.inf, np.argmax)))
    first, last = stretches[0], stretches[-1]
    keep = np.unique(pos[chosen], return_index=True)[1]
    out = chosen[keep]
    all_pos = np.concatenate(([first.pos[0]], pos[out], [last.pos[-1]]))
    all_steps = np.concatenate(([first.steps[0]], steps[out], [last.steps[-1]]))
    all_values = np.concatenate(([first.values[0]], values[out], [last.values[-1]]))
    all_times = np.concatenate(([first.times[0]], times[out], [last.times[-1]]))
    _, unique = np.unique(all_pos, return_index=True)
    return all_steps[unique], all_values[unique], all_times[unique]


def store_missing(db: Store, rows: Sequence[MetricRollupRow]) -> None:
    """Store rollups a read computed for full chunks that had none (best effort: another reader may win)."""
    if not rows:
        return
    with contextlib.suppress(IntegrityError), db.session() as s:
        for row in rows:
            if s.get(MetricRollupRow, (row.series_id, row.level, row.chunk_no)) is None:
                s.add(MetricRollupRow(series_id=row.series_id, level=row.level, chunk_no=row.chunk_no,
                                      pos=row.pos, steps=row.steps, values=row.values, times=row.times))
