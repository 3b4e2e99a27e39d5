"""A minimal keep-alive HTTP/1.1 client from the load balancer to its replicas (asyncio protocols).

Replicas are ours (``jupyter_aml.serving.replica``): responses always carry ``Content-Length``, so the
client needs no chunked decoding. What it must get right is telling failures apart:

- ``ReplicaDown``: the replica could not be reached, or the connection broke before any response byte
  arrived. The request was not answered, so the balancer may retry it on another replica.
- ``StaleConnection``: the same, on a reused idle connection (the replica may just have closed it):
  retry once on a fresh connection to the same replica.
- ``asyncio.TimeoutError``: the replica did not answer in time. Without ``late`` the connection is dropped;
  with it the connection stays open and ``late()`` is called once the replica does answer (or goes away),
  which is how the hung-replica guard (``jupyter_aml.serving.guard``) learns that an overrunning ``run()``
  returned: the replica stays busy until then.

This sits on every scoring request, so it is written for few event-loop steps per request: one
``asyncio.Protocol`` per connection parses the answer as bytes arrive and resolves a future (no stream
reader, no line-by-line reads), and the timeout is a timer on that future rather than a task per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_HEAD = 64 * 1024  # status line + headers


class ReplicaDown(Exception):
    pass


class StaleConnection(ReplicaDown):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(asyncio.Protocol):
    """One connection to a replica; at most one request at a time (``waiter``)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.reused = False
        self.closed = False
        self.late: Callable[[], None] | None = None  # the caller timed out; call this when the answer comes
        self._head: tuple[int, dict[str, str], int, int] | None = None  # status, headers, body offset, length

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, data: bytes, waiter: asyncio.Future[Response]) -> None:
        assert self.transport is not None
        self.waiter = waiter
        self.buffer.clear()
        self._head = None
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is not None and waiter.done() and self.late is not None:
            self.buffer += data  # the overdue answer: nobody reads it, but its end says run() returned
            try:
                done = self._parse() is not None
            except (ValueError, IndexError):
                done = True
            if done:
                self.close()
                self._fire_late()
            return
        if waiter is None or waiter.done():
            self.buffer.clear()  # nothing asked for this (or the caller gave up): the connection is unusable
            self.close()
            return
        self.buffer += data
        try:
            response = self._parse()
        except (ValueError, IndexError) as exc:
            self.waiter = None
            waiter.set_exception(ReplicaDown(f"the replica broke off its response: {exc}"))
            self.close()
            return
        if response is not None:
            self.waiter = None
            waiter.set_result(response)

    def _parse(self) -> Response | None:
        buffer = self.buffer
        if self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise ValueError("the response head is too long")
                return None
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if length < 0:
                raise ValueError(f"bad Content-Length {length}")
            self._head = (status, headers, end + 4, length)
        status, headers, start, length = self._head
        if len(buffer) < start + length:
            return None
        body = bytes(buffer[start : start + length])
        self.buffer.clear()
        self._head = None
        return Response(status, headers, body)

    def _fire_late(self) -> None:
        late, self.late = self.late, None
        if late is not None:
            late()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fire_late()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            if self.buffer:
                # The replica started answering and broke off (e.g. it was killed): not safely retryable in
                # general, but scoring never answered, so report it as down; the balancer decides.
                waiter.set_exception(ReplicaDown(f"the replica broke off its response: {exc or 'connection closed'}"))
            else:
                why = f"the replica closed the connection{f': {exc}' if exc else ''}"
                waiter.set_exception(StaleConnection(why) if self.reused else ReplicaDown(why))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self.transport.close()


def _expire(waiter: asyncio.Future[Response]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


@dataclass
class ConnectionPool:
    host: str
    port: int
    max_idle: int = 16
    idle: list[_Connection] = field(default_factory=list)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _transport, conn = await asyncio.wait_for(loop.create_connection(_Connection, self.host, self.port), 5)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ReplicaDown(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        return conn

    async def request(self, method: str, path: str, body: bytes, headers: dict[str, str],
                      timeout: float, late: Callable[[], None] | None = None) -> Response:
        """One request; on timeout, ``late`` (if given) is called when the replica answers after all."""
        conn = None
        while self.idle:
            candidate = self.idle.pop()
            if not candidate.closed:
                conn = candidate
                conn.reused = True
                break
        if conn is None:
            conn = await self._connect()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        timer = loop.call_later(timeout, _expire, waiter)
        keep = False
        try:
            conn.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body, waiter)
            response = await waiter
            keep = not conn.closed and response.headers.get("connection", "").lower() != "close"
            return response
        except asyncio.TimeoutError:
            if late is not None:  # called exactly once: when the answer comes, or now if the replica is gone
                if conn.closed:
                    late()
                else:
                    conn.late = late  # keep the connection: its answer, when it comes, says the replica is free
            raise
        finally:
            timer.cancel()
            if keep and len(self.idle) < self.max_idle:
                self.idle.append(conn)
            elif conn.late is None:
                conn.waiter = None
                conn.close()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()
