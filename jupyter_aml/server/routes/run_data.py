"""Datasets in runs over REST (core/run_data.py): the agent fetches a run's inputs and sends its outputs through
the run's own routes (its token reaches nothing else); the run and dataset pages read lineage."""

from __future__ import annotations

import asyncio
import os

from jupyter_aml.core import run_data_models as rd
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.runs import RUN
from jupyter_aml.server.routes.workspaces import WS

NAME = r"(?P<name>[^/]+)"  # any segment reaches the handler: a name the run lacks is its 404, never Jupyter's page
CHUNK = 1 << 20


class RunInputsHandler(AMLHandler):
    @api("run", "A run's input datasets: each version, how the script gets it, and the files to lay out",
         returns=rd.RunInputList, action="datasets/read")
    async def get(self, workspace: str, run_id: str) -> None:
        self.reply((await asyncio.to_thread(self.app.run_data.inputs, workspace, run_id)).model_dump(mode="json"))


class RunInputFileHandler(AMLHandler):
    @api("run", "Download one file of a run's mounted or downloaded input, read from its datastore",
         query=(("path", "string", "the file's path in the input's layout"),),
         content_type="application/octet-stream", action="datasets/read")
    async def get(self, workspace: str, run_id: str, name: str) -> None:
        path = self.get_query_argument("path", "", strip=False)
        handle, size = await asyncio.to_thread(self.app.run_data.open_input, workspace, run_id, name, path)
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(size))
        self.set_header("Content-Disposition", f'attachment; filename="{os.path.basename(path)}"')
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                self.write(chunk)
                await self.flush()
        finally:
            handle.close()
        self.finish()


class RunOutputHandler(AMLHandler):
    @api("run", "Copy the uploaded files of a run's output to its destination on the datastore",
         body=rd.RunOutputFiles, returns=rd.RunOutputWritten, action="datastores/upload")
    async def post(self, workspace: str, run_id: str, name: str) -> None:
        body = self.body(rd.RunOutputFiles)
        written = await asyncio.to_thread(self.app.run_data.write_output, workspace, run_id, name, body)
        self.reply(written.model_dump(mode="json"))


class RunLineageHandler(AMLHandler):
    @api("run-read", "The dataset versions a run read and wrote", returns=rd.LineageList, action="runs/read")
    async def get(self, workspace: str, run_id: str) -> None:
        self.reply((await asyncio.to_thread(self.app.run_data.lineage, workspace, run_id=run_id))
                   .model_dump(mode="json"))


class DatasetLineageHandler(AMLHandler):
    @api("workspace", "The runs that read or wrote a dataset's versions", returns=rd.LineageList,
         action="datasets/read")
    async def get(self, workspace: str, name: str) -> None:
        self.reply((await asyncio.to_thread(self.app.run_data.lineage, workspace, dataset_name=name))
                   .model_dump(mode="json"))


ROUTES = [
    (rf"/workspaces/{RUN}/inputs", RunInputsHandler),
    (rf"/workspaces/{RUN}/inputs/{NAME}/file", RunInputFileHandler),
    (rf"/workspaces/{RUN}/outputs/{NAME}", RunOutputHandler),
    (rf"/workspaces/{RUN}/lineage", RunLineageHandler),
    (rf"/workspaces/{WS}/datasets/(?P<name>[^/]+)/lineage", DatasetLineageHandler),
]
