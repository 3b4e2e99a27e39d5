"""Behind a real JupyterHub the AML service sees the hub's users: alice on her own server, bob on alice's
server once she shared it (JupyterHub server sharing), each through real HTTP and a real browser login."""

from __future__ import annotations

from tests.hub.conftest import HubUser
from tests.hub.hub import HubServer


def test_hub_tokens_reach_the_shared_server_as_their_own_users(shared_hub: HubServer) -> None:
    alice, bob = shared_hub.user_token("alice"), shared_hub.user_token("bob")
    status, created = shared_hub.aml(alice, "alice", "POST", "workspaces", {"name": "identity-rest"})
    assert status == 201, created
    runs = {}
    for name, token in (("alice", alice), ("bob", bob)):
        status, run = shared_hub.aml(
            token, "alice", "POST", "workspaces/identity-rest/runs", {"experiment": "who", "kind": "interactive"}
        )
        assert status == 201, run
        runs[name] = run
    assert runs["alice"]["submitter"] == "alice"
    assert runs["bob"]["submitter"] == "bob"


def test_a_user_without_a_share_is_refused_by_the_hub(shared_hub: HubServer) -> None:
    # A token limited to bob's own servers carries no access to alice's: the single-user server refuses it.
    narrow = shared_hub.user_token("bob", scopes=["access:servers!user=bob"])
    status, _ = shared_hub.aml(narrow, "alice", "GET", "workspaces")
    assert status in (401, 403)


def test_browser_logins_are_seen_as_the_hub_users(people: dict[str, HubUser]) -> None:
    alice, bob = people["alice"], people["bob"]
    alice.open_lab("alice", "identity-alice")
    status, created = alice.api("POST", "workspaces", {"name": "identity-browser"})
    assert status == 201, created
    # bob opens alice's JupyterLab: the hub asks him to authorize the shared server, then he is in
    bob.open_lab("alice", "identity-bob")
    assert bob.page.evaluate("() => window.jupyterapp !== undefined")
    config = bob.page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    assert config["hubUser"] == "bob" and config["hubServerUser"] == "alice"
    submitted = {}
    for user in (alice, bob):
        status, run = user.api(
            "POST", "workspaces/identity-browser/runs", {"experiment": "who", "kind": "interactive"}
        )
        assert status == 201, run
        submitted[user.name] = run["submitter"]
    assert submitted == {"alice": "alice", "bob": "bob"}
    bob.shot("hub-bob-in-alices-lab.png")
