"""The one heartbeat loop against the test fake: it hears a final status once and survives an absent service."""

from __future__ import annotations

import time

from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.heartbeat import Heartbeat
from jupyter_aml.runtime.http import ServiceClient
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import wait_for


def test_a_final_status_in_the_answer_ends_the_run_once() -> None:
    with FakeService() as service:
        service.state.add_run("hb1").status = "Running"
        ended: list[str] = []
        beat = Heartbeat(Api(ServiceClient(service.url, service.state.token)), "ws", "hb1", 0.05, ended.append)
        beat.start()
        wait_for(lambda: service.state.heartbeats >= 2, 10)
        assert ended == [] and beat.ended is None
        service.state.runs["hb1"].status = "Canceled"  # canceled from the studio
        wait_for(lambda: beat.ended is not None, 10)
        time.sleep(0.3)  # more beats, still one call
        beat.stop()
        beat.join(5)
        assert ended == ["the service reports the run as Canceled"] and beat.ended == "Canceled"


def test_an_unreachable_service_is_counted_and_warned_about_sparingly() -> None:
    service = FakeService().start()
    url = service.url
    service.stop()
    warnings: list[str] = []
    beat = Heartbeat(Api(ServiceClient(url, "t", timeout=1)), "ws", "r", 0.01, lambda _: None,
                     on_warning=warnings.append)
    for _ in range(12):
        assert beat.beat() is False
    assert beat.failures == 12 and len(warnings) == 2  # after the 1st and the 10th failure


def test_a_run_created_with_its_first_beat_is_next_beaten_after_an_interval() -> None:
    with FakeService() as service:
        service.state.add_run("hb2").status = "Running"
        api = Api(ServiceClient(service.url, service.state.token))
        late = Heartbeat(api, "ws", "hb2", 600, lambda _: None, beat_at_start=False).start()
        eager = Heartbeat(api, "ws", "hb2", 600, lambda _: None).start()
        wait_for(lambda: service.state.heartbeats >= 1, 10)
        time.sleep(0.3)
        late.stop()
        eager.stop()
        assert service.state.heartbeats == 1  # the eager one's beat at start; none from the late one yet


def test_one_pool_thread_beats_every_run_on_its_own_interval_and_ends_when_none_is_left() -> None:
    import threading

    from jupyter_aml.runtime.heartbeat import HeartbeatPool

    with FakeService() as service:
        for rid in ("p1", "p2", "p3"):
            service.state.add_run(rid).status = "Running"
        api = Api(ServiceClient(service.url, service.state.token))
        pool = HeartbeatPool("test-heartbeats")
        ended: list[str] = []
        fast = [Heartbeat(api, "ws", rid, 0.05, ended.append, beat_at_start=False) for rid in ("p1", "p2")]
        slow = Heartbeat(api, "ws", "p3", 600, ended.append, beat_at_start=False)
        for beat in (*fast, slow):
            pool.add(beat)
        wait_for(lambda: service.state.heartbeats >= 6, 10)
        assert [t.name for t in threading.enumerate()].count("test-heartbeats") == 1
        service.state.runs["p2"].status = "Canceled"
        wait_for(lambda: fast[1].ended is not None, 10)
        assert ended == ["the service reports the run as Canceled"] and fast[0].ended is None
        for beat in (*fast, slow):
            beat.stop()
            pool.remove(beat)
        wait_for(lambda: "test-heartbeats" not in [t.name for t in threading.enumerate()], 10)
        before = service.state.heartbeats
        time.sleep(0.2)
        assert service.state.heartbeats == before  # nothing beats a removed heartbeat
        again = Heartbeat(api, "ws", "p1", 0.05, ended.append)  # a later run starts the thread again
        pool.add(again)
        wait_for(lambda: service.state.heartbeats > before, 10)
        again.stop()
