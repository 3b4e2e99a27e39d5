"""A minimal keep-alive HTTP/1.1 client from the load balancer to its replicas (asyncio streams).

Replicas are ours (``jupyter_aml.serving.replica``): responses always carry ``Content-Length``, so the
client needs no chunked decoding. What it must get right is telling failures apart:

- ``ReplicaDown``: the replica could not be reached, or the connection broke before any response byte
  arrived. The request was not answered, so the balancer may retry it on another replica.
- ``StaleConnection``: the same, on a reused idle connection (the replica may just have closed it):
  retry once on a fresh connection to the same replica.
- ``asyncio.TimeoutError``: the replica did not answer in time; the connection is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


class ReplicaDown(Exception):
    pass


class StaleConnection(ReplicaDown):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class ConnectionPool:
    host: str
    port: int
    max_idle: int = 16
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 5)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ReplicaDown(f"cannot connect to {self.host}:{self.port}: {exc}") from exc

    async def request(self, method: str, path: str, body: bytes, headers: dict[str, str],
                      timeout: float) -> Response:
        reused = bool(self.idle)
        reader, writer = self.idle.pop() if reused else await self._connect()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        keep = False
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            response = await asyncio.wait_for(self._read(reader, reused), timeout)
            keep = response.headers.get("connection", "").lower() != "close"
            return response
        finally:
            if keep and len(self.idle) < self.max_idle:
                self.idle.append((reader, writer))
            else:
                writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader, reused: bool) -> Response:
        try:
            status_line = await reader.readline()
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise (StaleConnection if reused else ReplicaDown)(str(exc)) from exc
        if not status_line:
            raise (StaleConnection if reused else ReplicaDown)("the replica closed the connection")
        try:
            status = int(status_line.split(b" ", 2)[1])
            headers: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                key, _, value = line.decode("latin-1").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            # The replica started answering and broke off (e.g. it was killed): not safely retryable in
            # general, but scoring never answered, so report it as down; the balancer decides.
            raise ReplicaDown(f"the replica broke off its response: {exc}") from exc
        return Response(status, headers, body)

    def close(self) -> None:
        for _reader, writer in self.idle:
            with contextlib.suppress(Exception):
                writer.close()
        self.idle.clear()
