"""Downsampled histories from stored min/max levels (core/metric_rollups.py).

A chart of a long series reads the rollups of its full chunks plus the raw points of the chunk still
filling; every bucket keeps its minimum and maximum, the first and last points are kept, a live run's
newest points show at once, and full chunks without rollups (an older store) are rolled up when read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from jupyter_aml.core import metric_rollups, metrics, models
from jupyter_aml.core.metric_points import downsample_indices
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.store.tables_metric_rollups import MetricRollupRow

CHUNK = metrics.CHUNK_POINTS


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> AMLService:
    svc = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    svc.workspaces.get_or_create("w")
    return svc


def _run(service: AMLService) -> str:
    return service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t").id


def _log(service: AMLService, run_id: str, values: np.ndarray, *, seq0: int = 0, step0: int = 0,
         batch: int = 20_000) -> int:
    for start in range(0, len(values), batch):
        part = values[start:start + batch]
        records = [models.JournalRecord(seq=seq0 + start + i + 1, run_id=run_id, t=1000.0 + step0 + start + i,
                                        k="m", n="loss", v=float(v), s=float(step0 + start + i))
                   for i, v in enumerate(part)]
        service.metrics.ingest("w", run_id, models.JournalBatch(stream="main", records=records))
    return seq0 + len(values)


def _rollup_count(service: AMLService) -> int:
    with service.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(MetricRollupRow)) or 0)


def _series(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.sin(np.arange(n) / 3000) + 0.05 * rng.standard_normal(n)
    values[n // 3] = 9.0  # a spike
    values[2 * n // 3] = -9.0  # a dip
    return values


def test_the_chunk_size_is_the_stores() -> None:
    assert metric_rollups.CHUNK_POINTS == metrics.CHUNK_POINTS
    assert all(CHUNK % level == 0 for level in metric_rollups.LEVELS)


def test_rollups_are_written_as_chunks_fill_and_keep_every_buckets_min_and_max(service: AMLService) -> None:
    run_id = _run(service)
    n = 4 * CHUNK + 1234  # 4 full chunks and one still filling
    values = _series(n)
    _log(service, run_id, values, batch=7_777)  # batches that straddle chunk boundaries
    assert _rollup_count(service) == 4 * len(metric_rollups.LEVELS)

    history = service.metrics.history("w", run_id, "loss", max_points=200)
    assert history.total == n and history.downsampled
    assert 50 < len(history.values) <= 200
    steps = np.array(history.steps)
    got = np.array(history.values, dtype=float)
    assert np.all(np.diff(steps) > 0)  # in step order, no point twice
    assert np.array_equal(got, values[steps.astype(int)])  # real points, exact values
    assert steps[0] == 0 and steps[-1] == n - 1
    assert got.max() == 9.0 and got.min() == -9.0  # the spike and the dip survive
    # Every stretch between two kept points holds nothing above their bucket's max or below its min: check
    # against the raw downsampling's envelope, which the rolled-up one must match to within a bucket.
    raw = downsample_indices(values, 200)
    assert raw is not None
    assert got.max() == values[raw].max() and got.min() == values[raw].min()


def test_each_bucket_keeps_its_extremes(service: AMLService) -> None:
    run_id = _run(service)
    n = 6 * CHUNK
    values = _series(n, seed=3)
    _log(service, run_id, values)
    history = service.metrics.history("w", run_id, "loss", max_points=100)
    steps = np.array(history.steps).astype(int)
    kept = set(steps.tolist())
    # Buckets are whole blocks of the chosen level: each group's extremes are among the kept points.
    level = metric_rollups._level(n, 100)
    assert level is not None
    blocks = n // level
    group = -(-blocks // ((100 - 2) // 2))
    span = group * level
    for start in range(0, n, span):
        stretch = values[start:start + span]
        assert start + int(np.argmax(stretch)) in kept
        assert start + int(np.argmin(stretch)) in kept


def test_a_live_run_shows_its_newest_points_at_once(service: AMLService) -> None:
    run_id = _run(service)
    values = _series(3 * CHUNK)
    seq = _log(service, run_id, values)
    first = service.metrics.history("w", run_id, "loss", max_points=100)
    assert first.total == 3 * CHUNK
    # Still logging: a spike in the chunk that is filling is shown by the next read, before any rollup has it.
    more = np.zeros(500)
    more[250] = 50.0
    _log(service, run_id, more, seq0=seq, step0=3 * CHUNK)
    second = service.metrics.history("w", run_id, "loss", max_points=100)
    assert second.total == 3 * CHUNK + 500
    assert second.steps[-1] == 3 * CHUNK + 499
    assert 50.0 in second.values
    assert _rollup_count(service) == 3 * len(metric_rollups.LEVELS)  # the filling chunk is not stored


def test_full_chunks_without_rollups_are_rolled_up_when_read(service: AMLService) -> None:
    run_id = _run(service)
    values = _series(3 * CHUNK)
    _log(service, run_id, values)
    before = service.metrics.history("w", run_id, "loss", max_points=100)
    with service.db.session() as s:  # as a store written before rollups existed
        s.execute(delete(MetricRollupRow))
    after = service.metrics.history("w", run_id, "loss", max_points=100)
    assert after.values == before.values and after.steps == before.steps
    assert _rollup_count(service) == 3 * len(metric_rollups.LEVELS)  # stored by that read


def test_short_and_typed_series_take_the_raw_path(service: AMLService) -> None:
    run_id = _run(service)
    _log(service, run_id, _series(5000))
    short = service.metrics.history("w", run_id, "loss", max_points=100)
    assert short.total == 5000 and len(short.values) <= 100
    assert not metric_rollups.usable("mixed", 10**6, 1000)
    assert not metric_rollups.usable("f", 10**6, None)
    assert metric_rollups.usable("f", 10**6, 1000)
    full = service.metrics.history("w", run_id, "loss")
    assert len(full.values) == 5000  # no max_points: every point
