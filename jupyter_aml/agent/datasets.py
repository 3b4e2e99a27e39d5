"""A run's datasets on the target (core/run_data.py is the service's side). Stdlib only.

Before the script starts, each ``mount``/``download`` input's files are fetched through the run's own route
into ``<run dir>/datasets/<name>`` (or ``path_on_compute``, relative to the working folder), in the layout
``FileDataset.download`` uses. There is no FUSE here, so ``as_mount()`` is a download made before the script
starts (docs/datasets.md). Each output gets an empty folder. The script's arguments that stand for an input
or output (``DatasetConsumptionConfig:<name>``, ``OutputFileDatasetConfig:<name>``, as the SDK writes them)
become those folders' paths; ``AZUREML_DATAREFERENCE_<name>`` holds the same path, as in v1, and
``AML_INPUT_DATASETS`` / ``AML_OUTPUT_DATASETS`` tell ``run.input_datasets`` what each name is.

After the script, each output folder's files are uploaded as blobs (only those the service lacks) and the
service copies them to the output's destination on its datastore.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime import env as E
from jupyter_aml.runtime.api import Api

from .outputs import collect_files, upload_blobs
from .reporting import retry_until

INPUT_TOKEN = "DatasetConsumptionConfig:"
OUTPUT_TOKEN = "OutputFileDatasetConfig:"
DATAREFERENCE_PREFIX = "AZUREML_DATAREFERENCE_"
COPY_CHUNK = 4 << 20
PARALLEL_FETCHES = 8  # presigned objects fetched at once (s3fs gets several at once too)


def fetch_url(url: str, target: Path, attempts: int = 3) -> int:
    """GET a presigned object-store URL into ``target`` (through a temporary sibling, so a failure leaves
    nothing); a few retries for a store that drops a connection, none for one that answers an HTTP error."""
    tmp = target.with_name(f".{target.name}.part")
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=60) as answer, open(tmp, "wb") as out:
                shutil.copyfileobj(answer, out, COPY_CHUNK)
            size = tmp.stat().st_size
            os.replace(tmp, target)
            return size
        except (OSError, urllib.error.URLError) as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, urllib.error.HTTPError) or attempt == attempts - 1:
                raise InvalidInput(f"the object store refused a presigned URL for {target.name!r} ({exc})") from None
            time.sleep(1 + attempt)
    return 0


class RunDatasets:
    """What one run's agent does with its inputs and outputs."""

    def __init__(self, api: Api, workspace: str, run_id: str, run_dir: Path, wd: Path,
                 log: Callable[[str], None]) -> None:
        self.api, self.workspace, self.run_id = api, workspace, run_id
        self.run_dir, self.wd, self.log = run_dir, wd, log
        self.paths: dict[str, Path] = {}  # name -> the folder the script gets
        self.inputs: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.presigned_refused = False  # the object store refused a presigned URL once: stream the rest

    def _folder(self, kind: str, name: str, path_on_compute: str | None) -> Path:
        folder = (self.wd / path_on_compute) if path_on_compute else (self.run_dir / kind / name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def prepare(self, run_config: dict[str, Any], deadline: float,
                cancelled: Callable[[], bool] = lambda: False) -> None:
        """Fetch the inputs, make the output folders."""
        if run_config.get("inputs"):
            listing: T.RunInputList = retry_until(lambda: self.api.run_inputs(self.workspace, self.run_id), deadline)
            for item in listing["items"]:
                self._fetch(item, cancelled)
        for out in run_config.get("outputs") or []:
            folder = self._folder("outputs-datasets", out["name"], None)
            self.paths[out["name"]] = folder
            self.outputs[out["name"]] = {"path": str(folder), "datastore": out.get("datastore"),
                                         "destination": out.get("path")}

    def _fetch(self, item: T.RunInput, cancelled: Callable[[], bool]) -> None:
        name = item["name"]
        record: dict[str, Any] = {"mode": item["mode"], "dataset": item["dataset"]}
        if item["mode"] != "direct":
            folder = self._folder("datasets", name, item.get("path_on_compute"))
            started = time.monotonic()
            planned: list[tuple[dict[str, Any], Path]] = []
            for entry in item["files"]:
                target = folder / entry["path"]
                if not target.resolve().is_relative_to(folder.resolve()):
                    raise InvalidInput(f"input {name!r}: file {entry['path']!r} would land outside its folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                planned.append((cast(dict[str, Any], entry), target))
            total, direct, streamed = self._presigned(planned, cancelled)
            for f, target in streamed:
                if cancelled():
                    return
                total += self.api.download_run_input_file(self.workspace, self.run_id, name, f["path"], target)
            self.log(f"input {name!r} ({item['dataset_name']}:{item['dataset_version']}, {item['mode']}): "
                     f"{len(item['files'])} file(s), {total} bytes in {time.monotonic() - started:.2f} s"
                     + (f", {direct} read straight from the object store" if direct else ""))
            self.paths[name] = folder
            record["path"] = str(folder)
        self.inputs[name] = record

    def _presigned(self, planned: list[tuple[dict[str, Any], Path]], cancelled: Callable[[], bool]
                   ) -> tuple[int, int, list[tuple[dict[str, Any], Path]]]:
        """Fetch the files that have a presigned URL straight from their store, several at once (as s3fs
        does); the bytes, how many, and the files left to stream through the service (all of them once the
        store refuses a URL)."""
        direct = [(f, t) for f, t in planned if f.get("url") and not self.presigned_refused]
        rest = [(f, t) for f, t in planned if not (f.get("url") and not self.presigned_refused)]
        if not direct:
            return 0, 0, rest
        total, count = 0, 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(PARALLEL_FETCHES, len(direct))) as pool:
            futures = {pool.submit(fetch_url, str(f["url"]), t): (f, t) for f, t in direct}
            for future in concurrent.futures.as_completed(futures):
                try:
                    total += future.result()
                    count += 1
                except InvalidInput as exc:  # e.g. a store that takes no presigned URLs: stream them instead
                    if not self.presigned_refused:
                        self.log(f"{exc}; its files stream through the service instead")
                    self.presigned_refused = True
                    rest.append(futures[future])
                if cancelled():
                    for other in futures:
                        other.cancel()
        return total, count, rest

    def arguments(self, args: list[str]) -> list[str]:
        """The script's arguments with each input's and output's placeholder made its folder's path."""
        out = []
        for arg in args:
            for token in (INPUT_TOKEN, OUTPUT_TOKEN):
                if arg.startswith(token):
                    name = arg[len(token):]
                    if name not in self.paths and name not in self.inputs:
                        raise InvalidInput(f"argument {arg!r} names no input or output of this run")
                    arg = str(self.paths[name]) if name in self.paths else name
                    break
            out.append(arg)
        return out

    def variables(self) -> dict[str, str]:
        env = {DATAREFERENCE_PREFIX + name: str(path) for name, path in self.paths.items()}
        if self.inputs:
            env[E.INPUT_DATASETS] = json.dumps(self.inputs)
        if self.outputs:
            env[E.OUTPUT_DATASETS] = json.dumps(self.outputs)
        return env

    def upload_outputs(self, deadline: float) -> None:
        """Every output folder's files to the service, which copies them to the destination."""
        for name, info in self.outputs.items():
            folder = Path(info["path"])
            files = [(rel, path) for rel, path in collect_files(folder, dirs=("",))]
            entries, stats = upload_blobs(self.api, self.workspace, files, deadline)
            body: T.RunOutputFiles = {"files": cast(list[T.RunFile], entries)}
            written = retry_until(lambda body=body, name=name: self.api.write_run_output(  # type: ignore[misc]
                self.workspace, self.run_id, name, body), deadline)
            self.log(f"output {name!r}: {written['files']} file(s) ({stats['uploaded_bytes']} new bytes) to "
                     f"{written['datastore']}/{written['path']}")
