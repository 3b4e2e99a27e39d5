"""Behind a real JupyterHub the AML service sees the hub's users: alice on her own server, bob on alice's
server once she shared it (JupyterHub server sharing), each through real HTTP and a real browser login."""

from __future__ import annotations

import time

from tests.hub.conftest import HubUser
from tests.hub.hub import HubServer, http


def test_hub_tokens_reach_the_shared_server_as_their_own_users(shared_hub: HubServer) -> None:
    # Each creates a workspace of their own on alice's server (its creator owns it) and submits a run there.
    for name in ("alice", "bob"):
        token = shared_hub.user_token(name)
        workspace = f"identity-rest-{name}"
        status, created = shared_hub.aml(token, "alice", "POST", "workspaces", {"name": workspace})
        assert status == 201, created
        status, run = shared_hub.aml(
            token, "alice", "POST", f"workspaces/{workspace}/runs", {"experiment": "who", "kind": "interactive"}
        )
        assert status == 201, run
        assert run["submitter"] == name


def test_a_user_without_a_share_is_refused_by_the_hub(shared_hub: HubServer) -> None:
    # A token limited to bob's own servers carries no access to alice's: the single-user server refuses it.
    narrow = shared_hub.user_token("bob", scopes=["access:servers!user=bob"])
    status, _ = shared_hub.aml(narrow, "alice", "GET", "workspaces")
    assert status in (401, 403)


def test_browser_logins_are_seen_as_the_hub_users(people: dict[str, HubUser]) -> None:
    alice, bob = people["alice"], people["bob"]
    alice.open_lab("alice", "identity-alice")
    # bob opens alice's JupyterLab: the hub asks him to authorize the shared server, then he is in
    bob.open_lab("alice", "identity-bob")
    config = bob.page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    assert config["hubUser"] == "bob" and config["hubServerUser"] == "alice"
    for user in (alice, bob):
        workspace = f"identity-browser-{user.name}"
        status, created = user.api("POST", "workspaces", {"name": workspace})
        assert status == 201, created
        status, run = user.api("POST", f"workspaces/{workspace}/runs", {"experiment": "who", "kind": "interactive"})
        assert status == 201, run
        assert run["submitter"] == user.name
    bob.shot("hub-bob-in-alices-lab.png")


def test_a_folder_run_bob_submits_on_alices_server_completes(shared_hub: HubServer) -> None:
    bob = shared_hub.user_token("bob")
    contents = f"{shared_hub.url}/user/alice/api/contents"
    assert http("PUT", f"{contents}/bob-proj", bob, {"type": "directory"})[0] in (200, 201)
    body = {"type": "file", "format": "text", "content": "print('hello from bob')\n"}
    assert http("PUT", f"{contents}/bob-proj/hello.py", bob, body)[0] in (200, 201)
    status, created = shared_hub.aml(bob, "alice", "POST", "workspaces", {"name": "identity-folder-bob"})
    assert status == 201, created
    spec = {"folder": "bob-proj", "experiment": "hello", "run_config": {"script": "hello.py"}}
    status, run = shared_hub.aml(bob, "alice", "POST", "workspaces/identity-folder-bob/runs/from-folder", spec)
    assert status == 201, run
    assert run["submitter"] == "bob"
    deadline = time.monotonic() + 120
    while run["status"] not in ("Completed", "Failed", "Canceled") and time.monotonic() < deadline:
        time.sleep(0.5)
        run = shared_hub.aml(bob, "alice", "GET", f"workspaces/identity-folder-bob/runs/{run['id']}")[1]
    assert run["status"] == "Completed", run
    status, logs = shared_hub.aml(bob, "alice", "GET", f"workspaces/identity-folder-bob/runs/{run['id']}/logs")
    assert status == 200 and any("hello from bob" in line["text"] for line in logs["items"]), logs
