#!/usr/bin/env python3
"""Benchmark: a tabular dataset's read (what ``to_pandas_dataframe`` does) against plain pandas / pyarrow.

    .venv/bin/python scripts/bench_datasets.py [--rows 1000000]
    .venv/bin/python scripts/bench_datasets.py --register 10000

Writes a CSV and a Parquet file of ``--rows`` rows (an int, two floats, a string, a timestamp) into a temporary
folder, then times, best of three: ``pandas.read_csv(f)`` against the dataset reader's ``read_table(...)
.to_pandas()`` on the CSV, and ``pyarrow.parquet.read_table(f).to_pandas()`` against the reader on the Parquet
file. The target (issue 9) is a ratio of at most 1.2. ``--register N`` instead times registering a file dataset
over N small files on a workspace's blob store (a service in a temporary root) and counts the bytes written
outside the datastore and the database: 0, since a registration keeps a fingerprint, not a copy.
docs/datasets.md records a run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from jupyter_aml.data.tabular import ReaderOptions, Source, read_table


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _bytes_outside(root: Path, skip: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*")
               if p.is_file() and not p.is_relative_to(skip) and not p.name.startswith("aml.db"))


def register(count: int) -> None:
    from jupyter_aml.core import dataset_models as dm
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings

    with tempfile.TemporaryDirectory() as tmp:
        service = AMLService(ServiceSettings(root=Path(tmp) / "root"))
        service.workspaces.get_or_create("bench")
        folder = service.datastores.blob_root("bench")
        for i in range(count):
            sub = folder / "files" / f"{i % 100:02d}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"f{i}.bin").write_bytes(b"x" * 100)
        before = _bytes_outside(Path(tmp) / "root", folder)
        spec = dm.DatasetCreate.model_validate({"name": "many", "definition": {
            "kind": "file", "paths": [{"datastore": "workspaceblobstore", "path": "files/**"}]}})
        start = time.perf_counter()
        made = service.datasets.register("bench", spec)
        seconds = time.perf_counter() - start
        copied = _bytes_outside(Path(tmp) / "root", folder) - before
        print(f"register: {made.file_count} files ({made.total_size} bytes) in {seconds:.2f} s; "
              f"{copied} bytes written outside the datastore and the database")
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--register", type=int, default=0, metavar="N", help="time a registration over N files")
    args = parser.parse_args()
    if args.register:
        register(args.register)
        return
    rng = np.random.default_rng(0)
    n = args.rows
    frame = pd.DataFrame({
        "id": np.arange(n), "x": rng.random(n), "y": rng.normal(size=n),
        "label": rng.choice(["cat", "dog", "bird"], n),
        "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
    })
    local = fsspec.filesystem("file")
    with tempfile.TemporaryDirectory() as tmp:
        csv, parquet = Path(tmp) / "data.csv", Path(tmp) / "data.parquet"
        frame.to_csv(csv, index=False)
        frame.to_parquet(parquet, index=False)
        for name, path, baseline, options in (
            ("csv", csv, lambda: pd.read_csv(csv), ReaderOptions()),
            ("parquet", parquet, lambda: pq.read_table(parquet).to_pandas(), ReaderOptions(format="parquet")),
        ):
            ours = best(lambda p=path, o=options: read_table([Source(local, str(p), p.name)], o).to_pandas())
            theirs = best(baseline)
            print(f"{name}: {n} rows, {path.stat().st_size / 1e6:.1f} MB: dataset {ours:.3f} s, "
                  f"baseline {theirs:.3f} s, ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
