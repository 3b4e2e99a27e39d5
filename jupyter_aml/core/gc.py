"""Blob garbage collection: remove stored files that nothing refers to any more.

Blobs are shared by content across workspaces, runs, snapshots and models, so a blob is removed only when
no run file, snapshot file, model file or logged image names it, and only once it has been untouched for a
grace period. That period protects uploads in progress: a client stores blobs before it registers the files
that name them, and asking whether a blob is stored touches it (``BlobStore.missing``), so a blob that a
client was just told it need not upload is spared too.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from pydantic import BaseModel, Field
from sqlalchemy import select

from jupyter_aml.core.models import Strict
from jupyter_aml.errors import ServiceUnavailable
from jupyter_aml.store.blobs import BlobStore
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import MetricSeriesRow, MetricValueRow, ModelFileRow, RunFileRow, SnapshotFileRow

DEFAULT_GRACE_SECONDS = 24 * 3600
# (built before, dry run) -> (images removed, images kept because a container uses them); blocking.
ImagePruner = Callable[[datetime.datetime, bool], tuple[int, int]]


class GcRequest(Strict):

    # at most ten years: a larger grace overflows the datetime the cut-off is computed with
    grace_seconds: float = Field(default=DEFAULT_GRACE_SECONDS, ge=0, le=10 * 365 * 86400)
    dry_run: bool = False
    images: bool = False  # also remove scoring images that no web service runs (built before the grace period)


class GcReport(BaseModel):
    stored: int  # blobs found
    referenced: int  # of those, named by a run, snapshot, model or image metric
    recent: int  # unreferenced but touched within the grace period: kept
    removed: int
    removed_bytes: int
    stale_uploads: int  # temporary files of unfinished uploads removed
    dry_run: bool
    images_removed: int = 0
    images_in_use: int = 0  # unused by web services but still used by some container: kept


def referenced_blobs(db: Store) -> set[str]:
    """Every sha256 that a run file, snapshot file, model file or logged image names."""
    with db.read() as s:
        refs: set[str] = set()
        for column in (RunFileRow.sha256, SnapshotFileRow.sha256, ModelFileRow.sha256):
            refs.update(s.scalars(select(column).distinct()))
        images = (
            select(MetricValueRow.payload)
            .join(MetricSeriesRow, MetricSeriesRow.id == MetricValueRow.series_id)
            .where(MetricSeriesRow.kind == "image")
        )
        for payload in s.scalars(images):  # an image logged twice under one name keeps both versions
            if isinstance(payload, dict) and isinstance(payload.get("sha256"), str):
                refs.add(payload["sha256"])
        return refs


def collect_garbage(
    db: Store, blobs: BlobStore, *, grace_seconds: float = DEFAULT_GRACE_SECONDS, dry_run: bool = False
) -> GcReport:
    """Remove unreferenced blobs untouched for ``grace_seconds``; with ``dry_run`` only count them."""
    if grace_seconds < 0:
        raise ValueError("grace_seconds must not be negative")
    started = time.time()  # blobs touched after the references were read are younger than this
    refs = referenced_blobs(db)
    stored = referenced = recent = removed = removed_bytes = 0
    for blob in blobs.stored():
        stored += 1
        if blob.sha256 in refs:
            referenced += 1
        elif blob.touched > started - grace_seconds:
            recent += 1
        elif dry_run or blobs.delete(blob.sha256, untouched_since=started - grace_seconds):
            removed += 1
            removed_bytes += blob.size
        else:
            recent += 1  # touched while we looked
    stale = 0 if dry_run else blobs.remove_stale_uploads(started - grace_seconds)
    return GcReport(stored=stored, referenced=referenced, recent=recent, removed=removed,
                    removed_bytes=removed_bytes, stale_uploads=stale, dry_run=dry_run)


class GarbageCollector:
    """``POST /gc`` and ``aml gc``: unreferenced blobs, and optionally the scoring images no web service runs
    (pruned by whoever builds them: the application wires in the deployment manager's pruner)."""

    def __init__(self, db: Store, blobs: BlobStore, *, prune_images: ImagePruner | None = None) -> None:
        self.db = db
        self.blobs = blobs
        self.prune_images = prune_images

    def collect(self, spec: GcRequest) -> GcReport:
        report = collect_garbage(self.db, self.blobs, grace_seconds=spec.grace_seconds, dry_run=spec.dry_run)
        if spec.images:
            if self.prune_images is None:
                raise ServiceUnavailable("this service builds no scoring images, so it cannot prune them")
            before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=spec.grace_seconds)
            report.images_removed, report.images_in_use = self.prune_images(before, spec.dry_run)
        return report
