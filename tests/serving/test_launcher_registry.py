"""Serving launchers come from the ``jupyter_aml.serving`` entry-point group; a broken plugin is logged and
skipped, never fatal."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

import pytest

from jupyter_aml.serving import backends
from jupyter_aml.serving.backends import LocalProcessLauncher, ReplicaFailed, launcher_for


def test_the_built_in_launchers_are_registered_as_entry_points():
    names = {ep.name: ep.value for ep in entry_points(group="jupyter_aml.serving")}
    assert names["local"] == "jupyter_aml.serving.backends:LocalProcessLauncher"
    assert names["docker"] == "jupyter_aml.serving.docker:DockerLauncher"
    assert launcher_for("local") is LocalProcessLauncher
    assert launcher_for("docker").__name__ == "DockerLauncher"


def _plugins(monkeypatch: pytest.MonkeyPatch, *extra: EntryPoint) -> None:
    real = list(entry_points(group=backends.ENTRY_POINT_GROUP))
    monkeypatch.setattr(backends, "entry_points", lambda group: [*real, *extra] if group == backends.ENTRY_POINT_GROUP
                        else entry_points(group=group))


def test_a_plugin_that_fails_to_import_is_logged_and_skipped(monkeypatch, caplog):
    _plugins(monkeypatch, EntryPoint("broken", "jupyter_aml_no_such_module:Launcher", backends.ENTRY_POINT_GROUP))
    with caplog.at_level(logging.ERROR, logger="jupyter_aml.serving.backends"), pytest.raises(ReplicaFailed) as err:
        launcher_for("broken")
    assert "no usable launcher for compute type 'broken'" in err.value.message and "local" in err.value.message
    assert "failed to load" in caplog.text
    assert launcher_for("local") is LocalProcessLauncher  # the others still work


def test_a_plugin_that_is_not_a_launcher_is_skipped(monkeypatch, caplog):
    _plugins(monkeypatch, EntryPoint("odd", "json:dumps", backends.ENTRY_POINT_GROUP))
    with caplog.at_level(logging.ERROR, logger="jupyter_aml.serving.backends"), pytest.raises(ReplicaFailed):
        launcher_for("odd")
    assert "not a ReplicaLauncher" in caplog.text


def test_an_unknown_compute_type_names_the_installed_ones():
    with pytest.raises(ReplicaFailed) as err:
        launcher_for("kubernetes")
    assert "docker" in err.value.message and "local" in err.value.message
