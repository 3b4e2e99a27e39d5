"""``aml datastore register|list|show|upload|download|delete`` against a real ``aml serve`` and a real S3
server: the secret key comes from a file or a pipe, never argv, and no command prints it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from jupyter_aml.cli import app
from tests.cli.conftest import Outcome, Service, aml, failed, ok, service  # noqa: F401 - fixtures
from tests.data.s3 import S3Server


def _piped(service: Service, cwd: Path, data: str, *args: str) -> Outcome:  # noqa: F811
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), input=data, env=service.env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def test_the_datastore_commands(aml: Callable[..., Outcome], service: Service, s3_server: S3Server,  # noqa: F811
                                s3_bucket: str, tmp_path: Path) -> None:
    ok(aml("workspace", "create", "cli-ds"))
    listed = ok(aml("datastore", "list", "-w", "cli-ds", "--json")).json
    assert [d["name"] for d in listed["items"]] == ["workspaceblobstore"] and listed["items"][0]["is_default"]
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(s3_server.secret_key + "\n")
    made = ok(aml("datastore", "register", "lake", "--kind", "s3", "--bucket", s3_bucket, "--endpoint-url",
                  s3_server.endpoint_url, "--region", s3_server.region, "--access-key-id", s3_server.access_key,
                  "--secret-file", str(secret_file), "-w", "cli-ds"))
    assert "lake" in made.stdout and s3_server.secret_key not in made.stdout + made.stderr
    shown = ok(aml("datastore", "show", "lake", "-w", "cli-ds", "--json")).json
    assert shown["bucket_name"] == s3_bucket and shown["has_credentials"]
    assert s3_server.secret_key not in str(shown)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.csv").write_text("x\n1\n")
    (src / "sub" / "b.csv").write_text("x\n2\n")
    for store in ("lake", "workspaceblobstore"):
        ok(aml("datastore", "upload", store, str(src), "--target", "in", "--no-progress", "-w", "cli-ds"))
        dest = tmp_path / f"dl-{store}"
        got = ok(aml("datastore", "download", store, str(dest), "--prefix", "in/sub", "-w", "cli-ds", "--json")).json
        assert got == {"datastore": store, "downloaded": 1}
        assert (dest / "in" / "sub" / "b.csv").read_text() == "x\n2\n"
    # wrong secret, piped: refused naming the store, never echoing the secret; nothing registered
    wrong = "Wr0ng-CLI-Secret-5555"
    bad = failed(_piped(service, tmp_path, wrong + "\n", "datastore", "register", "bad", "--kind", "s3", "--bucket",
                        s3_bucket, "--endpoint-url", s3_server.endpoint_url, "--region", s3_server.region,
                        "--access-key-id", s3_server.access_key, "-w", "cli-ds"))
    assert "bad" in bad.stdout + bad.stderr and wrong not in bad.stdout + bad.stderr
    failed(aml("datastore", "register", "x", "--kind", "local", "--bucket", "b", "-w", "cli-ds"), code=2)
    failed(aml("datastore", "show", "bad", "-w", "cli-ds"))
    local = tmp_path / "shared"
    local.mkdir()
    ok(aml("datastore", "register", "shared", "--path", str(local), "-w", "cli-ds"))
    names = [d["name"] for d in ok(aml("datastore", "list", "-w", "cli-ds", "--json")).json["items"]]
    assert names == ["lake", "shared", "workspaceblobstore"]
    ok(aml("datastore", "delete", "lake", "-w", "cli-ds"))
    failed(aml("datastore", "delete", "workspaceblobstore", "-w", "cli-ds"))
    assert ok(aml("secret", "list", "-w", "cli-ds", "--json")).json == {"items": []}
