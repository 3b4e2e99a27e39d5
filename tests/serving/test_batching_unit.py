"""Dynamic batching's parts alone: the balancer's batcher (a real ``Front`` with in-process replicas that
record the batches they get), the wire format, what a replica makes of ``run_batch()``'s answer, and the
settings' checks. The end-to-end behaviour with real replicas is in test_batching.py."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.webservice import AksWebservice, LocalWebservice
from jupyter_aml.serving import batch_call
from jupyter_aml.serving.autoscale import settings_of
from jupyter_aml.serving.batching import check_settings
from jupyter_aml.serving.front import READY, Front, Replica, Revision
from jupyter_aml.serving.proxy import ReplicaDown, Response
from jupyter_aml.serving.replica import ScoringApp


class FakePool:
    """A replica's connection pool that answers each request of a batch with its request id, after ``delay``."""

    def __init__(self, delay: float = 0.02, down: bool = False) -> None:
        self.delay, self.down = delay, down
        self.batches: list[list[str]] = []

    async def request(self, method, path, body, headers, timeout, late=None):
        if self.down:
            raise ReplicaDown("connection refused")
        items = batch_call.unpack_requests(headers[batch_call.HEADER], body)
        self.batches.append([rid for rid, _ in items])
        await asyncio.sleep(self.delay)
        head, payload = batch_call.pack_answers([(200, json.dumps({"id": rid, "body": b.decode()}).encode())
                                                 for rid, b in items])
        return Response(200, {batch_call.HEADER.lower(): head}, payload)

    def close(self) -> None:
        pass


def front_with(pools: list[FakePool], size: int, wait_ms: int = 0, timeout_ms: int = 2000) -> Front:
    front = Front("t")
    front.configure({"max_batch_size": size, "max_batch_wait_ms": wait_ms, "scoring_timeout_ms": timeout_ms},
                    ("k", "k2"))
    replicas = []
    for i, pool in enumerate(pools):
        replica = Replica(i, 1, state=READY)
        replica.pool = pool  # type: ignore[assignment]
        replicas.append(replica)
    front.switch(Revision(1, replicas))
    return front


async def submit_all(front: Front, count: int, gap: float = 0.0) -> list[tuple[int, bytes]]:
    async def one(i: int) -> tuple[int, bytes]:
        await asyncio.sleep(i * gap)
        return await front.forward(f'{{"n": {i}}}'.encode(), f"r{i}")

    return await asyncio.gather(*(one(i) for i in range(count)))


def test_requests_arriving_while_the_replica_works_form_the_next_batch_and_keep_their_answers():
    pool = FakePool()

    async def go():
        front = front_with([pool], size=3)
        return await submit_all(front, 7)

    answers = asyncio.run(go())
    assert [len(b) for b in pool.batches] == [1, 3, 3]  # the first at once, the rest while it ran
    assert [json.loads(body)["id"] for _, body in answers] == [f"r{i}" for i in range(7)]
    assert [json.loads(json.loads(body)["body"])["n"] for _, body in answers] == list(range(7))


def test_the_first_request_of_a_batch_waits_up_to_max_batch_wait_ms_for_others():
    pool = FakePool()

    async def go():
        front = front_with([pool], size=8, wait_ms=150)
        started = time.monotonic()
        answers = await submit_all(front, 5, gap=0.01)
        return answers, time.monotonic() - started

    answers, took = asyncio.run(go())
    assert pool.batches == [[f"r{i}" for i in range(5)]] and 0.14 < took < 1.0
    assert all(status == 200 for status, _ in answers)


def test_no_ready_replica_is_a_503_at_the_timeout_and_an_unreachable_one_hands_its_batch_on():
    async def none_ready():
        front = front_with([], size=4, timeout_ms=200)
        return await submit_all(front, 2)

    assert [status for status, _ in asyncio.run(none_ready())] == [503, 503]

    down, up = FakePool(down=True), FakePool()

    async def one_down():
        front = front_with([down, up], size=4)
        answers = await submit_all(front, 4)
        return answers, [r.state for r in front.revision.replicas]

    answers, states = asyncio.run(one_down())
    assert [status for status, _ in answers] == [200] * 4 and states == ["suspect", "ready"]
    assert sorted(rid for batch in up.batches for rid in batch) == [f"r{i}" for i in range(4)]


