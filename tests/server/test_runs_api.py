from __future__ import annotations

from tests.server.helpers import interactive_run, records, sha, upload


async def test_interactive_run_lifecycle_and_children(aml):
    run = await interactive_run(aml, tags={"lr": 0.1}, display_name="first")
    assert run["status"] == "Running" and run["tags"] == {"lr": "0.1"} and run["number"] == 1
    rid = run["id"]
    status, kids = await aml("POST", f"workspaces/w/runs/{rid}/children", {"count": 2})
    assert status == 201 and len(kids["items"]) == 2
    grand = kids["items"][0]["id"]
    _, deeper = await aml("POST", f"workspaces/w/runs/{grand}/children", {"display_name": "g"})
    assert deeper["items"][0]["root_id"] == rid and deeper["items"][0]["parent_id"] == grand
    status, listing = await aml("GET", f"workspaces/w/runs/{rid}/children", params={"recursive": "true"})
    assert len(listing["items"]) == 3
    # a parent that completes takes its active children with it
    status, done = await aml("POST", f"workspaces/w/runs/{rid}/status", {"status": "Completed"})
    assert status == 200 and done["status"] == "Completed" and done["duration_seconds"] >= 0
    status, child = await aml("GET", f"workspaces/w/runs/{deeper['items'][0]['id']}")
    assert child["status"] == "Completed"
    # terminal is final
    status, body = await aml("POST", f"workspaces/w/runs/{rid}/status", {"status": "Running"})
    assert status == 409 and "cannot go from Completed to Running" in body["error"]["message"]


async def test_tags_properties_and_filters(aml):
    a = await interactive_run(aml, tags={"team": "red"})
    b = await interactive_run(aml, tags={"team": "blue"})
    status, _ = await aml("PATCH", f"workspaces/w/runs/{a['id']}", {"properties": {"k": "1"}})
    assert status == 200
    status, body = await aml("PATCH", f"workspaces/w/runs/{a['id']}", {"properties": {"k": "2"}})
    assert status == 409 and "immutable" in body["error"]["hint"]
    status, page = await aml("GET", "workspaces/w/runs", params={"tag": "team=blue"})
    assert [r["id"] for r in page["items"]] == [b["id"]]
    status, page = await aml("GET", "workspaces/w/runs", params={"property": "k"})
    assert [r["id"] for r in page["items"]] == [a["id"]]
    status, page = await aml("GET", "workspaces/w/runs", params={"status": "Bogus"})
    assert status == 400 and "Bogus" in page["error"]["message"]
    status, page = await aml("GET", "workspaces/w/runs", params={"sort": "nope"})
    assert status == 400


async def test_paging_is_server_side(aml):
    await interactive_run(aml)
    for _ in range(6):
        await aml("POST", "workspaces/w/runs", {"experiment": "exp", "kind": "interactive"})
    _, page = await aml("GET", "workspaces/w/runs", params={"page_size": "3", "sort": "number"})
    assert page["total"] == 7 and [r["number"] for r in page["items"]] == [1, 2, 3]
    _, page2 = await aml(
        "GET", "workspaces/w/runs", params={"page_size": "3", "sort": "number", "page_token": page["next_page_token"]}
    )
    assert [r["number"] for r in page2["items"]] == [4, 5, 6]


async def test_journal_is_idempotent_and_history_downsamples(aml):
    run = await interactive_run(aml)
    rid = run["id"]
    batch = {"stream": "main", "records": records(rid, 1, 5000)}
    _, ack = await aml("POST", f"workspaces/w/runs/{rid}/journal", batch)
    assert ack == {"acked_seq": 5000, "rejected": []}
    # a retry of the same batch changes nothing
    _, ack = await aml("POST", f"workspaces/w/runs/{rid}/journal", batch)
    assert ack == {"acked_seq": 5000, "rejected": []}
    spike = records(rid, 5001, 1)
    spike[0]["v"], spike[0]["s"] = 1e9, 5000
    await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": spike})
    _, hist = await aml("GET", f"workspaces/w/runs/{rid}/metrics/loss")
    assert hist["total"] == 5001 and len(hist["values"]) == 5001 and hist["values"][:3] == [0.0, 1.0, 2.0]
    _, small = await aml("GET", f"workspaces/w/runs/{rid}/metrics/loss", params={"max_points": "100"})
    assert small["downsampled"] and len(small["values"]) <= 100
    assert max(small["values"]) == 1e9 and min(small["values"]) == 0.0  # extremes survive
    _, summary = await aml("GET", f"workspaces/w/runs/{rid}/metrics")
    item = summary["items"][0]
    assert item["count"] == 5001 and item["max"] == 1e9 and item["last_value"] == 1e9


