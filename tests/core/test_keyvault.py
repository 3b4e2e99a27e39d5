"""The workspace key vault (core/keyvault.py) on the real store: sealed at rest, one vault per workspace,
Azure Key Vault's name rule, clear errors that never show a value, nothing half-written, and every value
read, set and delete in the activity log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from jupyter_aml.core.keyvault import NAME_RULE, SERVICE_ACTOR
from jupyter_aml.core.keyvault_models import MAX_VALUE_CHARS
from jupyter_aml.core.secretbox import MASTER_KEY_ENV, SecretBox, SecretUnreadable
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.store.tables import ActivityRow, SecretRow

VALUE = "pa55-VALUE-7e1b9c"


@pytest.fixture(autouse=True)
def no_master_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[AMLService]:
    svc = AMLService(ServiceSettings(root=tmp_path / "root", database_url=database_url))
    svc.workspaces.get_or_create("a")
    svc.workspaces.get_or_create("b")
    yield svc
    svc.close()


def stored(service: AMLService) -> list[tuple[str, str]]:
    with service.db.read() as s:
        return [(r.name, r.value) for r in s.scalars(select(SecretRow).order_by(SecretRow.id))]


def activity(service: AMLService, workspace: str = "a") -> list[tuple[str, str, str]]:
    with service.db.read() as s:
        rows = s.scalars(select(ActivityRow).where(ActivityRow.workspace == workspace).order_by(ActivityRow.id))
        return [(r.user, r.action, r.target) for r in rows]


def test_a_secret_is_sealed_at_rest_and_read_back(service: AMLService) -> None:
    kv = service.keyvault
    kv.set_secret("a", "storage-key", VALUE, actor="alice")
    (name, sealed), = stored(service)
    assert name == "storage-key" and SecretBox.is_sealed(sealed) and VALUE not in sealed
    assert kv.get_secret("a", "storage-key", actor="alice") == VALUE
    assert kv.list_secrets("a") == ["storage-key"]


def test_set_replaces_and_names_are_case_insensitive_as_in_azure(service: AMLService) -> None:
    kv = service.keyvault
    kv.set_secret("a", "Token", "one")
    kv.set_secret("a", "token", "two")
    assert kv.list_secrets("a") == ["token"] and len(stored(service)) == 1
    assert kv.get_secret("a", "TOKEN") == "two"


def test_each_workspace_has_its_own_vault(service: AMLService) -> None:
    kv = service.keyvault
    kv.set_secret("a", "k", "in-a")
    kv.set_secret("b", "k", "in-b")
    assert kv.get_secret("a", "k") == "in-a" and kv.get_secret("b", "k") == "in-b"
    kv.delete_secret("b", "k")
    assert kv.list_secrets("b") == [] and kv.list_secrets("a") == ["k"]
    with pytest.raises(NotFound, match="workspace 'nowhere' not found"):
        kv.list_secrets("nowhere")


def test_list_is_sorted_names_only(service: AMLService) -> None:
    kv = service.keyvault
    kv.set_secrets("a", {"zeta": "1", "Alpha": "2", "beta-2": "3"})
    names = kv.list_secrets("a")
    assert names == ["Alpha", "beta-2", "zeta"]
    assert all(isinstance(n, str) for n in names)


@pytest.mark.parametrize("name", ["", "has space", "under_score", "dot.name", "slash/x", "ünï", "x" * 128, "a\nb"])
def test_a_name_outside_azures_rule_is_refused_saying_the_rule(service: AMLService, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.keyvault.set_secret("a", name, VALUE)
    assert NAME_RULE in str(caught.value) and VALUE not in str(caught.value)
    assert stored(service) == []
    with pytest.raises(InvalidInput, match="not a valid secret name"):
        service.keyvault.get_secret("a", name)


def test_the_longest_legal_name_is_taken(service: AMLService) -> None:
    service.keyvault.set_secret("a", "N" * 127, "v")
    assert service.keyvault.list_secrets("a") == ["N" * 127]


@pytest.mark.parametrize("value", ["", None, 42, b"bytes", "x" * (MAX_VALUE_CHARS + 1), "lone\ud800"])
def test_a_bad_value_is_refused_without_showing_it(service: AMLService, value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.keyvault.set_secret("a", "k", value)  # type: ignore[arg-type]
    assert "k" in caught.value.message and (not isinstance(value, str) or not value or value not in str(caught.value))
    assert stored(service) == [] and activity(service) == []


def test_a_batch_with_one_bad_entry_writes_nothing(service: AMLService) -> None:
    kv = service.keyvault
    kv.set_secret("a", "keep", "old")
    with pytest.raises(InvalidInput):
        kv.set_secrets("a", {"keep": "new", "bad name": "x"})
    with pytest.raises(InvalidInput, match="differ only in case"):
        kv.set_secrets("a", {"Dup": "1", "dup": "2"})
    assert kv.get_secret("a", "keep") == "old" and kv.list_secrets("a") == ["keep"]


def test_a_missing_secret_is_not_found_with_a_hint(service: AMLService) -> None:
    kv = service.keyvault
    with pytest.raises(NotFound) as caught:
        kv.get_secret("a", "nope")
    assert "secret 'nope' not found in the key vault of workspace 'a'" in caught.value.message
    assert caught.value.hint and "set_secret" in caught.value.hint
    with pytest.raises(NotFound):
        kv.delete_secret("a", "nope")
    kv.set_secret("a", "there", "v")
    with pytest.raises(NotFound, match="'nope'"):
        kv.get_secrets("a", ["there", "nope"])
    assert [a for _, a, _ in activity(service)] == ["secrets/write"]  # the failed reads recorded nothing
    # v1's get_secrets: a missing name is None, and only the found one is recorded
    assert kv.read_secrets("a", ["there", "nope"], missing_ok=True) == {"there": "v", "nope": None}
    assert [t for _, a, t in activity(service) if a == "secrets/getvalue"] == ["there"]


def test_every_value_read_set_and_delete_is_in_the_activity_log(service: AMLService) -> None:
    kv = service.keyvault
    kv.set_secret("a", "k", VALUE, actor="alice")
    kv.get_secrets("a", ["k", "K"], actor="bob (run r1)")  # one name asked twice: one read
    kv.get_secret("a", "k")
    kv.list_secrets("a")
    kv.delete_secret("a", "k", actor="alice")
    assert activity(service) == [("alice", "secrets/write", "k"), ("bob (run r1)", "secrets/getvalue", "k"),
                                 (SERVICE_ACTOR, "secrets/getvalue", "k"), ("alice", "secrets/delete", "k")]
    with service.db.read() as s:
        details = [str(r.detail) + r.target for r in s.scalars(select(ActivityRow))]
    assert all(VALUE not in d for d in details)


def test_values_are_never_logged(service: AMLService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    kv = service.keyvault
    kv.set_secrets("a", {"one": VALUE, "two": VALUE + "2"}, actor="alice")
    kv.get_secrets("a", ["one", "two"], actor="alice")
    with pytest.raises(InvalidInput):
        kv.set_secret("a", "bad name", VALUE)
    assert "one" in caplog.text and VALUE not in caplog.text


def test_another_master_key_cannot_open_them(service: AMLService, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    service.keyvault.set_secret("a", "k", VALUE)
    from cryptography.fernet import Fernet

    monkeypatch.setenv(MASTER_KEY_ENV, Fernet.generate_key().decode())
    other = AMLService(ServiceSettings(root=tmp_path / "root", database_url=service.settings.database_url))
    try:
        with pytest.raises(SecretUnreadable) as caught:
            other.keyvault.get_secret("a", "k")
        assert VALUE not in str(caught.value) and "secret 'k' of workspace 'a'" in caught.value.message
        assert caught.value.hint and "set the secret again" in caught.value.hint
        other.keyvault.set_secret("a", "k", "new")  # the way out of a lost key: replace it
        assert other.keyvault.get_secret("a", "k") == "new"
    finally:
        other.close()


def test_deleting_a_workspace_deletes_its_vault(service: AMLService) -> None:
    service.keyvault.set_secret("b", "k", VALUE)
    with service.db.session() as s:
        s.execute(text("DELETE FROM workspaces WHERE name = 'b'"))
    assert all(name != "k" for name, _ in stored(service))


def test_concurrent_sets_of_a_new_name_make_one_secret(service: AMLService) -> None:
    """Writers racing to create the same name: each succeeds (the loser of the insert replaces), one row."""
    import threading

    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def put(i: int) -> None:
        barrier.wait()
        try:
            service.keyvault.set_secret("a", "raced", f"value-{i}", actor=f"w{i}")
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert service.keyvault.list_secrets("a") == ["raced"] and len(stored(service)) == 1
    assert service.keyvault.get_secret("a", "raced") in {f"value-{i}" for i in range(6)}
    assert sum(a == "secrets/write" for _, a, _ in activity(service)) == 6
