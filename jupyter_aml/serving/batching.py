"""Dynamic batching in the balancer: concurrent scoring requests merged into one ``run_batch()`` call.

A service deployed with ``max_batch_size`` > 1 (and a scoring script that defines ``run_batch(requests)``)
gets a ``Batcher`` in its balancer. Callers' requests wait in one queue, in arrival order. Whenever a replica
has room (fewer batches in flight than ``max_concurrent_requests_per_container``), the oldest waiting requests
go to it as one batch of at most ``max_batch_size``, once the batch is full or its oldest request has waited
``max_batch_wait_ms`` (0, the default: at once, with whatever is waiting). So under light load a request goes
alone and at once, and while the replicas are busy the requests that arrive meanwhile form the next batch,
which is what makes batching pay: one ``run_batch()`` (one numpy call, one HTTP exchange with the replica)
per batch instead of per request.

The replica answers each caller separately (``batch_call``): a caller's own bad body is its own 400, a
script that fails the batch fails only that batch's callers. The rest of the balancer's rules hold per
caller: the scoring timeout runs from the caller's arrival (504; a caller still waiting for a replica when
none is ready gets 503), telemetry counts callers, and a batch that overruns the timeout leaves its replica
overdue (``Replica.overdue``) until ``run_batch()`` returns, as the hung-replica guard expects. A replica
that cannot be reached is marked suspect and the batch's callers go back to the head of the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.serving import batch_call
from jupyter_aml.serving.batch_call import error_body
from jupyter_aml.serving.proxy import ReplicaDown, StaleConnection

if TYPE_CHECKING:
    from jupyter_aml.serving.front import Front, Replica

log = logging.getLogger("jupyter_aml.serving")

MAX_ATTEMPTS = 6  # replicas tried for one request before a 503, as without batching


def check_settings(config: dict[str, Any]) -> None:
    """Batching settings that make sense together, else an ``InvalidInput`` (400) saying why, before anything
    is stored. (The ranges themselves are the contract model's.)"""
    size, wait = int(config.get("max_batch_size") or 1), int(config.get("max_batch_wait_ms") or 0)
    timeout = int(config.get("scoring_timeout_ms") or 60_000)
    if wait > 0 and size <= 1:
        raise InvalidInput(f"max_batch_wait_ms ({wait}) has no effect without batching: max_batch_size is 1",
                           hint="set max_batch_size=N (N > 1) and define run_batch(requests) in the scoring "
                                "script, or leave max_batch_wait_ms unset")
    if size > 1 and wait >= timeout:
        raise InvalidInput(f"max_batch_wait_ms ({wait}) is not shorter than scoring_timeout_ms ({timeout}): "
                           "every request would time out waiting for its batch",
                           hint="a wait of a few milliseconds (max_batch_wait_ms=5) is usual")


def capacity(config: dict[str, Any]) -> int:
    """The requests one replica takes at once: ``max_concurrent_requests_per_container`` batches of up to
    ``max_batch_size`` (what the autoscaler's target utilization is a share of)."""
    return int(config.get("max_concurrent_requests_per_container", 1)) * max(1, int(config.get("max_batch_size")
                                                                                    or 1))


@dataclass(eq=False)
class Waiting:
    """One caller's request, queued or in a batch; ``done(status, body)`` answers it, once."""

    body: bytes
    request_id: str
    done: Callable[[int, bytes], None]
    arrived: float  # loop time
    deadline: float
    sent: bool = False
    attempts: int = 0
    finished: bool = False
    expiry: asyncio.TimerHandle | None = None  # the scoring timeout

    def answer(self, status: int, body: bytes) -> None:
        if self.finished:
            return
        self.finished = True
        if self.expiry is not None:
            self.expiry.cancel()
        self.done(status, body)


class Batcher:
    def __init__(self, front: Front, max_size: int, wait_seconds: float) -> None:
        self.front = front
        self.max_size = max_size
        self.wait = wait_seconds
        self.queue: deque[Waiting] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Future[None]] = set()  # batches in flight (a reference keeps each task alive)
        self.batches = 0  # batches sent, the requests in them and the largest (the service's telemetry)
        self.batched = 0
        self.largest = 0

    def configure(self, max_size: int, wait_seconds: float) -> None:
        self.max_size, self.wait = max_size, wait_seconds
        self.pump()

    def counters(self) -> dict[str, int]:
        return {"batches": self.batches, "requests": self.batched, "largest": self.largest}

    def enqueue(self, body: bytes, request_id: str, done: Callable[[int, bytes], None]) -> Waiting:
        """Queue one caller's request; ``done(status, body)`` is called once with its answer, within the scoring
        timeout. (A callback, not a task per request: the balancer's ``POST /score`` answers from it.)"""
        loop = asyncio.get_running_loop()
        now = loop.time()
        item = Waiting(body, request_id, done, now, now + self.front.timeout)
        item.expiry = loop.call_at(item.deadline, self._expire, item)
        self.queue.append(item)
        self.pump()
        return item

    async def submit(self, body: bytes, request_id: str) -> tuple[int, bytes]:
        """``enqueue`` for a coroutine: the caller's status and answer."""
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()

        def done(status: int, answer: bytes) -> None:
            if not future.done():
                future.set_result((status, answer))

        self.enqueue(body, request_id, done)
        return await future

    def _expire(self, item: Waiting) -> None:
        item.expiry = None
        if item.finished:
            return
        if item.sent:
            item.answer(504, error_body("Timeout", f"scoring took longer than the {self.front.timeout:g} s timeout"))
            return
        with contextlib.suppress(ValueError):
            self.queue.remove(item)
        if not self.front.ready():
            item.answer(503, error_body("ServiceUnavailable", "no replica of the service is ready; retry shortly"))
        else:
            item.answer(504, error_body("Timeout", f"the request waited the whole {self.front.timeout:g} s "
                                                   "scoring timeout for a replica: the service is overloaded"))

    def pump(self) -> None:
        """Send batches while replicas have room. Called when a request arrives, when a batch ends, when a
        replica becomes ready (``Front.notify``) and when the oldest request's wait is over."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        while self.queue:
            replica = self.front.pick(set(), room=True)
            if replica is None or replica.pool is None:
                return  # pumped again when a batch ends or a replica becomes ready
            if len(self.queue) < self.max_size and self.wait > 0:
                due = self.queue[0].arrived + self.wait
                if loop.time() < due:
                    self._timer = loop.call_at(due, self.pump)
                    return
            batch: list[Waiting] = []
            while self.queue and len(batch) < self.max_size:
                item = self.queue.popleft()
                if not item.finished:
                    item.sent = True
                    batch.append(item)
            if batch:
                replica.inflight += 1
                self.batches += 1
                self.batched += len(batch)
                self.largest = max(self.largest, len(batch))
                task = asyncio.ensure_future(self._send(replica, batch))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _send(self, replica: Replica, batch: list[Waiting]) -> None:
        front = self.front
        loop = asyncio.get_running_loop()
        head, payload = batch_call.pack_requests([(item.request_id, item.body) for item in batch])
        headers = {"Content-Type": "application/json", "x-ms-request-id": batch[0].request_id,
                   "X-AML-Replica-Token": replica.token, batch_call.HEADER: head}
        deadline = max(item.deadline for item in batch)
        overdue = False
        try:
            assert replica.pool is not None
            for fresh in (False, True):
                try:
                    response = await replica.pool.request("POST", "/score", payload, headers,
                                                          max(0.05, deadline - loop.time()),
                                                          late=front.late_callback(replica))
                    break
                except StaleConnection:
                    if fresh:
                        raise
                    replica.pool.close()
            replica.served += len(batch)
            framed = response.headers.get(batch_call.HEADER.lower())
            if framed is None:  # refused as a whole (403, 503, 400): every caller gets that answer
                answers = [(response.status, response.body)] * len(batch)
            else:
                answers = batch_call.unpack_answers(framed, response.body)
                if len(answers) != len(batch):
                    raise ValueError(f"{len(answers)} answers for {len(batch)} requests")
            for item, (status, body) in zip(batch, answers, strict=True):
                item.answer(status, body)
        except ReplicaDown as exc:
            front.unreachable(replica, exc)
            for item in reversed(batch):  # back to the head of the queue, in their order
                item.attempts += 1
                if item.finished:
                    continue
                if item.attempts >= MAX_ATTEMPTS:
                    item.answer(503, error_body("ServiceUnavailable", "no replica could take the request; "
                                                                      "retry shortly"))
                else:
                    item.sent = False
                    self.queue.appendleft(item)
        except asyncio.TimeoutError:
            overdue = True  # run_batch() still works on it: the replica stays busy until it answers
            front.overdue(replica)
            for item in batch:
                item.answer(504, error_body("Timeout", f"scoring took longer than the {front.timeout:g} s timeout"))
        except Exception:
            log.exception("service %s: a batch of %d requests failed in the balancer", front.name, len(batch))
            for item in batch:
                item.answer(500, error_body("Error", "Internal Server Error"))
        finally:
            if not overdue:
                front.release(replica)
            self.pump()


__all__ = ["MAX_ATTEMPTS", "Batcher", "Waiting", "capacity", "check_settings"]
