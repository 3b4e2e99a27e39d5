"""Model data collection (``collect_model_data=True`` and v1's ``ModelDataCollector``): the writer's policy
in-process (sampling, the record size limit, a full queue dropping instead of blocking, the CSV layout, the
service-side sink's daily limit and link checks), then one real web service whose inputs and predictions land
in workspaceblobstore in v1's layout and read back as a tabular dataset and as a download."""

from __future__ import annotations

import csv
import json
import os
import random
import threading
import time
from pathlib import Path

import pytest
import requests

from jupyter_aml import InferenceConfig, Model
from jupyter_aml.sdk.dataset import Dataset
from jupyter_aml.sdk.monitoring import ModelDataCollector
from jupyter_aml.sdk.webservice import AksWebservice
from jupyter_aml.serving import collect
from jupyter_aml.serving.collect_sink import ModelDataSink
from tests.serving.conftest import SCORING


def _record(data, designation="inputs", names=None) -> collect.Record:
    return collect.Record(time.time(), "cid", "m", "1", designation, names, data)


def _chunks(spool: Path) -> list[Path]:
    return sorted(spool.glob("*/*/*/*/*/*/*.csv"))


def test_sampling_keeps_about_the_rate_and_counts_the_rest(tmp_path):
    writer = collect.Writer(tmp_path / "s", collect.Settings(sample_rate=0.25), rng=random.Random(7)).start()
    kept = sum(writer.submit(_record([[1, 2]])) for _ in range(2000))
    writer.stop()
    assert 400 < kept < 600, kept  # 0.25 of 2000, give or take
    assert writer.counters.sampled_out == 2000 - kept and writer.counters.collected == kept
    stats = json.loads((tmp_path / "s" / "stats.json").read_text())
    assert stats["collected"] == kept and stats["sampled_out"] == 2000 - kept


def test_a_record_over_the_size_limit_is_dropped_counted_and_logged(tmp_path, capfd):
    writer = collect.Writer(tmp_path / "s", collect.Settings(max_record_bytes=200)).start()
    writer.submit(_record([[1, 2]]))
    writer.submit(_record([list(range(200))]))  # ~700 bytes of CSV
    writer.stop()
    assert writer.counters.collected == 1 and writer.counters.dropped_too_large == 1
    assert "over the 200-byte limit (max_record_bytes): dropped" in capfd.readouterr().err
    (chunk,) = _chunks(tmp_path / "s")
    rows = list(csv.reader(chunk.open()))
    assert rows[0] == [collect.TIMESTAMP, collect.CORRELATION, "feature_0", "feature_1"] and rows[1][2:] == ["1", "2"]


def test_collect_never_waits_for_a_slow_writer_it_drops_and_counts(tmp_path, monkeypatch):
    gate = threading.Event()
    writer = collect.Writer(tmp_path / "s", collect.Settings(), max_queue=5)
    real_write = writer._write

    def slow_write(record):  # storage that hangs: the writer thread is stuck on the first record
        gate.wait(30)
        real_write(record)

    monkeypatch.setattr(writer, "_write", slow_write)
    writer.start()
    started = time.perf_counter()
    results = [writer.submit(_record([[i, i]])) for i in range(200)]
    elapsed = time.perf_counter() - started
    assert elapsed < 0.05, f"200 collect() calls took {elapsed:.3f} s while the writer was stuck"
    assert results.count(True) <= 6 and writer.counters.dropped_queue_full >= 194
    gate.set()
    writer.stop()
    assert writer.counters.collected == results.count(True)


