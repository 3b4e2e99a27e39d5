"""Boolean query values: ``true`` or ``false`` as the document says, anything else is bad input.

Reading every other value as false once answered ``?latest=yes`` with every version instead of refusing it.
"""

from __future__ import annotations

from tornado.web import RequestHandler

from jupyter_aml.errors import InvalidInput


def query_flag(handler: RequestHandler, name: str) -> bool:
    """The query parameter ``name`` as a bool (absent: False); refuse a value other than true/false."""
    value = handler.get_query_argument(name, None)
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise InvalidInput(f"query parameter {name!r} must be true or false, not {value!r}",
                       hint=f"e.g. ?{name}=true, or leave it out for false")
