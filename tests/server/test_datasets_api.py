"""The dataset routes on a real Jupyter server with the extension: register, versions, get by name ('latest')
and id, preview, profile, unregister, and bad input answered 4xx with nothing left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WS = "dsw"


def definition(path: str = "data/*.csv", **extra: Any) -> dict[str, Any]:
    return {"kind": "tabular", "paths": [{"datastore": "workspaceblobstore", "path": path}],
            "reader": {"format": "delimited"}, **extra}


async def _setup(aml: Any, jp_serverapp: Any, aml_root: Path) -> Path:
    await jp_serverapp._post_start()
    assert (await aml("POST", "workspaces", {"name": WS}))[0] == 201
    service = jp_serverapp.web_app.settings["aml_app"].service
    folder = service.datastores.blob_root(WS) / "data"  # the workspace's own blob store
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.csv").write_text("x,y\n1,a\n2,b\n3,c\n")
    return folder


async def test_register_get_versions_preview_profile_delete(aml: Any, jp_serverapp: Any, aml_root: Path) -> None:
    await _setup(aml, jp_serverapp, aml_root)
    status, made = await aml("POST", f"workspaces/{WS}/datasets", {"name": "d", "definition": definition(),
                                                                   "tags": {"k": "v"}})
    assert status == 201, made
    assert (made["version"], made["file_count"], made["existing"], made["tags"]) == (1, 1, False, {"k": "v"})
    status, err = await aml("POST", f"workspaces/{WS}/datasets", {"name": "d", "definition": definition()})
    assert status == 409 and "create_new_version" in err["error"]["hint"]
    status, same = await aml("POST", f"workspaces/{WS}/datasets", {"name": "d", "definition": definition(),
                                                                   "create_new_version": True})
    assert status == 201 and same["existing"] and same["id"] == made["id"]
    steps = [{"op": "take", "count": 2}]
    status, v2 = await aml("POST", f"workspaces/{WS}/datasets", {
        "name": "d", "definition": definition(transformations=steps), "create_new_version": True})
    assert status == 201 and v2["version"] == 2
    assert (await aml("GET", f"workspaces/{WS}/datasets/d/versions/latest"))[1]["version"] == 2
    assert (await aml("GET", f"workspaces/{WS}/datasets/d/versions/1"))[1]["id"] == made["id"]
    assert (await aml("GET", f"workspaces/{WS}/dataset-ids/{made['id']}"))[1]["version"] == 1
    assert [d["version"] for d in (await aml("GET", f"workspaces/{WS}/datasets/d/versions"))[1]["items"]] == [2, 1]
    assert [d["version"] for d in (await aml("GET", f"workspaces/{WS}/datasets"))[1]["items"]] == [2]
    status, preview = await aml("GET", f"workspaces/{WS}/datasets/d/versions/latest/preview", params={"rows": 5})
    assert status == 200 and preview["rows"] == [[1, "a"], [2, "b"]]
    status, profile = await aml("GET", f"workspaces/{WS}/datasets/d/versions/1/profile")
    assert status == 200 and profile["row_count"] == 3 and profile["columns"][0]["mean"] == 2.0
    status, changed = await aml("PATCH", f"workspaces/{WS}/datasets/d/versions/1", {
        "description": "new", "add_tags": {"a": "1"}, "remove_tags": ["k"]})
    assert status == 200 and (changed["description"], changed["tags"]) == ("new", {"a": "1"})
    assert changed["definition"] == made["definition"] and changed["version"] == 1
    status, err = await aml("PATCH", f"workspaces/{WS}/datasets/d/versions/1", {"definition": {}})
    assert status == 422
    status, gone = await aml("DELETE", f"workspaces/{WS}/datasets/d")
    assert status == 200 and gone == {"deleted": "d", "versions": 2}
    assert (await aml("GET", f"workspaces/{WS}/datasets/d/versions/latest"))[0] == 404


async def test_bad_input_is_4xx_and_registers_nothing(aml: Any, jp_serverapp: Any, aml_root: Path) -> None:
    folder = await _setup(aml, jp_serverapp, aml_root)
    (folder / "bad.csv").write_text("x,y\n1,2\n3,4,5\n")
    cases = [
        ({"name": "e", "definition": definition("nothing/**")}, 404, "matches no file"),
        ({"name": "e", "definition": definition("../../x")}, 400, "escapes"),
        ({"name": "e", "definition": {"kind": "tabular", "paths": [{"url": "ftp://x/y"}], "reader": {}}}, 422, ""),
        ({"name": "e", "definition": {"kind": "file", "paths": [], "reader": None}}, 422, ""),
        ({"name": "e", "definition": definition(transformations=[{"op": "explode"}])}, 400, "explode"),
        ({"name": "bad name!", "definition": definition()}, 422, ""),
    ]
    for body, code, text in cases:
        status, err = await aml("POST", f"workspaces/{WS}/datasets", body)
        assert status == code, (body, err)
        assert text in err["error"]["message"]
    assert (await aml("GET", f"workspaces/{WS}/datasets"))[1]["items"] == []
    assert (await aml("POST", f"workspaces/{WS}/datasets", {"name": "b", "definition": definition("data/bad.csv")}
                      ))[0] == 201
    status, err = await aml("GET", f"workspaces/{WS}/datasets/b/versions/latest/preview")
    assert status == 400 and "workspaceblobstore/data/bad.csv, line 3" in err["error"]["message"]
    assert (await aml("GET", f"workspaces/{WS}/datasets/b/versions/0"))[0] == 400
    assert (await aml("GET", f"workspaces/{WS}/datasets/b/versions/latest/preview", params={"rows": 0}))[0] == 400