def test_rows_of_every_shape_and_the_sink_enforces_the_daily_limit_and_refuses_links(tmp_path):
    assert collect.to_rows({"a": 1, "b": [2]}, None) == (["a", "b"], [[1, [2]]])
    assert collect.to_rows([3, 4], ["y"]) == (["y"], [[3], [4]])
    assert collect.to_rows('{"data": [[1, 2]]}', None) == (["feature_0", "feature_1"], [[1, 2]])
    assert collect.to_rows(5, None) == (["value"], [[5]])

    service_folder = tmp_path / "svc"
    spool = service_folder / "rev-1" / "replicas" / "modeldata" / "0-1-1"
    writer = collect.Writer(spool, collect.Settings()).start()
    for i in range(50):
        writer.submit(_record([[i, i * 2]]))
    writer.stop()
    outside = tmp_path / "elsewhere" / "m" / "1" / "inputs" / "2026" / "01" / "01"
    outside.mkdir(parents=True)
    (outside / "secret.csv").write_text("h\nkeep me\n")
    os.symlink(tmp_path / "elsewhere", service_folder / "rev-1" / "replicas" / "modeldata" / "linked")
    os.symlink(tmp_path / "elsewhere" / "m", spool / "linkedmodel")

    dest = tmp_path / "store"
    sink = ModelDataSink(lambda ws, name: dest, lambda ws, name: 1500)
    appended = sink.harvest("ws", "svc", service_folder)
    (data,) = dest.glob("m/1/inputs/*/*/*/data.csv")
    assert data.stat().st_size <= 1500 and 0 < appended < 50
    lines = data.read_text().splitlines()
    assert lines[0].startswith("$aml_dc_scoring_timestamp,") and len(lines) == appended + 1
    counts = sink.counters("ws", "svc")
    assert counts is not None and counts["collected"] == 50 and counts["dropped_day_limit"] == 50 - appended
    assert (outside / "secret.csv").read_text() == "h\nkeep me\n"  # never read nor removed through a link
    assert [c.parts[-7] for c in _chunks(spool)] == ["linkedmodel"]  # ours moved; the linked one left alone


def test_outside_a_collecting_service_collect_does_nothing(capfd):
    dc = ModelDataCollector("digits", designation="inputs")
    assert dc.collect([[1, 2]]) is None
    assert "collection is off here" in capfd.readouterr().err
    with pytest.raises(Exception, match="designation"):
        ModelDataCollector("digits", designation="outputs")


def test_a_service_collects_inputs_and_predictions_into_workspaceblobstore(service, tmp_path):
    ws = service.workspace("collect")
    model_file = tmp_path / "m.txt"
    model_file.write_text("dc\n")
    model = Model.register(ws, model_file, "dc-model")
    config = AksWebservice.deploy_configuration(num_replicas=1, compute_type="local", collect_model_data=True)
    config.data_collection = {"max_record_bytes": 9000}
    svc = Model.deploy(ws, "collecting", [model], InferenceConfig("score.py", source_directory=SCORING / "collecting"),
                       config)
    try:
        svc.wait_for_deployment()
        assert svc.state == "Healthy", svc.get_logs()
        headers = {"Authorization": f"Bearer {svc.get_keys()[0]}"}
        with requests.Session() as http:
            for i in range(20):
                ok = http.post(svc.scoring_uri, json={"data": [[i, 1], [i, 2]]}, headers=headers, timeout=30)
                assert ok.status_code == 200 and ok.json() == [i + 1, i + 2]
            # 100 rows of two 16-digit inputs (~10 kB of CSV, over the limit: dropped, the request answered) and
            # one 16-digit prediction each (~8 kB: kept)
            big = http.post(svc.scoring_uri, json={"data": [[10**15, 10**15]] * 100}, headers=headers, timeout=30)
            assert big.status_code == 200 and big.json() == [2 * 10**15] * 100
        deadline = time.monotonic() + 30
        while True:
            counts = svc.get_telemetry().get("data_collection") or {}
            if counts.get("rows", 0) >= 20 * 2 + 20 * 2 + 100 and counts.get("dropped_too_large") == 1:
                break
            assert time.monotonic() < deadline, counts
            time.sleep(0.5)
        assert counts["collected"] == 20 + 20 + 1 and counts["dropped_queue_full"] == 0

        store = ws.get_default_datastore()
        dataset = Dataset.Tabular.from_delimited_files(
            path=(store, "modeldata/default/default/collect/collecting/dc-model/1/inputs/**/data.csv"))
        frame = dataset.to_pandas_dataframe()
        assert list(frame.columns)[:2] == ["$aml_dc_scoring_timestamp", "$aml_dc_correlation_id"]
        assert sorted(zip(frame["a"], frame["b"], strict=True)) == sorted((i, j) for i in range(20) for j in (1, 2))
        predictions = Dataset.Tabular.from_delimited_files(
            path=(store, "modeldata/default/default/collect/collecting/dc-model/1/predictions/**/data.csv"))
        pframe = predictions.to_pandas_dataframe()
        assert len(pframe) == 20 * 2 + 100 and set(pframe["total"]) >= {1, 2, 20, 21, 2 * 10**15}
        # a request's inputs and predictions share its correlation id
        assert set(frame["$aml_dc_correlation_id"]) <= set(pframe["$aml_dc_correlation_id"])

        target = tmp_path / "download"
        store.download(str(target), prefix="modeldata/default/default/collect/collecting")
        files = sorted(p.relative_to(target).as_posix() for p in target.rglob("data.csv"))
        day = time.strftime("%Y/%m/%d", time.gmtime())
        assert f"modeldata/default/default/collect/collecting/dc-model/1/inputs/{day}/data.csv" in files
    finally:
        svc.delete()


