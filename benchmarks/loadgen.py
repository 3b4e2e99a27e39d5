"""A bounded HTTP/1.1 load generator for the serving benchmark (stdlib only, loopback only).

    python loadgen.py --url http://127.0.0.1:PORT/score --bodies bodies.json --concurrency 16 --duration 10 \
        [--warmup 1] [--header "Authorization: Bearer KEY"]

``--concurrency`` keep-alive connections each send one request, wait for the whole answer, then send the
next (a closed loop: at most ``concurrency`` requests are in flight). The request bodies (a JSON list of
strings in ``--bodies``) are sent in turn. A warm-up of ``--warmup`` seconds is not counted; then every
request that *completes* within ``--duration`` seconds is counted, with its latency (from writing the
request to the last byte of the answer).

Everything runs on one asyncio loop with ``asyncio.Protocol`` connections and pre-encoded requests, so the
generator costs little CPU per request; it reports its own CPU time (``cpu_s``, ``cpu_util`` = share of one
core) so that a run where the generator itself was the bottleneck can be spotted. It prints one
``BENCH_RESULT {json}`` line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import emit_result, percentile


class Connection(asyncio.Protocol):
    """One keep-alive connection; ``send`` writes a request and returns a future of ``(status, body)``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.server_closes = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).split(b"\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                self.server_closes = True
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[0].split(b" ", 2)[1])
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"the server closed the connection: {exc}"))


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        url = urlsplit(args.url)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("loadgen only talks to the loopback interface")
        self.host = url.hostname
        self.port = url.port or 80
        path = url.path or "/"
        with open(args.bodies) as handle:
            bodies = [b.encode() for b in json.load(handle)]
        headers = [f"Host: {self.host}:{self.port}", "Content-Type: application/json", *args.header]
        self.requests = [
            (f"POST {path} HTTP/1.1\r\n" + "\r\n".join(headers) + f"\r\nContent-Length: {len(body)}\r\n\r\n").encode(
                "latin-1"
            )
            + body
            for body in bodies
        ]
        self.concurrency = args.concurrency
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.sample: dict[str, Any] = {}
        self.counting = False
        self.stop_at = 0.0
        self.completed = 0  # every answered request, warm-up included (for CPU per request of the servers)

    async def connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        _transport, conn = await loop.create_connection(Connection, self.host, self.port)
        return conn

    async def worker(self, index: int) -> None:
        conn = await self.connect()
        requests = self.requests
        n = index
        perf = time.perf_counter
        while True:
            start = perf()
            if start >= self.stop_at:
                break
            request = requests[n % len(requests)]
            n += 1
            try:
                status, body = await conn.send(request)
            except ConnectionError as exc:
                if self.counting:
                    self.errors[type(exc).__name__] += 1
                conn = await self.connect()
                continue
            end = perf()
            self.completed += 1
            if self.counting and end <= self.stop_at:
                self.latencies.append(end - start)
                self.statuses[status] += 1
                if not self.sample:
                    self.sample = {"status": status, "body": body[:200].decode("utf-8", "replace")}
            if conn.server_closes or conn.closed:
                if conn.transport is not None:
                    conn.transport.close()
                conn = await self.connect()
        if conn.transport is not None:
            conn.transport.close()

    async def phase(self, seconds: float, counting: bool) -> float:
        self.counting = counting
        start = time.perf_counter()
        self.stop_at = start + seconds
        await asyncio.gather(*(self.worker(i) for i in range(self.concurrency)))
        return time.perf_counter() - start


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    load = Load(args)
    if args.warmup > 0:
        await load.phase(args.warmup, counting=False)
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    await load.phase(args.duration, counting=True)
    cpu = cpu_seconds() - cpu0
    wall = time.perf_counter() - wall0  # includes the last requests finishing after the deadline
    lat = sorted(load.latencies)
    ok = load.statuses.get(200, 0)
    return {
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "wall_s": wall,
        "requests": len(lat),
        "requests_with_warmup": load.completed,
        "ok": ok,
        "statuses": {str(k): v for k, v in load.statuses.items()},
        "connection_errors": dict(load.errors),
        "rps": len(lat) / args.duration,
        "p50_ms": percentile(lat, 50) * 1e3,
        "p90_ms": percentile(lat, 90) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
        "max_ms": (lat[-1] * 1e3) if lat else math.nan,
        "mean_ms": (sum(lat) / len(lat) * 1e3) if lat else math.nan,
        "cpu_s": cpu,
        "cpu_util": cpu / wall if wall else math.nan,  # share of one core used by this generator
        "cpu_us_per_request": cpu / len(lat) * 1e6 if lat else math.nan,
        "sample": load.sample,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", required=True, help="a JSON file holding a list of request bodies (strings)")
    parser.add_argument("--header", action="append", default=[], help="an extra request header, 'Name: value'")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 256 or not 0 < args.duration <= 600:
        raise SystemExit("concurrency must be 1..256 and duration 0..600 s")
    emit_result(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
