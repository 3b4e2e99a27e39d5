"""The Binder demo (binder/) follows repo2docker's conventions, and its postBuild works on a clean environment.

repo2docker builds an image from ``binder/`` alone when that folder exists: ``environment.yml`` (a conda
environment; its ``pip:`` list installed with pip), then ``binder/postBuild`` (an executable, run from the
repository root). This test does what repo2docker does, minus conda and Docker: a fresh venv (uv, seeded
with pip as a conda environment has it) gets ``environment.yml``'s pip list from the package index this
machine already uses, then the real postBuild runs in it, with the venv first on PATH. To stay fast, the
package comes as a wheel built from this tree (the built frontend included) through ``AML_BINDER_SOURCE``
instead of postBuild's default ``pip install .``, which would compile the frontend again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"
UV = shutil.which("uv")
# repo2docker's configuration files (its docs, "Configuration Files"); anything else in binder/ is ignored.
REPO2DOCKER_FILES = {"environment.yml", "requirements.txt", "Pipfile", "Pipfile.lock", "setup.py", "Project.toml",
                     "REQUIRE", "install.R", "apt.txt", "DESCRIPTION", "postBuild", "start", "runtime.txt",
                     "default.nix", "Dockerfile"}


def environment() -> dict:
    return yaml.safe_load((BINDER / "environment.yml").read_text())


def test_binder_folder_follows_repo2docker_conventions() -> None:
    assert {p.name for p in BINDER.iterdir()} <= REPO2DOCKER_FILES
    assert "Dockerfile" not in {p.name for p in BINDER.iterdir()}  # a Dockerfile would replace every other file
    env = environment()
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    assert python.split("=")[1] in ("3.10", "3.11", "3.12", "3.13")  # a version pyproject allows (>=3.10)
    assert any(isinstance(d, str) and d.startswith("nodejs") for d in deps), "pip install . builds the frontend"
    assert "pip" in deps
    # postBuild: executable in git (repo2docker runs it as ./binder/postBuild), bash, stops at the first error
    staged = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout
    assert staged.startswith("100755"), staged
    script = (BINDER / "postBuild").read_text()
    assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script
    assert 'pip install --no-cache-dir "${AML_BINDER_SOURCE:-.}"' in script  # the repository itself on Binder


def pip_requirements() -> list[str]:
    pip = next(d["pip"] for d in environment()["dependencies"] if isinstance(d, dict) and "pip" in d)
    return [str(r).split("#")[0].strip() for r in pip]


@pytest.mark.skipif(UV is None, reason="uv makes the venv (./dev installs it)")
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_postbuild_installs_a_working_lab_in_a_clean_environment(tmp_path: Path) -> None:
    assert (REPO / "labextension" / "package.json").exists(), "the frontend is built (jlpm build)"
    wheels = tmp_path / "wheels"
    env = {**os.environ, "HATCH_BUILD_NO_HOOKS": "true"}  # the frontend is built already: package it as it is
    built = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(wheels)], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("jupyter_aml-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert any(n.endswith("share/jupyter/labextensions/jupyter-aml/package.json") for n in zf.namelist())

    venv = tmp_path / "binder-env"
    subprocess.run([UV, "venv", "-q", "--seed", str(venv), "--python", sys.executable], check=True, timeout=120)
    python = venv / "bin" / "python"
    # what repo2docker installs from environment.yml before postBuild (conda's python, nodejs and pip aside)
    done = subprocess.run([UV, "pip", "install", "-q", "--python", str(python), *pip_requirements(), str(wheel)],
                          capture_output=True, text=True, timeout=480)
    assert done.returncode == 0, done.stderr[-3000:]
    # ... and the package's own dependencies, from the same install, but not the package: postBuild installs it
    subprocess.run([UV, "pip", "uninstall", "-q", "--python", str(python), "jupyter-aml"], check=True, timeout=120)
    gone = subprocess.run([str(python), "-c", "import jupyter_aml"], cwd=tmp_path, capture_output=True, timeout=60)
    assert gone.returncode != 0

    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON", "AML_"))}
    run_env = {**clean, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv),
               "HOME": str(tmp_path / "home"), "AML_BINDER_SOURCE": str(wheel), "PIP_NO_INPUT": "1"}
    post = subprocess.run(["./binder/postBuild"], cwd=REPO, env=run_env, capture_output=True, text=True,
                          timeout=300)
    assert post.returncode == 0, post.stdout[-3000:] + post.stderr[-3000:]
    assert "jupyter-aml" in post.stdout and "jupyter_aml" in post.stdout
    assert "Successfully installed jupyter-aml" in post.stdout, post.stdout[-3000:]  # postBuild's pip did it

    overrides = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(overrides.read_text())["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    # the environment's own jupyter finds the extension, the notebook app and the kernel Binder starts
    listed = subprocess.run([str(venv / "bin" / "jupyter"), "labextension", "list"], env=run_env,
                            capture_output=True, text=True, timeout=120)
    assert "jupyter-aml" in listed.stdout + listed.stderr and str(venv) in listed.stdout + listed.stderr
    check = subprocess.run([str(python), "-c", "import notebook, jupyter_aml, ipykernel; print(jupyter_aml.__file__)"],
                           cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and check.stdout.startswith(str(venv)), check.stdout + check.stderr
