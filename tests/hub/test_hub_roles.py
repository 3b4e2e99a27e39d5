"""Workspace roles behind a real JupyterHub (docs/sharing.md steps 3-7): alice owns a workspace on her
server and gives bob roles from the studio's Members page; bob, in alice's JupyterLab as himself, gets what
each role allows and no more. Each person acts through their own browser login."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.hub.conftest import HubUser

WORKSPACE = "team"


def members_page(user: HubUser) -> Any:
    return user.page.locator(f'.jp-aml-MembersPage[data-workspace="{WORKSPACE}"]')


def open_members_from_sidebar(user: HubUser) -> Any:
    """The sidebar's workspace switcher, then its people icon, as a person would."""
    tab = user.page.get_by_role("tab", name="AML workspace")
    panel = user.page.locator("#" + str(tab.get_attribute("data-id")))
    if not panel.is_visible():
        tab.click()
    sidebar = user.page.get_by_role("region", name="AML workspace")
    sidebar.get_by_role("combobox", name="Workspace").select_option(WORKSPACE)
    sidebar.get_by_role("button", name=f"Members of workspace {WORKSPACE}").click()
    page = members_page(user)
    page.get_by_role("heading", name=f"Members of {WORKSPACE}").wait_for()
    return page


def test_alice_gives_bob_roles_in_her_workspace_from_the_members_page(people: dict[str, HubUser]) -> None:
    alice, bob = people["alice"], people["bob"]
    alice.open_lab("alice", "roles-alice")
    bob.open_lab("alice", "roles-bob")

    # alice creates the workspace on her server: she owns it, and as the server's owner she administers it.
    status, created = alice.api("POST", "workspaces", {"name": WORKSPACE})
    assert status == 201, created
    status, access = alice.api("GET", f"workspaces/{WORKSPACE}/access")
    assert status == 200 and access["user"] == "alice" and access["role"] == "Owner" and access["admin"], access

    # For bob, without a role, the workspace does not exist: the same 404 as a missing one.
    status, missing = bob.api("GET", f"workspaces/{WORKSPACE}/runs")
    assert status == 404, missing
    assert bob.api("GET", "workspaces/no-such-workspace/runs")[0] == 404
    assert WORKSPACE not in {w["name"] for w in bob.api("GET", "workspaces")[1]["items"]}

    # alice adds bob as Reader on her Members page.
    page = open_members_from_sidebar(alice)
    expect(page.get_by_role("group", name="Members summary")).to_contain_text("You are alice")
    form = page.get_by_role("form", name="Add a member")
    form.get_by_label("User").fill("bob")
    form.get_by_label("Role").select_option("Reader")
    form.get_by_role("button", name="Add member").click()
    bob_role = page.get_by_role("table", name="Members").get_by_role("combobox", name="Role of bob")
    expect(bob_role).to_have_value("Reader")

    # bob reads the workspace's runs, but submitting answers 403 naming the action a Reader lacks.
    status, runs = bob.api("GET", f"workspaces/{WORKSPACE}/runs")
    assert status == 200, runs
    status, refused = bob.api("POST", f"workspaces/{WORKSPACE}/runs", {"experiment": "who", "kind": "interactive"})
    assert status == 403, refused
    assert "runs/submit" in str(refused) and "Reader" in str(refused), refused
    status, access = bob.api("GET", f"workspaces/{WORKSPACE}/access")
    assert status == 200 and access["role"] == "Reader" and access["admin"] is False, access
    assert "runs/read" in access["actions"] and "runs/submit" not in access["actions"], access

    # bob's own Members page: the members and his role, no controls he could not use, no activity log.
    bob.page.evaluate(
        "ws => window.jupyterapp.commands.execute('aml:open-members', { workspace: ws }).then(() => true)", WORKSPACE
    )
    bobs = members_page(bob)
    expect(bobs.get_by_role("group", name="Members summary")).to_contain_text("You are bob · Reader")
    expect(bobs).to_have_attribute("data-admin", "false")
    expect(bobs.get_by_role("table", name="Members").locator('tr[data-member="alice"]')).to_contain_text("Owner")
    expect(bobs.get_by_text("Only an Owner of this workspace adds, changes or removes members.")).to_be_visible()
    expect(bobs.get_by_role("form", name="Add a member")).to_have_count(0)
    expect(bobs.get_by_role("combobox", name="Role of bob")).to_have_count(0)
    expect(bobs.get_by_role("tab", name="Activity")).to_have_count(0)
    bob.shot("hub-bob-members-reader.png")

    # alice makes bob a Contributor in his row; now his submission is his.
    bob_role.select_option("Contributor")
    expect(page.locator('tr[data-member="bob"]')).to_have_attribute("data-role", "Contributor")
    status, run = bob.api("POST", f"workspaces/{WORKSPACE}/runs", {"experiment": "who", "kind": "interactive"})
    assert status == 201, run
    assert run["submitter"] == "bob"

    # alice's Activity tab lists bob's submission and her own member changes, newest first.
    page.get_by_role("tab", name="Activity").click()
    page.get_by_role("button", name="Refresh members").click()
    activity = page.get_by_role("table", name="Activity")
    submitted = activity.locator('tr[data-action="runs/submit"]')
    expect(submitted).to_have_count(1)
    expect(submitted).to_have_attribute("data-user", "bob")
    expect(submitted).to_contain_text(run["id"])
    changes = activity.locator('tr[data-action="members/write"]')
    expect(changes).to_have_count(2)
    expect(changes.nth(0)).to_contain_text("role: Contributor")
    expect(changes.nth(1)).to_contain_text("role: Reader")
    for i in range(2):
        expect(changes.nth(i)).to_have_attribute("data-user", "alice")
    rows = activity.locator("tbody tr")
    assert rows.nth(0).get_attribute("data-action") == "runs/submit"  # newest first
    alice.shot("hub-alice-activity.png")

    # The log, as the REST API gives it to alice; bob, a Contributor, may not read it (403 naming it).
    status, log = alice.api("GET", f"workspaces/{WORKSPACE}/activity")
    assert status == 200, log
    assert [(e["user"], e["action"]) for e in log["items"][:3]] == [
        ("bob", "runs/submit"), ("alice", "members/write"), ("alice", "members/write")
    ]
    status, refused = bob.api("GET", f"workspaces/{WORKSPACE}/activity")
    assert status == 403 and "activity/read" in str(refused), refused

    # A role without members/read (Azure's Compute Operator): bob's page says which action he lacks instead of
    # asking for the list and showing the server's 403.
    page.get_by_role("tab", name="Members").click()
    bob_role.select_option("AzureML Compute Operator")
    expect(page.locator('tr[data-member="bob"]')).to_have_attribute("data-role", "AzureML Compute Operator")
    bob.page.get_by_role("button", name="Refresh members").click()
    expect(bobs.get_by_role("group", name="Members summary")).to_contain_text("AzureML Compute Operator")
    expect(bobs.get_by_role("tabpanel")).to_contain_text(
        "Your role AzureML Compute Operator does not allow members/read"
    )
    expect(bobs.get_by_role("table", name="Members")).to_have_count(0)
    assert bob.api("GET", f"workspaces/{WORKSPACE}/members")[0] == 403