def test_a_docker_replica_collects_too(service, tmp_path):
    from jupyter_aml import Environment
    from jupyter_aml.sdk.webservice import AciWebservice
    from tests.serving.docker_env import ensure_engine, python_base_image

    base = python_base_image(ensure_engine())
    ws = service.workspace("collectdocker")
    (tmp_path / "m.txt").write_text("dc\n")
    model = Model.register(ws, tmp_path / "m.txt", "dc-model")
    env = Environment("collect-env")
    env.docker.base_image = base
    svc = Model.deploy(ws, "collecting-docker", [model],
                       InferenceConfig("score.py", source_directory=SCORING / "collecting", environment=env),
                       AciWebservice.deploy_configuration(collect_model_data=True))
    try:
        svc.wait_for_deployment()
        assert svc.state == "Healthy", svc.get_logs()
        for i in range(5):
            assert requests.post(svc.scoring_uri, json={"data": [[i, 1]]}, timeout=30).json() == [i + 1]
        deadline = time.monotonic() + 30
        while (svc.get_telemetry().get("data_collection") or {}).get("rows", 0) < 10:
            assert time.monotonic() < deadline, svc.get_telemetry().get("data_collection")
            time.sleep(0.5)
        store = ws.get_default_datastore()
        frame = Dataset.Tabular.from_delimited_files(
            path=(store, "modeldata/default/default/collectdocker/collecting-docker/dc-model/1/inputs/**/data.csv")
        ).to_pandas_dataframe()
        assert sorted(frame["a"]) == [0, 1, 2, 3, 4] and set(frame["b"]) == {1}
    finally:
        svc.delete()


def test_collection_settings_do_not_change_in_place(service, tmp_path):
    from jupyter_aml.errors import InvalidInput
    from jupyter_aml.sdk.webservice import LocalWebservice

    ws = service.workspace("collect")
    (tmp_path / "m.txt").write_text("dc\n")
    model = Model.register(ws, tmp_path / "m.txt", "dc-model")
    svc = Model.deploy(ws, "not-collecting", [model],
                       InferenceConfig("score.py", source_directory=SCORING / "collecting"),
                       LocalWebservice.deploy_configuration())
    try:
        svc.wait_for_deployment()
        config = LocalWebservice.deploy_configuration()
        config.collect_model_data = True
        with pytest.raises(InvalidInput, match="collect_model_data of web service 'not-collecting' cannot change"):
            svc.update(deployment_config=config)
    finally:
        svc.delete()
