"""The agent leaves out (and names) output files the service would refuse, instead of losing the whole batch."""

from __future__ import annotations

from pathlib import Path

from jupyter_aml.agent.outputs import collect_files


def test_outputs_with_ambiguous_names_are_left_out_and_reported(tmp_path: Path) -> None:
    for rel in ("outputs/model.pkl", "outputs/ a.txt", "outputs/a.txt ", "outputs/x\ny.txt", "outputs/w\\x.txt",
                "outputs/sub /k.txt", "logs/run.log", "outputs/a b.txt"):
        target = tmp_path.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rel)
    skipped: list[tuple[str, str]] = []
    found = collect_files(tmp_path, skipped=skipped)
    assert [rel for rel, _ in found] == ["outputs/a b.txt", "outputs/model.pkl", "logs/run.log"]
    assert sorted(rel for rel, _ in skipped) == sorted(
        ["outputs/ a.txt", "outputs/a.txt ", "outputs/x\ny.txt", "outputs/w\\x.txt", "outputs/sub /k.txt"])
    reasons = dict(skipped)
    assert "whitespace" in reasons["outputs/ a.txt"] and "control character" in reasons["outputs/x\ny.txt"]
    assert "backslash" in reasons["outputs/w\\x.txt"]
