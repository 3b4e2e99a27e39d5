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
