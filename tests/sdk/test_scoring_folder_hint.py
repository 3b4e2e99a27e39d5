"""A deployment's missing scoring folder is named as one: the error speaks of the scoring script and its
entry_script, not of a training script (the README's deploy example once pointed at a folder that did not
exist, and the hint sent readers looking for a training script)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.submit import upload_snapshot


def test_missing_scoring_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInput) as err:
        upload_snapshot(None, "ws", "serve", script="score.py", script_kind="scoring script",  # type: ignore[arg-type]
                        script_arg="entry_script")
    assert "source_directory 'serve' is not a folder" in str(err.value) and str(tmp_path) in str(err.value)
    assert err.value.hint == "pass the folder that holds your scoring script"
    (tmp_path / "serve").mkdir()
    with pytest.raises(InvalidInput) as err:
        upload_snapshot(None, "ws", "serve", script="score.py", script_kind="scoring script",  # type: ignore[arg-type]
                        script_arg="entry_script")
    assert "entry_script 'score.py' does not exist" in str(err.value)


def test_training_folder_keeps_its_words(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        upload_snapshot(None, "ws", tmp_path / "nope", script="train.py")  # type: ignore[arg-type]
    assert err.value.hint == "pass the folder that holds your training script"
