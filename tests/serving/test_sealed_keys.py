"""The keys routes answer plain keys while the database holds them sealed (core/secretbox.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jupyter_aml.store.tables import DeploymentRow
from tests.core.test_secretbox import make_deployment


async def test_the_keys_routes_answer_what_the_database_holds_sealed(aml, jp_serverapp):
    service = jp_serverapp.web_app.settings["aml_app"].service
    if not service.deployments.seals_keys:
        pytest.skip("this database's key columns are too narrow for sealed keys until a schema revision widens them")
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
