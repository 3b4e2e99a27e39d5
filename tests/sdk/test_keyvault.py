"""v1's key vault through the SDK, against the real service process: ``ws.get_default_keyvault()`` and its
methods, ``azureml.core.Keyvault``, and ``run.get_secret(s)`` inside a real submitted run (sandboxed as every
local run), whose reads are in the activity log with the run as actor and whose token reaches its own
workspace's vault only. Then every file the service wrote (the SQLite database and its WAL, the service
log, blobs and snapshots, run folders) is searched for the secret's bytes, and none holds them."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from jupyter_aml import Experiment, Run, ScriptRunConfig
from jupyter_aml.errors import AMLError, InvalidInput, NotFound, UserError
from jupyter_aml.sdk.keyvault import Keyvault
from jupyter_aml.sdk.offline import OfflineRun
from tests.e2e.conftest import write_script

IN_RUN = """
import hashlib, sys
from azureml.core import Run
from jupyter_aml.errors import InvalidInput, NotFound

run = Run.get_context()
value = run.get_secret("db-password")
found = run.get_secrets(["db-password", "api-key", "not-there"])
assert found["db-password"] == value and found["not-there"] is None, sorted(found)
print("sha", hashlib.sha256(value.encode()).hexdigest(), hashlib.sha256(found["api-key"].encode()).hexdigest())
try:
    run.get_secret("not-there")
except NotFound as exc:
    print("missing:", exc.message)
try:
    run.get_secret("bad_name!")
except InvalidInput as exc:
    print("bad name:", exc.message)
# the run's own token, asking another workspace's vault through the same route: refused as "not found"
api = run.experiment.workspace._api
try:
    api.run_secret_values(sys.argv[1], run.id, {"names": ["db-password"]})
    print("LEAK: another workspace's secret was read")
except NotFound as exc:
    print("other workspace:", exc.message)
