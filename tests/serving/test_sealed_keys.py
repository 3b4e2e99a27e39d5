"""The keys routes answer plain keys while the database holds them sealed (core/secretbox.py)."""

from __future__ import annotations

from sqlalchemy import select

from jupyter_aml.store.tables import DeploymentRow
from tests.core.test_secretbox import make_deployment


async def test_the_keys_routes_answer_what_the_database_holds_sealed(aml, jp_serverapp):
    service = jp_serverapp.web_app.settings["aml_app"].service
    make_deployment(service)  # the record only: no replica is started for it

    status, keys = await aml("GET", "workspaces/w/endpoints/svc/keys")
    assert status == 200 and set(keys) == {"primary_key", "secondary_key"}
    status, regenerated = await aml("POST", "workspaces/w/endpoints/svc/keys/regenerate",
                                    {"key_type": "Secondary", "key_value": "chosen-by-the-caller-0123"})
    assert status == 200 and regenerated == {**keys, "secondary_key": "chosen-by-the-caller-0123"}
    assert (await aml("GET", "workspaces/w/endpoints/svc/keys"))[1] == regenerated

    with service.db.read() as s:
        stored = s.execute(select(DeploymentRow.primary_key, DeploymentRow.secondary_key)).one()
    assert all(v.startswith("fernet:") for v in stored)
    assert keys["primary_key"] not in stored[0] and "chosen-by-the-caller" not in stored[1]


def test_local_replicas_never_get_the_master_key(tmp_path, monkeypatch):
    """Replicas inherit the service's environment minus a denylist: the master key must be on it."""
    import sys

    from cryptography.fernet import Fernet

    from jupyter_aml.core.secretbox import MASTER_KEY_ENV
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings
    from jupyter_aml.envbuild import venv
    from jupyter_aml.serving.backends import LocalProcessLauncher

    monkeypatch.setenv(MASTER_KEY_ENV, Fernet.generate_key().decode())
    monkeypatch.setenv("AML_TEST_PLAIN_VARIABLE", "kept")
    service = AMLService(ServiceSettings(root=tmp_path / "root"))
    make_deployment(service)
    plan = service.deployments.plan(service.deployments.get_id("w", "svc"), pending=True)
    monkeypatch.setattr(venv, "prepare_environment", lambda *a, **k: venv.PreparedEnv(python=sys.executable))
    launcher = LocalProcessLauncher(root=tmp_path / "serving", blobs=service.blobs)
    prepared = launcher._prepare(plan, tmp_path / "rev", lambda line: None)
    assert prepared.env["AML_TEST_PLAIN_VARIABLE"] == "kept"  # the environment is inherited...
    assert MASTER_KEY_ENV not in prepared.env  # ...but not the master key
