"""Web-service keys are sealed in the database with a master key kept outside it (core/secretbox.py)."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from jupyter_aml.core import models
from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.secretbox import KEY_FILE, MASTER_KEY_ENV, SecretBox, SecretUnreadable
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.store.tables import DeploymentRow


def make_deployment(service: AMLService, name: str = "svc", workspace: str = "w") -> None:
    """A web-service record with auth enabled, created by the real store (no replica is started)."""
    service.workspaces.get_or_create(workspace)
    score, weights = b"def init():\n    pass\ndef run(data):\n    return data\n", b"weights"
    for data in (score, weights):
        service.blobs.put_bytes(data)
    snap = service.files.create_snapshot(
        models.SnapshotCreate(files=[models.SnapshotFile(path="score.py", sha256=hashlib.sha256(score).hexdigest(),
                                                         size=len(score))]),
        max_files=10, max_bytes=10_000,
    )
    service.models.register(workspace, rm.ModelCreate(
        name="m", files=[rm.ModelFile(path="m.bin", sha256=hashlib.sha256(weights).hexdigest(), size=len(weights))]))
    service.deployments.create(workspace, rm.DeploymentCreate(
        name=name, models=["m:1"],
        inference_config=rm.InferenceConfigSpec(entry_script="score.py", snapshot_id=snap.id),
        deployment_config=rm.DeploymentConfigSpec(auth_enabled=True)))


def raw_keys(service: AMLService, name: str = "svc") -> tuple[str, str]:
    """The key columns exactly as stored, read past the service."""
    with service.db.read() as s:
        row = s.execute(select(DeploymentRow.primary_key, DeploymentRow.secondary_key)
                        .where(DeploymentRow.name == name)).one()
        return row[0], row[1]


@pytest.fixture(autouse=True)
def no_master_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def service(root: Path, database_url: str | None) -> AMLService:
    return AMLService(ServiceSettings(root=root, database_url=database_url))


@pytest.fixture
def sealing(service: AMLService) -> AMLService:
    return service


# -- the box ----------------------------------------------------------------------------------------------------
def test_seal_hides_the_value_and_open_gives_it_back(root: Path) -> None:
    box = SecretBox.for_root(root)
    sealed = box.seal("s3cret-key-value")
    assert sealed.startswith("fernet:") and "s3cret" not in sealed
    assert box.open(sealed) == "s3cret-key-value"
    assert box.seal("s3cret-key-value") != sealed  # a fresh IV each time: equal keys do not show as equal
    assert box.open("legacy-plain-value") == "legacy-plain-value"


def test_the_key_file_is_private_and_kept(root: Path) -> None:
    sealed = SecretBox.for_root(root).seal("v")
    path = root / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in root.iterdir()] == [KEY_FILE]  # no temporary file left behind
    path.chmod(0o644)
    assert SecretBox.for_root(root).open(sealed) == "v"  # the same key after a restart...
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # ...and a loosened file is tightened again


def test_the_environment_key_is_used_when_set(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key()
    monkeypatch.setenv(MASTER_KEY_ENV, key.decode())
    sealed = SecretBox.for_root(root).seal("v")
    assert not (root / KEY_FILE).exists()
    assert SecretBox(Fernet(key)).open(sealed) == "v"
    monkeypatch.delenv(MASTER_KEY_ENV)
    with pytest.raises(SecretUnreadable):
        SecretBox.for_root(root).open(sealed)  # the key file's key is another one


def test_a_wrong_master_key_is_a_clear_error(root: Path) -> None:
    sealed = SecretBox(Fernet(Fernet.generate_key())).seal("distinctive-secret")
    with pytest.raises(SecretUnreadable, match=r"master key .* changed") as err:
        SecretBox.for_root(root).open(sealed)
    assert "restore the master key" in str(err.value.hint) and "secret.key" in str(err.value.hint)
    assert "distinctive-secret" not in str(err.value)


def test_a_malformed_master_key_is_a_clear_error(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MASTER_KEY_ENV, "not-a-fernet-key")
    with pytest.raises(SecretUnreadable, match=f"\\${MASTER_KEY_ENV} is not a Fernet key") as err:
        SecretBox.for_root(root)
    assert "not-a-fernet-key" not in str(err.value)


def test_the_key_columns_hold_the_longest_sealed_key() -> None:
    from jupyter_aml.core import registry_models as rm
    from jupyter_aml.store.tables import DeploymentRow

    longest = rm.RegenerateKey.model_fields["key_value"].metadata
    limit = next(m.max_length for m in longest if getattr(m, "max_length", None))
    for column in (DeploymentRow.__table__.c.primary_key, DeploymentRow.__table__.c.secondary_key):
        assert column.type.length >= SecretBox.sealed_length(limit)


def test_sealed_length_is_exact(root: Path) -> None:
    box = SecretBox.for_root(root)
    for n in (0, 15, 16, 43, 127, 128):
        assert len(box.seal("k" * n)) == SecretBox.sealed_length(n)


# -- web-service keys ---------------------------------------------------------------------------------------------
def test_keys_read_back_on_every_backend(service: AMLService) -> None:
    make_deployment(service)
    keys = service.deployments.keys("w", "svc")
    assert len(keys.primary_key) >= 43 and keys.primary_key != keys.secondary_key
    longest = "k" * 128  # the longest key a caller may set still fits the column, sealed or not
    regenerated = service.deployments.regenerate("w", "svc", rm.RegenerateKey(key_type="Primary", key_value=longest))
    assert regenerated == service.deployments.keys("w", "svc") == rm.ServiceKeys(
        primary_key=longest, secondary_key=keys.secondary_key)


def test_service_keys_are_not_stored_in_clear(sealing: AMLService) -> None:
    service = sealing
    make_deployment(service)
    keys = service.deployments.keys("w", "svc")
    primary, secondary = raw_keys(service)
    assert primary.startswith("fernet:") and secondary.startswith("fernet:")
    assert keys.primary_key not in primary and keys.secondary_key not in secondary
    assert service.secrets.open(primary) == keys.primary_key

    chosen = "my-own-key-0123456789"
    regenerated = service.deployments.regenerate("w", "svc", rm.RegenerateKey(key_type="Secondary", key_value=chosen))
    assert regenerated == rm.ServiceKeys(primary_key=keys.primary_key, secondary_key=chosen)
    assert service.deployments.keys("w", "svc") == regenerated
    assert chosen not in "".join(raw_keys(service))


def test_legacy_plain_keys_still_read_and_are_sealed_at_start(sealing: AMLService, root: Path,
                                                             database_url: str | None) -> None:
    service = sealing
    make_deployment(service)
    with service.db.session() as s:  # a row as an older version wrote it
        s.execute(update(DeploymentRow).values(primary_key="plain-primary-0123", secondary_key="plain-secondary-0123"))
    expected = rm.ServiceKeys(primary_key="plain-primary-0123", secondary_key="plain-secondary-0123")
    assert service.deployments.keys("w", "svc") == expected

    restarted = AMLService(ServiceSettings(root=root, database_url=database_url))
    primary, secondary = raw_keys(restarted)
    assert primary.startswith("fernet:") and "plain-primary" not in primary
    assert secondary.startswith("fernet:") and "plain-secondary" not in secondary
    assert restarted.deployments.keys("w", "svc") == expected
    assert restarted.deployments.seal_plain_keys() == 0  # idempotent
    assert raw_keys(restarted) == (primary, secondary)


def test_a_lost_master_key_is_explained_and_regenerating_recovers(sealing: AMLService, root: Path,
                                                                  database_url: str | None) -> None:
    service = sealing
    make_deployment(service)
    (root / KEY_FILE).unlink()
    restarted = AMLService(ServiceSettings(root=root, database_url=database_url))  # starts: a new key is made
    with pytest.raises(SecretUnreadable, match="master key"):
        restarted.deployments.keys("w", "svc")
    keys = restarted.deployments.regenerate("w", "svc", rm.RegenerateKey(key_type="Primary"))
    assert restarted.deployments.keys("w", "svc") == keys  # the unreadable secondary key was replaced too
