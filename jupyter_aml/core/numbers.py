"""The one rule for integers that arrive as text (query values, path segments, references, page tokens).

Python's ``int()`` takes far more than the contract's ``[0-9]+``: non-ASCII digits (``"²"`` passes
``str.isdigit()`` and then fails ``int()``, ``"١٢"`` parses as 12), underscores, spaces and any size.
Each of those once reached the database or a cast and answered 500; here they are bad input instead.
Stdlib only.
"""

from __future__ import annotations

import re

from jupyter_aml.errors import InvalidInput

INT64_MAX = 2**63 - 1
MAX_VERSION = 2**31 - 1  # versions are 32-bit integer columns
MAX_OFFSET = 2**31 - 1  # paging offsets and cursors: far past any real table, inside every SQL dialect
_INTEGER = re.compile(r"-?[0-9]{1,19}")


def parse_int(value: str, what: str, *, minimum: int = -INT64_MAX, maximum: int = INT64_MAX,
              hint: str | None = None) -> int:
    """``value`` as an int within ``[minimum, maximum]``, or InvalidInput naming ``what`` and the range."""
    if not _INTEGER.fullmatch(value):
        kind = "a positive integer" if minimum == 1 else "an integer"
        raise InvalidInput(f"{what} must be {kind} written with the digits 0-9, not {value!r}",
                           hint=hint or f"e.g. {max(minimum, 0)}")
    number = int(value)
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{what} must be between {minimum} and {maximum}, not {value}",
                           hint=hint or f"pass a value from {minimum} to {maximum}")
    return number
