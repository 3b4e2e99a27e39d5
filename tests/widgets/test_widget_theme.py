"""The widget's badges are the studio's: one colour table (jupyter_aml/statuses.py) that style/base.css agrees with."""

from __future__ import annotations

import re
from pathlib import Path

from jupyter_aml.statuses import RUN_STATUSES, STATUS_COLORS
from jupyter_aml.widgets import html as H

CSS = Path(__file__).resolve().parents[2] / "style" / "base.css"
RULE = re.compile(r"((?:\.jp-aml-status-\w+\s*,?\s*)+)\{\s*--jp-aml-status-color:\s*var\((--[\w-]+)\);\s*\}")


def studio_colors() -> dict[str, str]:
    found: dict[str, str] = {}
    for selectors, var in RULE.findall(CSS.read_text()):
        for name in re.findall(r"\.jp-aml-status-(\w+)", selectors):
            found[name] = var
    return found


def test_every_status_has_the_studios_colour() -> None:
    css = studio_colors()
    assert set(STATUS_COLORS) == set(RUN_STATUSES)
    assert {s.lower(): var for s, (var, _) in STATUS_COLORS.items()} == css


def test_the_badge_uses_the_studios_classes_and_theme_variable() -> None:
    badge = H.status_badge("Completed")
    assert 'class="aml-status jp-aml-StatusBadge jp-aml-status-completed"' in badge
    assert "var(--jp-success-color1, #388e3c)" in badge and "jp-aml-StatusBadge-dot" in badge
    assert "color:white" not in badge  # the text is in the theme's font colour, not white on a fixed colour
