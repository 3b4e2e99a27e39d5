"""The image registry of a workspace: scoring images built from an environment, model files and scoring
code, identified by the hash of all three, so that an unchanged combination reuses its image."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import DeploymentRow, ImageRow, ModelRow, WorkspaceRow


class ImageRegistry:
    def __init__(self, db: Store) -> None:
        self.db = db

    def find(self, workspace: str, content_hash: str) -> rm.Image | None:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.scalar(
                select(ImageRow).where(ImageRow.workspace_id == ws.id, ImageRow.content_hash == content_hash)
            )
            return self._model(s, ws, row) if row is not None else None

    def record(
        self,
        workspace: str,
        *,
        content_hash: str,
        tag: str,
        docker_id: str,
        base_image: str,
        environment: dict[str, Any],
        model_ids: Sequence[int],
        snapshot_id: str | None,
        size: int,
    ) -> rm.Image:
        fields: dict[str, Any] = {"tag": tag, "docker_id": docker_id, "base_image": base_image,
                                  "environment": environment, "model_ids": list(model_ids),
                                  "snapshot_id": snapshot_id, "size": size}
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(ImageRow).where(ImageRow.workspace_id == ws.id, ImageRow.content_hash == content_hash)
            row = s.scalar(query)
            if row is None:
                row = ImageRow(workspace_id=ws.id, content_hash=content_hash, created_at=utcnow(), **fields)
                try:
                    with s.begin_nested():
                        s.add(row)
                except IntegrityError:  # recorded concurrently
                    row = s.scalar(query)
                    assert row is not None
            for key, value in fields.items():
                setattr(row, key, value)
            s.flush()
            return self._model(s, ws, row)

    def all(self, workspace: str) -> list[rm.Image]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = s.scalars(select(ImageRow).where(ImageRow.workspace_id == ws.id).order_by(ImageRow.created_at))
            return [self._model(s, ws, r) for r in rows]

    def unused(self, built_before: datetime) -> list[tuple[int, str]]:
        """(row id, docker tag) of images built before ``built_before`` that no web service runs."""
        with self.db.read() as s:
            in_use = select(DeploymentRow.image_id).where(DeploymentRow.image_id.is_not(None))
            rows = s.execute(
                select(ImageRow.id, ImageRow.tag)
                .where(ImageRow.created_at < built_before, ImageRow.content_hash.not_in(in_use))
                .order_by(ImageRow.id)
            )
            return [(row_id, tag) for row_id, tag in rows]

    def forget(self, row_id: int) -> None:
        """Drop the record of an image removed from the engine (a later deployment builds it again)."""
        with self.db.session() as s:
            row = s.get(ImageRow, row_id)
            if row is not None:
                s.delete(row)

    @staticmethod
    def _model(s: Session, ws: WorkspaceRow, row: ImageRow) -> rm.Image:
        models = []
        for model_id in row.model_ids:
            model = s.get(ModelRow, model_id)
            models.append(f"{model.name}:{model.version}" if model else f"<deleted {model_id}>")
        return rm.Image(
            id=row.content_hash,
            tag=row.tag,
            workspace=ws.name,
            docker_id=row.docker_id,
            base_image=row.base_image,
            models=models,
            snapshot_id=row.snapshot_id,
            size=row.size,
            created_at=utc(row.created_at),
        )
