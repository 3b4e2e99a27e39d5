"""A real S3-protocol server for the tests: moto's server mode in a process of its own on 127.0.0.1.

It runs with IAM authentication on, so wrong credentials are refused as a real store refuses them: the
fixture creates one IAM user with an access key allowed every S3 action (while authentication is still off),
then switches authentication on through moto's ``/moto-api/reset-auth``. A process of its own keeps moto's
global state out of the test process and lets a run's script (another process) reach the same server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = REGION

    def storage_options(self) -> dict[str, Any]:
        """fsspec/s3fs options for this server with the valid credentials."""
        return {
            "key": self.access_key,
            "secret": self.secret_key,
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": self.region},
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name=self.region,
        )


def start(log: Path) -> tuple[subprocess.Popen[bytes], S3Server]:
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AML_", "JUPYTER_AML"))}
    env.update(AWS_ACCESS_KEY_ID="bootstrap", AWS_SECRET_ACCESS_KEY="bootstrap", AWS_DEFAULT_REGION=REGION)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2).read()
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"moto_server did not start: {log.read_text(errors='replace')}") from None
            time.sleep(0.2)
    import boto3

    iam = boto3.client(
        "iam", endpoint_url=endpoint, aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
        region_name=REGION,
    )
    iam.create_user(UserName="aml-tests")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="aml-tests", PolicyName="s3-all", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="aml-tests")["AccessKey"]
    # from here on every request is authenticated against IAM: wrong keys are refused
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                               headers={"Content-Type": "text/plain"}), timeout=10
    ).read()
    return proc, S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
