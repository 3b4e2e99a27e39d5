"""The Members page in a real JupyterLab: an administrator (the one user of a single-user lab) shares a
workspace, changes a member's role and reads the activity log; the page's view of what each role grants
matches the server's own table (core/roles.py)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from playwright.sync_api import expect

from jupyter_aml.core import roles as rbac
from tests.browser.conftest import Studio

pytestmark = pytest.mark.browser

WORKSPACE = "team"
CUSTOM = {"name": "Run Watcher", "actions": ["runs*", "models/*"], "not_actions": ["*/cancel", "models/delete"]}


def members_of(studio: Studio) -> dict[str, str]:
    return {m["user"]: m["role"] for m in studio.lab.get(f"workspaces/{WORKSPACE}/members")["items"]}


def granted_in_page(page: Any, role: str) -> set[str]:
    """The concrete actions the Roles tab says ``role`` grants (listed inside a closed <details>)."""
    return set(page.locator(f'[aria-label="Actions granted by {role}"] li code').all_text_contents())


def test_an_administrator_shares_a_workspace_from_the_members_page(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    lab.post("workspaces", {"name": WORKSPACE, "description": "shared with the team"})
    quoted = urllib.parse.quote(CUSTOM["name"])
    lab.call("PUT", f"workspaces/{WORKSPACE}/roles/{quoted}",
             {"actions": CUSTOM["actions"], "not_actions": CUSTOM["not_actions"], "description": "watches runs"})
    me = lab.get(f"workspaces/{WORKSPACE}/access")
    assert me["admin"] is True and me["role"] == "Owner"  # single-user: the lab's user administers everything

    # The sidebar's workspace switcher > the people icon opens the workspace's Members page.
    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WORKSPACE)
    sidebar.get_by_role("button", name=f"Members of workspace {WORKSPACE}").click()
    members_page = page.locator(f'.jp-aml-MembersPage[data-workspace="{WORKSPACE}"]')
    members_page.get_by_role("heading", name=f"Members of {WORKSPACE}").wait_for()
    summary = members_page.get_by_role("group", name="Members summary")
    expect(summary).to_contain_text(f"You are {me['user']}")
    expect(summary.get_by_text("administrator", exact=True)).to_be_visible()

    # Add bob as Reader: his row appears, with his role.
    form = members_page.get_by_role("form", name="Add a member")
    form.get_by_label("User").fill("bob")
    form.get_by_label("Role").select_option("Reader")
    form.get_by_role("button", name="Add member").click()
    table = members_page.get_by_role("table", name="Members")
    bob_role = table.get_by_role("combobox", name="Role of bob")
    expect(bob_role).to_have_value("Reader")
    expect(form.get_by_label("User")).to_have_value("")
    assert members_of(studio) == {me["user"]: "Owner", "bob": "Reader"}
    expect(table.locator('tr[data-member="bob"]')).to_contain_text(me["user"])  # added by

    # Change his role in his row.
    bob_role.select_option("Contributor")
    expect(table.locator('tr[data-member="bob"]')).to_have_attribute("data-role", "Contributor")
    assert members_of(studio)["bob"] == "Contributor"

    # The Roles tab: what each role grants, worked out in the page exactly as the server does.
    members_page.get_by_role("tab", name="Roles").click()
    roles_list = members_page.get_by_role("list", name="Roles")
    roles_list.locator(f'[data-role="{CUSTOM["name"]}"]').wait_for()
    expect(roles_list.get_by_role("list", name=f"Excluded actions of {CUSTOM['name']}")).to_contain_text("*/cancel")
    expected = {name: role.allowed() for name, role in rbac.BUILTIN_ROLES.items()}
    expected[CUSTOM["name"]] = rbac.Role(CUSTOM["name"], "", tuple(CUSTOM["actions"]),
                                         tuple(CUSTOM["not_actions"])).allowed()
    # "runs*" reaches past the slash (fnmatch), "*/cancel" takes runs/cancel back out
    assert {"runs/read", "runs/submit", "models/read", "models/write"} <= expected[CUSTOM["name"]]
    assert "runs/cancel" not in expected[CUSTOM["name"]]
    for name, actions in expected.items():
        assert granted_in_page(page, name) == set(actions), name
    roles_list.locator('[data-role="Reader"] summary').click()
    studio.shot("members-roles.png")

    # The Activity tab lists both member changes, newest first, saying who did them and the role.
    members_page.get_by_role("tab", name="Activity").click()
    activity = members_page.get_by_role("table", name="Activity")
    changes = activity.locator('tr[data-action="members/write"]')
    expect(changes).to_have_count(2)
    expect(changes.nth(0)).to_contain_text("role: Contributor")
    expect(changes.nth(1)).to_contain_text("role: Reader")
    for i in range(2):
        expect(changes.nth(i)).to_contain_text("bob")
        expect(changes.nth(i)).to_have_attribute("data-user", me["user"])
    expect(activity.locator('tr[data-action="roles/write"]')).to_contain_text(CUSTOM["name"])
    studio.shot("members-activity.png")
    members_page.get_by_role("tab", name="Members").click()
    studio.shot("members.png")
