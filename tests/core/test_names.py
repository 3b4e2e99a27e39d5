"""runtime/names.py: the one definition of a valid run-file path and of a valid resource name."""

from __future__ import annotations

import pytest

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime.names import (
    MAX_RESOURCE_NAME_LENGTH,
    MAX_RUN_PATH_LENGTH,
    validate_resource_name,
    validate_run_path,
)


@pytest.mark.parametrize(
    "path",
    ["a.txt", "outputs/model.pkl", "logs/azureml/70_driver_log.txt", "a b/c d.txt", "ünï/cödé.txt", ".hidden",
     "a..b", "...", "x" * MAX_RUN_PATH_LENGTH],
)
def test_valid_run_paths_come_back_unchanged(path: str) -> None:
    assert validate_run_path(path) == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "is empty"),
        ("/etc/passwd", "absolute"),
        ("C:/x", "drive letter"),
        ("a\\b", "backslash"),
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("%2e%2e/x", "percent"),
        (" ../x", "' ..'"),
        ("a/ ../x", "' ..'"),
        ("a/.. /x", "'.. '"),
        (" a.txt", "whitespace"),
        ("a.txt ", "whitespace"),
        ("outputs /a.txt", "whitespace"),
        ("a.txt\t", "control character"),
        ("a\nb", "control character"),
        ("a\x00b", "control character"),
        ("a\x7fb", "control character"),
        ("a\u2028b", "control character"),
        ("a//b", "empty name"),
        ("a/", "empty name"),
        ("./a", "'.' segment"),
        ("a/./b", "'.' segment"),
        ("x" * (MAX_RUN_PATH_LENGTH + 1), "limit"),
    ],
)
def test_invalid_run_paths_are_refused_with_the_reason(path: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_run_path(path)
    assert reason in err.value.message
    assert err.value.hint and "never trimmed" in err.value.hint


def test_a_run_path_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be a string"):
        validate_run_path(b"a.txt")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["env", "sklearn-env", "my_env.v2", "0day", "A" * MAX_RESOURCE_NAME_LENGTH, "AzureML-Minimal"]
)
def test_valid_resource_names_come_back_unchanged(name: str) -> None:
    assert validate_resource_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "is empty"),
        (" env", "whitespace"),
        ("env ", "whitespace"),
        ("env\n", "whitespace"),
        ("-env", "start with a letter or digit"),
        (".env", "start with a letter or digit"),
        ("my env", "contains ' '"),
        ("env:2", "contains ':'"),
        ("a/b", "contains '/'"),
        ("énv", "start with a letter or digit"),
        ("env²", "contains '²'"),
        ("A" * (MAX_RESOURCE_NAME_LENGTH + 1), "limit 255"),
    ],
)
def test_invalid_resource_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_resource_name(name, "environment")
    assert reason in err.value.message and err.value.message.startswith("environment name")
    assert err.value.hint and "letters, digits" in err.value.hint


def test_an_experiment_name_with_a_trailing_newline_is_refused(tmp_path):
    from jupyter_aml.core import models
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings
    from jupyter_aml.errors import InvalidInput

    service = AMLService(ServiceSettings(root=tmp_path / "root"))
    try:
        service.workspaces.create(models.WorkspaceCreate(name="w"))
        with pytest.raises(InvalidInput, match="experiment name"):
            _lookup(service, "w", "exp\n")
    finally:
        service.close()


def _lookup(service, workspace, name):
    from jupyter_aml.core.workspaces import WorkspaceService

    with service.db.read() as s:
        WorkspaceService.experiment_row(s, WorkspaceService.row(s, workspace), name, create=False)


def test_an_experiment_name_may_hold_spaces_inside_and_its_run_ids_do_not(tmp_path):
    """MLflow's quickstart names its experiment "MLflow Quickstart": the same experiment in both APIs."""
    import re

    from jupyter_aml.core import models
    from jupyter_aml.core.runs import new_run_id
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings

    pattern = re.compile(models.EXPERIMENT_PATTERN)
    assert pattern.fullmatch("MLflow Quickstart") and pattern.fullmatch("a") and pattern.fullmatch("a.b-c_d e")
    assert not any(pattern.fullmatch(n) for n in (" lead", "trail ", "", "a/b", "x" * 256, "tab\there"))
    assert re.fullmatch(r"MLflow_Quickstart_\d+_[0-9a-f]{8}", new_run_id("MLflow Quickstart"))
    service = AMLService(ServiceSettings(root=tmp_path / "root"))
    try:
        service.workspaces.create(models.WorkspaceCreate(name="w"))
        run = service.runs.create("w", models.RunCreate(experiment="MLflow Quickstart", kind="interactive"),
                                  submitter="me")
        assert run.experiment == "MLflow Quickstart" and " " not in run.id
        with pytest.raises(InvalidInput, match="spaces inside"):
            service.runs.create("w", models.RunCreate.model_construct(experiment="trail ", kind="interactive"),
                                submitter="me")
    finally:
        service.close()