"""


def _secret() -> str:
    return "kv-" + secrets.token_hex(16)


def test_the_v1_keyvault_surface(service):
    ws = service.workspace("kv")
    kv = ws.get_default_keyvault()
    assert isinstance(kv, Keyvault) and kv.workspace is ws and "kv" in repr(kv)
    value = _secret()
    kv.set_secret(name="storage-key", value=value)
    kv.set_secrets({"user": "me", "password": value + "2"})
    assert kv.list_secrets() == [{"name": "password"}, {"name": "storage-key"}, {"name": "user"}]
    assert value not in repr(kv.list_secrets()) and value not in repr(kv)
    assert kv.get_secret("storage-key") == value
    assert kv.get_secrets(["user", "nope"]) == {"user": "me", "nope": None}  # v1: found and not found
    kv.set_secret("storage-key", "rotated")
    assert kv.get_secret("STORAGE-KEY") == "rotated"  # names are case-insensitive, as in Azure Key Vault
    kv.delete_secret("user")
    kv.delete_secrets(["password"])
    assert kv.list_secrets() == [{"name": "storage-key"}]
    # v1's class is the same one, from the azureml shim
    from azureml.core import Keyvault as V1Keyvault
    from azureml.core.keyvault import Keyvault as V1Keyvault2

    assert V1Keyvault is V1Keyvault2 is Keyvault
    assert V1Keyvault(ws).get_secret("storage-key") == "rotated"


def test_bad_input_is_clear_and_leaves_nothing(service):
    kv = service.workspace("kv-bad").get_default_keyvault()
    value = _secret()
    with pytest.raises(InvalidInput) as caught:
        kv.set_secret("no_underscores", value)
    assert "letters, digits and dashes" in caught.value.message and value not in str(caught.value)
    with pytest.raises(InvalidInput, match="empty"):
        kv.set_secret("empty", "")
    with pytest.raises(AMLError) as caught:
        kv.set_secrets({"fine": value, "not fine": value})
    assert value not in str(caught.value)
    with pytest.raises(NotFound) as missing:
        kv.get_secret("nope")
    assert missing.value.hint and "set_secret" in missing.value.hint
    with pytest.raises(NotFound):
        kv.delete_secret("nope")
    with pytest.raises(InvalidInput, match="content_type"):
        kv.set_secret("typed", value, content_type="application/json")
    with pytest.raises(InvalidInput, match="list of secret names"):
        kv.get_secrets("one-string")  # type: ignore[arg-type]
    assert kv.list_secrets() == []


def test_an_offline_run_says_it_has_no_vault():
    with pytest.raises(UserError, match="no workspace key vault"):
        OfflineRun().get_secret("x")


def test_secrets_read_inside_a_real_run_and_found_in_no_file(service, tmp_path, database_url):
    ws = service.workspace("kv-run")
    other = service.workspace("kv-other")
    value, api_key = _secret(), _secret()
    ws.get_default_keyvault().set_secrets({"db-password": value, "api-key": api_key})
    other.get_default_keyvault().set_secret("db-password", "other-" + value)

    src = write_script(tmp_path / "proj", IN_RUN, "train.py")
    run = Experiment(ws, "secrets").submit(ScriptRunConfig(src, "train.py", arguments=["kv-other"]), progress=False)
    run.wait_for_completion(raise_on_error=True)
    out = "".join(line["text"] + "\n" for line in run._api.get_logs(ws.name, run.id)["items"])
    expected = [hashlib.sha256(v.encode()).hexdigest() for v in (value, api_key)]
    assert f"sha {expected[0]} {expected[1]}" in out, out
    assert "missing: secret 'not-there' not found" in out
    assert "bad name: 'bad_name!' is not a valid secret name" in out
    assert "other workspace: workspace 'kv-other' not found" in out and "LEAK" not in out

    # each read is in the activity log, with the run as actor; the other workspace's vault saw no read
    reads = [a for a in ws.get_activity() if a["action"] == "secrets/getvalue"]
    assert {a["target"] for a in reads} == {"db-password", "api-key"}
    assert all(a["user"].endswith(f"(run {run.id})") for a in reads) and len(reads) == 3
    assert not [a for a in other.get_activity() if a["action"] == "secrets/getvalue"]
    # a run object read from a notebook is the same surface (the user as actor, the run named)
    assert Run.get(ws, run.id).get_secrets(["api-key"]) == {"api-key": api_key}

    # no file the service, the agent or the run wrote holds a value in plain text
    needles = {v.encode() for v in (value, api_key)}
    searched = []
    for top in (service.root, service.root.parent / f"{service.root.name}-runs"):
        assert top.exists(), top
        for path in top.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                assert not any(n in data for n in needles), f"a secret value in plain text in {path}"
                searched.append(path)
    names = {p.name for p in searched}
    assert "service.log" in names and ("aml.db" in names or database_url is not None), sorted(names)
    assert any("train.py" in str(p) for p in searched)  # the run's folder and its snapshot were searched too
    # the search does reach what the run wrote: the digest it printed is found (its log, the database)
    assert sum(expected[0].encode() in p.read_bytes() for p in searched) >= (1 if database_url else 2)
    # and no row of any table holds one (under PostgreSQL the database is not a file here); the vault's
    # rows are there, sealed
    url = database_url or f"sqlite:///{service.root / 'aml.db'}"
    assert _table_text(url, needles, probe=expected[0].encode()) == 3


def _table_text(url: str, needles: set[bytes], probe: bytes) -> int:
    """Every row of every table as text, searched for ``needles`` (and for ``probe``, which the run logged, so
    the search is known to reach the logs); returns how many sealed secret rows there are."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    probed = False
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).fetchall()
                dumped = repr(rows).encode()
                assert not any(n in dumped for n in needles), f"a secret value in plain text in table {table}"
                probed = probed or probe in dumped
            sealed = [v for (v,) in conn.execute(text("SELECT value FROM workspace_secrets"))]
    finally:
        engine.dispose()
    assert probed and all(v.startswith("fernet:") for v in sealed)
    return len(sealed)