def test_the_wire_format_round_trips_and_refuses_a_frame_that_does_not_fit():
    head, body = batch_call.pack_requests([("a,1", b'{"x": 1}'), ("", b""), ("é", b"[2]")])
    assert batch_call.unpack_requests(head, body) == [("a,1", b'{"x": 1}'), ("", b""), ("é", b"[2]")]
    head, body = batch_call.pack_answers([(200, b"[1]"), (400, b"{}")])
    assert batch_call.unpack_answers(head, body) == [(200, b"[1]"), (400, b"{}")]
    with pytest.raises(ValueError):
        batch_call.unpack_answers(head, body + b"x")
    with pytest.raises(ValueError):
        batch_call.unpack_requests("3", b"abc")


def test_a_replica_answers_each_caller_and_a_wrong_count_fails_only_that_batch(tmp_path, capfd):
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n"
                      "def run_batch(requests):\n"
                      "    import numpy as np\n"
                      "    if any(r.get('short') for r in requests):\n        return [1]\n"
                      "    return np.array([r['n'] * 10 for r in requests])\n")
    app = ScoringApp({"entry_script": str(script), "max_batch_size": 4})
    app.load()
    answers = app.score_batch([("a", b'{"n": 1}'), ("b", b"nope"), ("c", b'{"n": 3}')])
    assert answers[0] == (200, b"10") and answers[2] == (200, b"30")  # a numpy array: one answer per row
    assert answers[1][0] == 400 and b"not valid JSON" in answers[1][1]
    answers = app.score_batch([("d", b'{"n": 1, "short": true}'), ("e", b'{"n": 2}')])
    assert [status for status, _ in answers] == [500, 500]
    error = json.loads(answers[0][1])["error"]
    assert error["message"].startswith("run_batch() returned 1 answer for a batch of 2 requests")
    assert "requests d, e" in capfd.readouterr().err
    assert batch_call.answers_of(np.array([[1, 2], [3, 4]]), 2) == [[1, 2], [3, 4]]
    with pytest.raises(batch_call.BatchMismatch, match="returned dict, not a list"):
        batch_call.answers_of({"a": 1}, 1)


def test_batching_settings_that_make_no_sense_are_refused_with_the_reason():
    with pytest.raises(InvalidInput, match=r"max_batch_wait_ms \(5\) has no effect without batching"):
        LocalWebservice.deploy_configuration(max_batch_wait_ms=5)
    with pytest.raises(InvalidInput, match=r"max_batch_wait_ms \(2000\) is not shorter than scoring_timeout_ms"):
        LocalWebservice.deploy_configuration(max_batch_size=8, max_batch_wait_ms=2000, scoring_timeout_ms=1000)
    with pytest.raises(InvalidInput, match="max_batch_size must be an integer from 1 to 1024, not 0"):
        AksWebservice.deploy_configuration(num_replicas=1, max_batch_size=0)
    with pytest.raises(InvalidInput, match="not shorter than scoring_timeout_ms"):  # the service's own check
        check_settings({"max_batch_size": 4, "max_batch_wait_ms": 60_000, "scoring_timeout_ms": 60_000})
    with pytest.raises(InvalidInput, match="has no effect without batching"):
        check_settings({"max_batch_size": 1, "max_batch_wait_ms": 3})
    check_settings({"max_batch_size": 16, "max_batch_wait_ms": 5, "scoring_timeout_ms": 1000})
    spec = AksWebservice.deploy_configuration(compute_type="local", max_batch_size=8, max_batch_wait_ms=2)._spec()
    assert spec["max_batch_size"] == 8 and spec["max_batch_wait_ms"] == 2
    # autoscaling counts a batching replica's capacity in requests: max_batch_size per batch
    settings = settings_of({"autoscale_enabled": True, "max_batch_size": 8, "max_concurrent_requests_per_container": 2})
    assert settings is not None and settings.max_concurrent == 16
