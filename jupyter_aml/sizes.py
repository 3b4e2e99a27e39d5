"""Byte counts shown to people: a stdlib leaf, so the snapshot extractor (which the run agent imports), the folder
scan and the notebook's submit line word sizes the same way without importing each other's dependencies."""

from __future__ import annotations


def human_size(n: int) -> str:
    """Format a byte count for people (binary units)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - loop always returns
