"""Dynamic batching's wire format between the balancer and a replica, and how a replica calls ``run_batch()``.
Standard library only (it runs in the scoring environment, beside ``replica.py``).

The balancer (``jupyter_aml.serving.batching``) merges the requests of several callers into one
``POST /score`` to a replica: their request ids and bodies are concatenated, and the ``X-AML-Batch`` header
gives each one's lengths (``"<id bytes>:<body bytes>,..."``). The replica answers 200 with every caller's
status and answer concatenated the same way (``X-AML-Batch: "<status>:<answer bytes>,..."``), so that each
caller gets its own status: a body that is not JSON is that caller's 400, the others are still scored.
Nothing is re-encoded on either side: the bodies travel as the callers sent them.

A scoring script takes batches by defining ``run_batch(requests)``: it gets a list of the request bodies,
each parsed from JSON, and returns a list (or anything with ``tolist()``, such as a numpy array) of one
answer per request, in the same order. A ``run_batch()`` that raises, or returns a different number of answers,
is a fault of the script: every caller of that batch gets a 500 saying so, and no caller gets another's answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

HEADER = "X-AML-Batch"
MAX_BATCH_SIZE = 1024


def pack(items: list[tuple[Any, bytes]], first: Callable[[Any], bytes] | None = None) -> tuple[str, bytes]:
    """``(head, body)`` of a framed list: ``head`` is ``"<len or status>:<len>,..."``, ``body`` the parts joined.

    Requests are ``(request id, body)`` pairs (the id's bytes are framed too); answers ``(status, body)``
    pairs (the status is written as is)."""
    spec, parts = [], []
    for lead, data in items:
        if first is None:
            spec.append(f"{int(lead)}:{len(data)}")
        else:
            raw = first(lead)
            spec.append(f"{len(raw)}:{len(data)}")
            parts.append(raw)
        parts.append(data)
    return ",".join(spec), b"".join(parts)


def pack_requests(items: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    return pack(items, lambda request_id: str(request_id).encode("utf-8", "replace"))


def pack_answers(items: list[tuple[int, bytes]]) -> tuple[str, bytes]:
    return pack(items)


def _spec(head: str) -> list[tuple[int, int]]:
    pairs = []
    for entry in head.split(","):
        lead, sep, size = entry.strip().partition(":")
        if not sep:
            raise ValueError(f"bad {HEADER} entry {entry!r}")
        pairs.append((int(lead), int(size)))
    if not pairs or len(pairs) > MAX_BATCH_SIZE or any(n < 0 for _, n in pairs):
        raise ValueError(f"bad {HEADER} header")
    return pairs


def unpack_requests(head: str, body: bytes) -> list[tuple[str, bytes]]:
    """The ``(request id, body)`` pairs of a framed batch; ValueError when the frame does not fit the body."""
    out, at = [], 0
    for id_len, size in _spec(head):
        if id_len < 0:
            raise ValueError(f"bad {HEADER} header")
        request_id = body[at:at + id_len].decode("utf-8", "replace")
        at += id_len
        out.append((request_id, body[at:at + size]))
        at += size
    if at != len(body):
        raise ValueError(f"the {HEADER} header says {at} bytes, the body has {len(body)}")
    return out


def unpack_answers(head: str, body: bytes) -> list[tuple[int, bytes]]:
    """The ``(status, answer)`` pairs of a replica's framed answer."""
    out, at = [], 0
    for status, size in _spec(head):
        out.append((status, body[at:at + size]))
        at += size
    if at != len(body):
        raise ValueError(f"the {HEADER} header says {at} bytes, the body has {len(body)}")
    return out


def answers_of(result: Any, expected: int) -> list[Any]:
    """``run_batch()``'s return value as a list of ``expected`` answers; ``BatchMismatch`` saying what it was."""
    if not isinstance(result, (list, tuple)):
        tolist = getattr(result, "tolist", None)
        if callable(tolist) and hasattr(result, "__len__"):
            result = tolist()
        else:
            raise BatchMismatch(f"run_batch() returned {type(result).__name__}, not a list: it must return one "
                                f"answer per request, in their order ({expected} for this batch)")
    if not isinstance(result, (list, tuple)):
        raise BatchMismatch(f"run_batch() returned a value whose tolist() is {type(result).__name__}, not a "
                            f"list: it must return one answer per request ({expected} for this batch)")
    if len(result) != expected:
        raise BatchMismatch(f"run_batch() returned {len(result)} answer{'s' if len(result) != 1 else ''} for a "
                            f"batch of {expected} requests: it must return one answer per request, in their order")
    return list(result)


class BatchMismatch(ValueError):
    """``run_batch()`` did not return one answer per request: a fault of the scoring script (500)."""


def missing_functions(module: Any, name: str, batch_size: int) -> str | None:
    """What the entry script ``name`` lacks for this service, as the deployment's error; None if nothing:
    ``init()``, and ``run()``, or ``run_batch()`` when the service batches (``batch_size`` > 1)."""
    batching = batch_size > 1
    wanted = ("init", "run_batch") if batching else ("init", "run")
    missing = [fn for fn in wanted if not callable(getattr(module, fn, None))]
    if not missing:
        return None
    if batching and missing == ["run_batch"]:
        return (f"the web service batches requests (max_batch_size={batch_size}) but entry script {name} "
                "defines no run_batch() function: define run_batch(requests), which gets a list of request "
                "bodies parsed from JSON and returns a list of one answer per request in the same order, or "
                "deploy without max_batch_size")
    if not batching and missing == ["run"] and callable(getattr(module, "run_batch", None)):
        return (f"entry script {name} defines run_batch() but no run() function: run_batch() is called only "
                "when the web service batches requests; deploy with max_batch_size=N (N > 1), or define "
                "run(raw_data)")
    return (f"entry script {name} defines no {' and no '.join(f + '()' for f in missing)} function: "
            "a scoring script must define init() (called once, to load the model) and run(raw_data) "
            "(called for each request)")


def error_body(code: str, message: str) -> bytes:
    """The JSON error body callers read: ``{"error": {"code": ..., "message": ...}}``."""
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def parse(body: bytes) -> tuple[Any, str | None]:
    """A caller's body as JSON, or the reason it is not (that caller's 400)."""
    try:
        return json.loads(body.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"the request body is not valid JSON: {exc}"


__all__ = ["HEADER", "MAX_BATCH_SIZE", "BatchMismatch", "answers_of", "error_body", "missing_functions", "pack_answers",
           "pack_requests", "parse", "unpack_answers", "unpack_requests"]
