from __future__ import annotations

from tests.server.helpers import interactive_run, records, sha


async def test_oversized_upload_is_refused_before_it_is_stored(aml, jp_serverapp, aml_root):
    service = jp_serverapp.web_app.settings["aml_app"].service
    service.settings.max_upload_bytes = 1000
    await aml("POST", "workspaces", {"name": "w"})
    data = b"x" * 5000
    status, body = await aml("PUT", f"workspaces/w/blobs/{sha(data)}", raw=data)
    assert status == 413 and "limit" in body["error"]["message"]
    assert not service.blobs.has(sha(data))
    leftovers = [p for p in aml_root.iterdir() if p.name.startswith("tmp")]
    assert leftovers == []


async def test_a_record_of_the_wrong_kind_is_refused_alone(aml):
    run = await interactive_run(aml)
    rid = run["id"]
    await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": records(rid, 1, 10)})
    good = records(rid, 11, 10)
    bad = {"seq": 21, "run_id": rid, "t": 1.0, "k": "l", "n": "loss", "v": [1]}  # loss is a scalar series
    status, ack = await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": [*good, bad]})
    assert status == 200 and ack["acked_seq"] == 21
    assert [(r["index"], r["seq"]) for r in ack["rejected"]] == [(10, 21)] and "loss" in ack["rejected"][0]["reason"]
    _, summary = await aml("GET", f"workspaces/w/runs/{rid}/metrics")
    assert summary["items"][0]["count"] == 20  # the 10 good records of that batch are stored
    _, again = await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": [*good, bad]})
    assert again == {"acked_seq": 21, "rejected": []}  # a resend changes nothing


async def test_journal_cannot_write_into_another_runs_tree(aml):
    mine = await interactive_run(aml)
    other = await interactive_run(aml)
    recs = [*records(other["id"], 1, 3), *records(mine["id"], 4, 2)]
    status, ack = await aml("POST", f"workspaces/w/runs/{mine['id']}/journal", {"stream": "m", "records": recs})
    assert status == 200 and [r["index"] for r in ack["rejected"]] == [0, 1, 2]
    assert other["id"] in ack["rejected"][0]["reason"]
    _, theirs = await aml("GET", f"workspaces/w/runs/{other['id']}/metrics")
    _, ours = await aml("GET", f"workspaces/w/runs/{mine['id']}/metrics")
    assert theirs["items"] == [] and ours["items"][0]["count"] == 2


async def test_wrong_types_and_oversized_requests_name_the_problem(aml, jp_serverapp):
    run = await interactive_run(aml)
    status, body = await aml("PATCH", f"workspaces/w/runs/{run['id']}", {"tags": {"k": {"nested": 1}}})
    assert status == 422 and "tags" in body["error"]["message"]
    status, body = await aml("GET", "workspaces/w/runs", params={"page_size": "100000"})
    assert status == 400 and "page_size" in body["error"]["message"]
    jp_serverapp.web_app.settings["aml_app"].service.settings.max_request_bytes = 100
    status, body = await aml("POST", f"workspaces/w/runs/{run['id']}/logs", {"lines": [{"text": "x" * 500}]})
    assert status == 413


async def test_a_deploy_to_a_compute_type_without_a_launcher_is_refused_and_stores_nothing(aml):
    await aml("POST", "workspaces", {"name": "w"})
    spec = {"name": "svc", "models": ["m:1"], "inference_config": {"entry_script": "score.py", "snapshot_id": "0" * 64},
            "deployment_config": {"compute_type": "kubernetes"}}
    status, body = await aml("POST", "workspaces/w/endpoints", spec)
    assert status == 400, body
    message = body["error"]["message"]
    assert "kubernetes" in message and "local" in message and "docker" in message  # names the installed ones
    _, listing = await aml("GET", "workspaces/w/endpoints")
    assert listing["items"] == []


async def test_a_compute_type_from_an_installed_launcher_plugin_is_accepted(aml, monkeypatch):
    from importlib.metadata import EntryPoint, entry_points

    from jupyter_aml.serving import backends

    real = list(entry_points(group=backends.ENTRY_POINT_GROUP))
    plugin = EntryPoint("kube", "jupyter_aml.serving.backends:LocalProcessLauncher", backends.ENTRY_POINT_GROUP)
    monkeypatch.setattr(backends, "entry_points", lambda group: [*real, plugin])
    await aml("POST", "workspaces", {"name": "w"})
    spec = {"name": "svc", "models": ["m:1"], "deployment_config": {"compute_type": "kube"},
            "inference_config": {"entry_script": "score.py", "snapshot_id": "0" * 64}}
    status, body = await aml("POST", "workspaces/w/endpoints", spec)
    assert status == 404 and "m" in body["error"]["message"], body  # past the compute type: the model is missing
