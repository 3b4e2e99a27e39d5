"""Sharing an ``aml serve`` workspace from the command line: named tokens, members, roles, the activity log."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.conftest import Outcome, Service


def _token(aml: Callable[..., Outcome], service: Service, user: str) -> tuple[int, str]:
    made = aml("token", "create", "--user", user, "--label", "laptop", "--root", str(service.root), "--json")
    assert made.exit_code == 0, made.stdout + made.stderr
    return made.json["id"], made.json["token"]


def test_share_a_workspace_with_a_named_user(aml: Callable[..., Outcome], service: Service) -> None:
    token_id, bob_token = _token(aml, service, "bob")
    as_bob = {"JUPYTER_AML_TOKEN": bob_token}
    assert aml("workspace", "create", "shared", "--json").exit_code == 0  # the service token: an administrator
    # bob has no role yet: the workspace is not there for him
    assert "shared" not in aml("workspace", "list", env=as_bob).stdout
    hidden = aml("workspace", "show", "shared", env=as_bob)
    assert hidden.exit_code == 1 and "not found" in hidden.stderr

    shared = aml("workspace", "share", "shared", "--user", "bob", "--role", "Reader")
    assert shared.exit_code == 0 and "bob" in shared.stdout and "Reader" in shared.stdout
    members = aml("workspace", "members", "shared", "--json").json["items"]
    assert {m["user"]: m["role"] for m in members}["bob"] == "Reader"
    assert "shared" in aml("workspace", "list", env=as_bob).stdout
    # a Reader may look but not change: the error names the action and the role
    refused = aml("workspace", "share", "shared", "--user", "carol", "--role", "Owner", env=as_bob)
    assert refused.exit_code == 1 and "members/write" in refused.stderr and "Reader" in refused.stderr
    assert aml("workspace", "activity", "shared", env=as_bob).exit_code == 1  # Owners only

    roles = aml("workspace", "roles", "shared", "--json").json["items"]
    assert {"Owner", "Contributor", "Reader", "AzureML Data Scientist", "AzureML Compute Operator"} <= {
        r["name"] for r in roles}
    activity = aml("workspace", "activity", "shared", "--json").json["items"]
    assert [(a["action"], a["target"]) for a in activity][:2] == [("members/write", "bob"),
                                                                   ("workspaces/create", "shared")]

    assert aml("workspace", "unshare", "shared", "--user", "bob").exit_code == 0
    assert "shared" not in aml("workspace", "list", env=as_bob).stdout

    # tokens: listed without their secret, and refused once revoked
    listed = aml("token", "list", "--root", str(service.root), "--json").json["items"]
    assert any(t["id"] == token_id and t["user"] == "bob" for t in listed)
    assert bob_token not in aml("token", "list", "--root", str(service.root)).stdout
    assert aml("token", "revoke", str(token_id), "--root", str(service.root)).exit_code == 0
    gone = aml("workspace", "list", env=as_bob)
    assert gone.exit_code == 1 and "bearer token is not valid" in gone.stderr


def test_sharing_errors_say_what_to_do(aml: Callable[..., Outcome], service: Service) -> None:
    aml("workspace", "create", "solo")
    unknown = aml("workspace", "share", "solo", "--user", "eve", "--role", "Admin")
    assert unknown.exit_code == 1 and "no role 'Admin'" in unknown.stderr
    missing_user = aml("workspace", "share", "solo")
    assert missing_user.exit_code != 0 and "--user" in (missing_user.stderr + missing_user.stdout)
    revoke = aml("token", "revoke", "99999", "--root", str(service.root))
    assert revoke.exit_code == 1 and "aml token list" in revoke.stderr
