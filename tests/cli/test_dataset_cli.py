"""``aml dataset register|list|show|download|profile`` against a real ``aml serve`` and its workspace blob store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli.conftest import Outcome, Service, failed, ok


def test_register_list_show_profile_download(aml: Callable[..., Outcome], service: Service, tmp_path: Path) -> None:
    ok(aml("workspace", "create", "cli-ds"))
    ok(aml("datastore", "list", "-w", "cli-ds"))  # the blob store exists from here
    folder = service.root / "datastores" / "cli-ds" / "workspaceblobstore" / "in"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("k,v\n1,2.5\n2,\n3,4.5\n")
    made = ok(aml("dataset", "register", "kv", "--path", "in/*.csv", "-t", "team=x", "-w", "cli-ds", "--json"))
    assert made.json["version"] == 1 and made.json["tags"] == {"team": "x"}
    again = failed(aml("dataset", "register", "kv", "--path", "in/*.csv", "-w", "cli-ds"))
    assert "already a dataset registered" in again.stderr
    ok(aml("dataset", "register", "kv", "--path", "in/a.csv", "--new-version", "-w", "cli-ds"))
    listed = ok(aml("dataset", "list", "-w", "cli-ds", "--json"))
    assert [(d["name"], d["version"]) for d in listed.json["items"]] == [("kv", 2)]
    shown = ok(aml("dataset", "show", "kv:1", "-w", "cli-ds"))
    assert "kv:1" in shown.stdout and "k (long)" in shown.stdout and "4.5" in shown.stdout
    profile = ok(aml("dataset", "profile", "kv", "-w", "cli-ds", "--json"))
    assert profile.json["row_count"] == 3
    v = next(col for col in profile.json["columns"] if col["column_name"] == "v")
    assert (v["missing_count"], v["min"], v["max"], v["mean"]) == (1, 2.5, 4.5, 3.5)
    assert "3 rows, 2 columns" in ok(aml("dataset", "profile", "kv", "-w", "cli-ds")).stdout
    ok(aml("dataset", "register", "raw", "--kind", "file", "--path", "in/**", "-w", "cli-ds"))
    got = ok(aml("dataset", "download", "raw", "-o", str(tmp_path / "dl"), "-w", "cli-ds", "--json"))
    assert [Path(f).name for f in got.json["files"]] == ["a.csv"]
    assert (tmp_path / "dl" / "a.csv").read_text().startswith("k,v")
    nothing = failed(aml("dataset", "register", "none", "--path", "missing/**", "-w", "cli-ds"))
    assert "matches no file" in nothing.stderr
    assert "none" not in ok(aml("dataset", "list", "-w", "cli-ds")).stdout
    assert "not registered" in failed(aml("dataset", "show", "nope", "-w", "cli-ds")).stderr
