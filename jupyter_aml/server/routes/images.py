"""The image registry: scoring images built for Docker web services (tagged by their content hash)."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import registry_models as rm
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS


class ImagesHandler(AMLHandler):
    @api("user", "Scoring images built in this workspace", returns=rm.ImageList, action="images/read")
    async def get(self, workspace: str) -> None:
        self.reply(rm.ImageList(items=await asyncio.to_thread(self.aml.images.all, workspace)))


ROUTES = [(rf"/workspaces/{WS}/images", ImagesHandler)]
