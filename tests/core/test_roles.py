"""The roles table: pattern matching, the built-in roles, and docs/security.md saying the same."""

from __future__ import annotations

from pathlib import Path

from jupyter_aml.core import roles as rbac

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_patterns_match_like_azure_wildcards():
    assert rbac.expand(["runs/*"]) == {a for a in rbac.ACTIONS if a.startswith("runs/")}
    assert "services/listkeys" not in rbac.expand(["*/read"])  # a key read is not a read
    assert rbac.unknown_patterns(["runs/sumbit", "runs/*", "nothing/*"]) == ["runs/sumbit", "nothing/*"]
    role = rbac.Role("r", "", ("*",), ("runs/*",))
    assert role.allows("models/write") and not role.allows("runs/read")


def test_builtin_roles_are_found_without_regard_to_case():
    found = rbac.builtin_role("azureml data scientist")
    assert found is not None and found.name == "AzureML Data Scientist"
    assert rbac.builtin_role("Admin") is None


def test_the_documented_table_is_the_table():
    names = list(rbac.BUILTIN_ROLES)
    rows = [f"| `{a.name}` | {a.description} | "
            + " | ".join("yes" if rbac.BUILTIN_ROLES[n].allows(a.name) else "" for n in names) + " |"
            for a in rbac.ACTIONS.values()]
    text = DOC.read_text()
    missing = [row for row in rows if row not in text]
    assert missing == [], "docs/security.md's role table is out of date:\n" + "\n".join(missing)
