"""The data group: datasets against the plain tools a user would otherwise call, measured in the same run.

    python benchmarks/run.py --only data

1. Registering a file dataset over 10,000 files on the workspace's blob store; peer: fsspec listing the same
   files with their sizes and times (what any registration must read). Bytes written outside the datastore and
   the database are counted: a registration keeps a fingerprint, never a copy (target: 0).
2. ``TabularDataset.to_pandas_dataframe()`` of a 1M-row CSV; peer: ``pandas.read_csv`` of the same file.
3. The same for Parquet; peer: ``pyarrow.parquet.read_table(...).to_pandas()``.
4. ``as_download()`` of a 1 GB file dataset inside a real run, from an S3 server (moto's, on loopback); ours is
   the agent's own timing of laying the files out (its log line); peer: ``s3fs.get`` of the same objects.

Targets (issue 9): 2-4 within 1.2x of the peer. ``--quick`` moves 256 MB in 4.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compute_common import CRow

MANY_FILES = 10_000
TARGET_RATIO = 1.2


def _best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), times


def _bytes_outside(root: Path, skip: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*")
               if p.is_file() and not p.is_relative_to(skip) and not p.name.startswith("aml.db"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DataBench:
    def __init__(self, url: str, token: str, root: Path, quick: bool, say: Callable[[str], None]) -> None:
        from jupyter_aml.sdk.workspace import Workspace

        self.root, self.quick, self.say = root, quick, say
        self.ws = Workspace.create("bench-data", exist_ok=True, service_url=url, token=token)
        self.store = self.ws.get_default_datastore()
        self.rows: list[CRow] = []
        self.details: dict[str, Any] = {}

    def run(self) -> None:
        self.register_many()
        self.tabular()
        self.download_in_a_run()

    def _blob_folder(self) -> Path:
        """The blob store's folder under the service's root (made by the store's first write)."""
        if not (self.root / "datastores").is_dir():
            seed = Path(tempfile.mkdtemp())
            (seed / "hello.txt").write_text("hello\n")
            self.store.upload_files([str(seed / "hello.txt")], target_path="seed", show_progress=False)
        found = list((self.root / "datastores").glob("*/workspaceblobstore"))
        if len(found) != 1:
            raise RuntimeError(f"the workspace blob store folder is not where expected: {found}")
        return found[0]

    # -- 1 ---------------------------------------------------------------------------------------------
    def register_many(self) -> None:
        import fsspec

        from jupyter_aml.sdk.dataset import Dataset

        folder = self._blob_folder()
        many = folder / "many"
        self.say(f"data 1: writing {MANY_FILES} files, then registering a file dataset over them")
        for i in range(MANY_FILES):
            sub = many / f"{i % 100:02d}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"f{i}.bin").write_bytes(b"x" * 100)
        before = _bytes_outside(self.root, folder)
        t0 = time.perf_counter()
        registered = Dataset.File.from_files(path=[(self.store, "many/**")]).register(self.ws, "many-files")
        ours = time.perf_counter() - t0
        copied = _bytes_outside(self.root, folder) - before
        fs = fsspec.filesystem("file")
        peer, _ = _best(lambda: fs.find(str(many), detail=True))
        self.details["register"] = {"seconds": ours, "bytes_written_outside": copied, "files": MANY_FILES,
                                    "version": registered.version}
        self.rows.append(CRow("D1", f"register a file dataset over {MANY_FILES:,} files ({copied} bytes copied)",
                              ours, peer, "fsspec find+info", "s", "0 bytes copied", None,
                              extra={"bytes_copied": copied}, holds=copied == 0))

    # -- 2, 3 ------------------------------------------------------------------------------------------
    def tabular(self) -> None:
        import numpy as np
        import pandas as pd
        import pyarrow.parquet as pq

        from jupyter_aml.sdk.dataset import Dataset

        rows = 1_000_000  # also in --quick: a smaller file measures the fixed costs, not the read
        folder = self._blob_folder() / "tabular"
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({"id": np.arange(rows), "x": rng.random(rows), "y": rng.normal(size=rows),
                              "label": rng.choice(["cat", "dog", "bird"], rows),
                              "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(rows), unit="s")})
        csv, parquet = folder / "data.csv", folder / "data.parquet"
        frame.to_csv(csv, index=False)
        frame.to_parquet(parquet, index=False)
        self.say(f"data 2-3: to_pandas_dataframe of {rows:,} rows (CSV, Parquet), best of 3")
        as_csv = Dataset.Tabular.from_delimited_files(path=[(self.store, "tabular/data.csv")])
        as_parquet = Dataset.Tabular.from_parquet_files(path=[(self.store, "tabular/data.parquet")])
        for key, name, ours_fn, peer_fn, peer_name in (
            ("D2", "CSV", as_csv.to_pandas_dataframe, lambda: pd.read_csv(csv), "pandas.read_csv"),
            ("D3", "Parquet", as_parquet.to_pandas_dataframe, lambda: pq.read_table(parquet).to_pandas(),
             "pyarrow.parquet"),
        ):
            ours, ours_all = _best(ours_fn)
            peer, _ = _best(peer_fn)
            self.rows.append(CRow(key, f"to_pandas_dataframe, {rows:,}-row {name}", ours, peer, peer_name, "s",
                                  f"<= {TARGET_RATIO}x peer", TARGET_RATIO * peer,
                                  spread=f"{min(ours_all):.3f}-{max(ours_all):.3f}"))

    # -- 4 ---------------------------------------------------------------------------------------------
    def download_in_a_run(self) -> None:
        import s3fs

        from jupyter_aml.sdk import Dataset, Datastore, Experiment, ScriptRunConfig

        total_mb = 256 if self.quick else 1024
        parts = 16
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        log = Path(tempfile.mkdtemp()) / "moto.log"
        with log.open("wb") as out:
            moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            options = {"key": "bench", "secret": "bench", "endpoint_url": endpoint,
                       "client_kwargs": {"region_name": "us-east-1"}}
            import boto3

            fs = s3fs.S3FileSystem(**options)
            client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench",
                                  aws_secret_access_key="bench", region_name="us-east-1")
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.create_bucket(Bucket="bench-data")
                    break
                except Exception:
                    if time.monotonic() > deadline or moto.poll() is not None:
                        raise
                    time.sleep(0.3)
            self.say(f"data 4: {total_mb} MB in {parts} objects to the S3 server, then as_download in a run")
            chunk = bytes(range(256)) * (total_mb * 1024 * 1024 // parts // 256)
            for i in range(parts):
                fs.pipe(f"bench-data/big/part-{i:02d}.bin", chunk)
            store = Datastore.register_s3(self.ws, "benchlake", "bench-data", access_key_id="bench",
                                          secret_access_key="bench", endpoint_url=endpoint, region="us-east-1")
            files = Dataset.File.from_files(path=[(store, "big/**")]).register(self.ws, "big-files")
            source = Path(tempfile.mkdtemp()) / "src"
            source.mkdir()
            (source / "count.py").write_text("import os, sys\nprint('files', len(os.listdir(sys.argv[1])))\n")
            run = Experiment(self.ws, "bench-data").submit(ScriptRunConfig(
                str(source), "count.py", arguments=[files.as_named_input("big").as_download()]), progress=False)
            run.wait_for_completion(show_output=False, raise_on_error=True)
            text = "\n".join(line["text"] for line in run.get_logs())
            found = re.search(r"input 'big' .*?(\d+) bytes in ([0-9.]+) s", text)
            if found is None or "read straight from the object store" not in text:
                raise RuntimeError(f"the run's log has no direct download line:\n{text[-2000:]}")
            ours = float(found.group(2))
            target = Path(tempfile.mkdtemp())
            peer, _ = _best(lambda: fs.get("bench-data/big/", str(target) + "/", recursive=True), repeat=2)
            self.details["download"] = {"bytes": int(found.group(1)), "ours_seconds": ours, "peer_seconds": peer}
            self.rows.append(CRow("D4", f"as_download of {total_mb} MB ({parts} objects) inside a run", ours, peer,
                                  "s3fs get", "s", f"<= {TARGET_RATIO}x peer", TARGET_RATIO * peer))
        finally:
            moto.terminate()
            moto.wait(10)
