"""git_info against real repositories built with GitPython."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from jupyter_aml.snapshot.gitinfo import MAX_DIFF_BYTES, git_info, strip_credentials


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's git config and any enclosing repository out of the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def make_repo(path: Path, remote: str | None = None) -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test")
        cfg.set_value("user", "email", "test@example.com")
        cfg.set_value("commit", "gpgsign", "false")
    if remote:
        repo.create_remote("origin", remote)
    return repo


def commit_file(repo: git.Repo, rel: str, text: str) -> str:
    path = Path(repo.working_tree_dir or ".") / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    repo.index.add([rel])
    return repo.index.commit(f"add {rel}").hexsha


def test_dirty_repo_reports_diff_untracked_and_a_clean_remote(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj", "https://alice:s3cret-token@example.com/org/proj.git")
    head = commit_file(repo, "src/train.py", "lr = 0.1\nepochs = 3\n")
    (tmp_path / "proj" / "src" / "train.py").write_text("lr = 0.2\nepochs = 3\n")
    (tmp_path / "proj" / "notes.txt").write_text("scratch\n")

    info = git_info(tmp_path / "proj" / "src" / "train.py")  # a file deep inside: parents are searched
    assert info is not None
    assert info["repository"] == "https://example.com/org/proj.git"
    assert "s3cret" not in repr(info) and "alice" not in repr(info)
    assert info["branch"] == "main"
    assert info["commit"] == head
    assert info["dirty"] is True
    assert "--- a/src/train.py" in info["diff"]
    assert "-lr = 0.1\n+lr = 0.2\n" in info["diff"]
    assert "notes.txt" not in info["diff"]  # untracked files are listed, not diffed
    assert info["untracked"] == ["notes.txt"]
    assert info["diff_truncated"] is False


def test_clean_repo_is_not_dirty(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    commit_file(repo, "a.py", "x = 1\n")
    (tmp_path / "proj" / ".gitignore").write_text("out/\n")
    repo.index.add([".gitignore"])
    head = repo.index.commit("ignore").hexsha
    (tmp_path / "proj" / "out").mkdir()
    (tmp_path / "proj" / "out" / "model.pt").write_text("ignored output")
    info = git_info(tmp_path / "proj")
    assert info is not None
    assert (info["dirty"], info["diff"], info["untracked"], info["commit"]) == (False, "", [], head)
    assert info["repository"] is None


def test_staged_changes_and_untracked_only_are_dirty(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    commit_file(repo, "a.py", "x = 1\n")
    (tmp_path / "proj" / "b.py").write_text("y = 2\n")
    info = git_info(tmp_path / "proj")
    assert info is not None and info["dirty"] is True and info["diff"] == ""
    repo.index.add(["b.py"])  # staged new file shows in the diff against HEAD
    info = git_info(tmp_path / "proj")
    assert info is not None and "+y = 2" in info["diff"] and info["untracked"] == []


def test_detached_head_has_no_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    first = commit_file(repo, "a.py", "1\n")
    commit_file(repo, "a.py", "2\n")
    repo.git.checkout(first)
    info = git_info(tmp_path / "proj")
    assert info is not None
    assert info["branch"] is None
    assert info["commit"] == first


def test_repo_without_commits_does_not_raise(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    (tmp_path / "proj" / "new.py").write_text("print(1)\n")
    info = git_info(tmp_path / "proj")
    assert info is not None
    assert info["commit"] is None
    assert info["branch"] == "main"
    assert info["untracked"] == ["new.py"]
    repo.index.add(["new.py"])
    info = git_info(tmp_path / "proj")
    assert info is not None and "+print(1)" in info["diff"]


def test_first_remote_is_used_when_there_is_no_origin(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    repo.create_remote("upstream", "ssh://git:hunter2@example.com:2222/team/repo.git")
    commit_file(repo, "a.py", "1\n")
    info = git_info(tmp_path / "proj")
    assert info is not None
    assert info["repository"] == "ssh://git@example.com:2222/team/repo.git"


def test_large_diff_is_capped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    lines = "".join(f"row {i} {'a' * 60}\n" for i in range(40_000))  # ~2.7 MB file
    commit_file(repo, "big.txt", lines)
    (tmp_path / "proj" / "big.txt").write_text(lines.replace("a", "b"))
    info = git_info(tmp_path / "proj")
    assert info is not None
    assert info["diff_truncated"] is True
    assert 0 < len(info["diff"].encode()) <= MAX_DIFF_BYTES
    assert info["diff"].endswith("\n")  # cut at a line boundary


def test_outside_a_repository_is_none(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert git_info(tmp_path / "plain") is None
    assert git_info(tmp_path / "does-not-exist" / "x.py") is None


def test_missing_git_executable_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "proj")
    commit_file(repo, "a.py", "1\n")
    assert git_info(tmp_path / "proj") is not None
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert git_info(tmp_path / "proj") is None


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:pass@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://ghp_tokenonly@github.com/o/r.git", "https://github.com/o/r.git"),
        ("http://u:p@w@host:8080/r", "http://host:8080/r"),
        ("ssh://git:pw@host/r.git", "ssh://git@host/r.git"),
        ("ssh://git@host/r.git", "ssh://git@host/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("deploy:pw@host:o/r.git", "deploy@host:o/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
    ],
)
def test_strip_credentials(url: str, clean: str) -> None:
    assert strip_credentials(url) == clean
