"""How a magic's line is read: options before ``--``, the script's arguments after, and a shell comment left
out (``%aml_submit train.py -- --C 0.5  # first try`` passes no comment to train.py)."""

from __future__ import annotations

import pytest

from jupyter_aml.magics import _split


@pytest.mark.parametrize(("line", "split"), [
    ("train.py -- --C 0.5   # snapshot it", (["train.py"], ["--C", "0.5"])),
    ("--experiment exp#2 train.py", (["--experiment", "exp#2", "train.py"], [])),  # '#' inside a word stays
    ('--name "run #1" train.py # note', (["--name", "run #1", "train.py"], [])),  # and inside quotes
    ("--name 'a # b' x.py", (["--name", "a # b", "x.py"], [])),
    (r"x.py -- --tag a\#b # c", (["x.py"], ["--tag", "a#b"])),
    ("# only a comment", ([], [])),
])
def test_a_line_is_split_as_the_shell_would(line: str, split: tuple[list[str], list[str]]) -> None:
    assert _split(line) == split
