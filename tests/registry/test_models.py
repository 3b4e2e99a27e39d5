"""The model registry through the SDK and plain REST, against a real service process."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from jupyter_aml import Experiment, Model, ScriptRunConfig
from jupyter_aml.errors import Conflict, InvalidInput, NotFound


@pytest.fixture(scope="module")
def ws(service):
    return service.workspace("reg")


def test_register_a_file_then_a_new_version(ws, tmp_path):
    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"weights-v1")
    m1 = Model.register(ws, model_file, "clf", tags={"stage": "dev"}, properties={"auc": 0.91},
                        description="first", model_framework=Model.Framework.SCIKITLEARN,
                        model_framework_version="1.5", sample_input={"data": [[0.0, 1.0]]})
    assert (m1.name, m1.version, m1.id, m1.path) == ("clf", 1, "clf:1", "model.pkl")
    assert m1.tags == {"stage": "dev"} and m1.properties == {"auc": "0.91"}
    assert m1.model_framework == "ScikitLearn" and m1.sample_input == {"data": [[0.0, 1.0]]}
    model_file.write_bytes(b"weights-v2")
    m2 = Model.register(ws, model_file, "clf", tags={"stage": "prod"})
    assert m2.version == 2
    assert Model(ws, "clf").version == 2  # latest
    assert Model(ws, "clf", version=1).description == "first"
    assert Model(ws, id="clf:1").tags == {"stage": "dev"}
    assert Model(ws, "clf", tags=[["stage", "dev"]]).version == 1  # latest matching the tags
    out = tmp_path / "dl"
    path = Model(ws, "clf", version=1).download(out)
    assert Path(path).read_bytes() == b"weights-v1" and path.endswith("model.pkl")
    with pytest.raises(Exception, match="already exists"):
        Model(ws, "clf", version=1).download(out)
    Model(ws, "clf", version=1).download(out, exist_ok=True)


def test_register_a_folder_and_unchanged_content_is_not_uploaded_twice(service, ws, tmp_path):
    folder = tmp_path / "bert"
    (folder / "tok").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w" * 1000)
    (folder / "tok" / "vocab.txt").write_text("a\nb\n")
    m = Model.register(ws, folder, "bert")
    assert m.path == "bert"
    files = service.client().get(f"workspaces/reg/models/bert/versions/{m.version}/files")["items"]
    assert [f["path"] for f in files] == ["bert/tok/vocab.txt", "bert/weights.bin"]
    digest = hashlib.sha256(b"w" * 1000).hexdigest()
    assert service.client().post("workspaces/reg/blobs/missing", {"hashes": [digest]})["missing"] == []
    target = m.download(tmp_path / "out")
    assert (tmp_path / "out" / "bert" / "tok" / "vocab.txt").read_text() == "a\nb\n" and target.endswith("bert")


def test_list_search_update_and_delete(ws, tmp_path):
    f = tmp_path / "m.onnx"
    f.write_bytes(b"onnx")
    a = Model.register(ws, f, "searchme", tags={"team": "a"}, properties={"ds": "x"})
    b = Model.register(ws, f, "searchme", tags={"team": "b"})
    assert [m.id for m in Model.list(ws, name="searchme")] == [b.id, a.id]
    assert [m.id for m in Model.list(ws, tags=[["team", "a"]])] == [a.id]
    assert [m.id for m in Model.list(ws, tags=["team"], name="searchme")] == [b.id, a.id]
    assert [m.id for m in Model.list(ws, properties={"ds": "x"})] == [a.id]
    assert "searchme:2" in [m.id for m in Model.list(ws, latest=True)]
    assert "searchme:1" not in [m.id for m in Model.list(ws, latest=True)]
    a.add_tags({"reviewed": "yes"})
    assert a.tags == {"team": "a", "reviewed": "yes"}
    a.update(tags={"team": "z"}, description="changed")
    assert Model(ws, "searchme", version=1).tags == {"team": "z"}
    a.remove_tags(["team"])
    assert a.tags == {}
    with pytest.raises(Conflict, match="add-only"):
        a.add_properties({"ds": "y"})
    b.delete()
    with pytest.raises(NotFound):
        Model(ws, "searchme", version=2)
    c = Model.register(ws, f, "searchme")
    assert c.version == 3  # versions are never reused
    assert Model(ws, "searchme").version == 3


def test_bad_registrations_are_refused(service, ws, tmp_path):
    client = service.client()
    with pytest.raises(InvalidInput, match="does not exist"):
        Model.register(ws, tmp_path / "nope.pkl", "x")
    with pytest.raises(InvalidInput, match="not uploaded"):
        client.post("workspaces/reg/models", {"name": "x", "files": [{"path": "a", "sha256": "0" * 64, "size": 1}]})
    with pytest.raises(InvalidInput, match="Unsafe path"):
        client.post("workspaces/reg/models", {"name": "x", "files": [{"path": "../a", "sha256": "0" * 64, "size": 1}]})
    with pytest.raises(Exception, match="name"):
        client.post("workspaces/reg/models", {"name": "bad name!", "run_id": "r", "run_path": "outputs/m"})
    with pytest.raises(InvalidInput, match="not both or neither"):
        client.post("workspaces/reg/models", {"name": "x"})
    with pytest.raises(NotFound):
        Model(ws, "never-registered")
    # v1 driver code catches a missing model as WebserviceException / ModelNotFoundException
    from azureml.exceptions import ModelNotFoundException, WebserviceException
    with pytest.raises(ModelNotFoundException, match="never-registered"):
        Model(ws, "never-registered", version=3)
    with pytest.raises(WebserviceException):
        Model.get_model_path("never-registered", _workspace=ws)
    with pytest.raises(InvalidInput, match="positive integer"):
        client.get("workspaces/reg/models/x/versions/abc")


def test_run_register_model_by_reference_with_lineage(service, ws, tmp_path):
    run = Experiment(ws, "lineage").start_logging()
    weights = tmp_path / "model.pkl"
    weights.write_bytes(b"run-weights")
    run.upload_file("outputs/model.pkl", weights)
    run.upload_file("outputs/extra/a.txt", weights)
    run.upload_file("outputs/extra/b.txt", weights)
    run.complete()
    m = run.register_model("from-run", model_path="outputs/model.pkl", tags={"src": "run"})
    assert (m.run_id, m.experiment_name, m.path, m.version) == (run.id, "lineage", "model.pkl", 1)
    assert m.run.id == run.id
    folder = run.register_model("from-run-dir", model_path="outputs/extra")
    files = service.client().get(f"workspaces/reg/models/from-run-dir/versions/{folder.version}/files")["items"]
    assert [f["path"] for f in files] == ["extra/a.txt", "extra/b.txt"]
    assert [x.id for x in Model.list(ws, run_id=run.id)] == ["from-run:1", "from-run-dir:1"]
    with pytest.raises(NotFound, match="has no file or folder"):
        run.register_model("nothing", model_path="outputs/missing.pkl")


TRAIN_AND_REGISTER = '''
import os, sys
from azureml.core import Run
from azureml.exceptions import UserErrorException

run = Run.get_context()
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as handle:
    handle.write(b"trained-in-script")
model = run.register_model("in-script", model_path="outputs/model.pkl", tags={"by": "script"})
print("registered", model.id)
other = Run(run.experiment, sys.argv[1])
try:
    other.register_model("stolen", model_path="outputs/model.pkl")
except UserErrorException as exc:
    print("refused:", exc)
'''


def test_a_training_script_registers_its_own_model(ws, tmp_path):
    """Azure v1 scripts call run.register_model before their outputs are uploaded; the run's token may
    register only its own files."""
    other = Experiment(ws, "lineage").start_logging()
    other.upload_file("outputs/model.pkl", __file__)
    other.complete()
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(TRAIN_AND_REGISTER)
    run = Experiment(ws, "in-script").submit(ScriptRunConfig(src, "train.py", [other.id]))
    run.wait_for_completion()
    log = "".join(line["text"] + "\n" for line in run.get_logs())
    assert run.get_status() == "Completed", log
    model = Model(ws, "in-script")
    assert (model.version, model.run_id, model.tags) == (1, run.id, {"by": "script"})
    assert "registered in-script:1" in log, log
    # another run is out of the token's reach: "not found", the same answer as for a run that does not exist
    assert f"refused: run {other.id!r} not found in workspace" in log, log
    assert Path(model.download(tmp_path / "dl")).read_bytes() == b"trained-in-script"
    with pytest.raises(NotFound):
        Model(ws, "stolen")