async def test_all_metric_kinds(aml):
    run = await interactive_run(aml)
    rid = run["id"]
    recs = [
        {"seq": 1, "run_id": rid, "t": 1.0, "k": "l", "n": "losses", "v": [1, 2, 3]},
        {"seq": 2, "run_id": rid, "t": 2.0, "k": "r", "n": "rows", "v": {"a": 1, "b": 2}},
        {"seq": 3, "run_id": rid, "t": 3.0, "k": "tb", "n": "tbl", "v": {"x": [1, 2], "y": [3, 4]}},
        {"seq": 4, "run_id": rid, "t": 4.0, "k": "tag", "n": "via", "v": "journal"},
    ]
    await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "s1", "records": recs})
    _, hist = await aml("GET", f"workspaces/w/runs/{rid}/metrics/tbl")
    assert hist["kind"] == "table" and hist["values"] == [{"x": [1, 2], "y": [3, 4]}]
    _, got = await aml("GET", f"workspaces/w/runs/{rid}")
    assert got["tags"]["via"] == "journal"
    bad = [{"seq": 5, "run_id": rid, "t": 5.0, "k": "m", "n": "losses", "v": 1.0}]
    status, body = await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "s1", "records": bad})
    assert status == 200 and "is a list" in body["rejected"][0]["reason"]


async def test_snapshot_roundtrip_and_bad_input(aml):
    await aml("POST", "workspaces", {"name": "w"})
    files = {"train.py": b"print('hi')\n", "pkg/util.py": b"X = 1\n"}
    snap_id = await upload(aml, "w", files)
    assert snap_id == await upload(aml, "w", files)  # same content, same id
    status, zipped = await aml("GET", f"workspaces/w/snapshots/{snap_id}/zip")
    assert status == 200 and zipped[:2] == b"PK"
    # traversal and corruption are refused, and nothing is stored
    for bad in ("../x.py", "/etc/passwd", "a\\b.py", "%2e%2e/x.py"):
        manifest = [{"path": bad, "sha256": sha(b"X = 1\n"), "size": 6, "mode": 0o644}]
        status, body = await aml("POST", "workspaces/w/snapshots", {"files": manifest})
        assert status == 400, bad
    status, body = await aml("PUT", f"workspaces/w/blobs/{sha(b'abc')}", raw=b"abd")
    assert status == 400 and "hash" in body["error"]["message"]
    status, body = await aml("POST", "workspaces/w/blobs/missing", {"hashes": [sha(b"abc")]})
    assert body["missing"] == [sha(b"abc")]
    # submit with a script that is not in the snapshot: clear error, no run created
    status, body = await aml(
        "POST", "workspaces/w/runs", {"experiment": "e", "snapshot_id": snap_id, "run_config": {"script": "nope.py"}}
    )
    assert status == 400 and "nope.py" in body["error"]["message"]
    status, body = await aml(
        "POST",
        "workspaces/w/runs",
        {"experiment": "e", "snapshot_id": snap_id, "run_config": {"script": "train.py", "compute_target": "gpu-farm"}},
    )
    assert status == 400 and "gpu-farm" in body["error"]["message"] and "local" in body["error"]["hint"]
    status, page = await aml("GET", "workspaces/w/runs")
    assert page["total"] == 0


async def test_unknown_ids_and_invalid_payloads(aml):
    await aml("POST", "workspaces", {"name": "w"})
    status, body = await aml("GET", "workspaces/w/runs/run_that_never_was")
    assert status == 404 and "run_that_never_was" in body["error"]["message"]
    status, body = await aml("POST", "workspaces/w/runs", {"experiment": "e", "kind": "interactive", "bogus": 1})
    assert status == 422 and "bogus" in body["error"]["message"]
    status, body = await aml("POST", "workspaces/w/runs", raw=b"{not json")
    assert status == 400 and "JSON" in body["error"]["message"]
    status, body = await aml("GET", "workspaces/w/snapshots/" + "0" * 64)
    assert status == 404


async def test_submit_a_folder_on_the_server(aml, jp_serverapp, jp_root_dir):
    project = jp_root_dir / "proj"
    project.mkdir()
    (project / "train.py").write_text("print('hello from the server folder')\n")
    (project / ".amlignore").write_text("data/\n")
    (project / "data").mkdir()
    (project / "data" / "big.bin").write_bytes(b"0" * 1000)
    await aml("POST", "workspaces", {"name": "w"})
    body = {"folder": "proj", "experiment": "ui", "run_config": {"script": "train.py"}}
    status, run = await aml("POST", "workspaces/w/runs/from-folder", body)
    assert status == 201 and run["status"] == "Queued" and run["compute_target"] == "local"
    _, snap = await aml("GET", f"workspaces/w/snapshots/{run['snapshot_id']}")
    assert sorted(f["path"] for f in snap["files"]) == [".amlignore", "train.py"]
    for folder, expected in (("../outside", 400), ("/etc", 400), ("nope", 400)):
        status, err = await aml("POST", "workspaces/w/runs/from-folder", {**body, "folder": folder})
        assert status == expected, (folder, err)
    status, err = await aml("POST", "workspaces/w/runs/from-folder", {**body, "run_config": {"script": "missing.py"}})
    assert status == 400 and "missing.py" in err["error"]["message"]
