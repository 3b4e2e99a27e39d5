"""Gang scheduling on the Dask backend itself (compute/dask_gang.py), without the service's queue in front:
all or nothing, with a timeout and release. A gang that cannot hold all its nodes starts nothing and lets its
node go; two gangs thrown at a cluster too small for both at once never deadlock: each runs whole or fails
saying why, and the cluster is free again afterwards."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from jupyter_aml.compute.dask_cluster import DaskClusterBackend
from jupyter_aml.compute.dask_gang import GANG_NOT_FORMED, joined_event, run_gang_node
from jupyter_aml.compute.dask_host import NODE_RESOURCE
from jupyter_aml.compute.dask_task import started_event
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import Exits, make_job

SCRIPT = b"import os, time\nprint('rank', os.environ['RANK'], 'node', os.environ['NODE_RANK'], flush=True)\n"
TWO_NODES = {"framework": "PyTorch", "node_count": 2, "process_count": 2}


def _hold_a_node(name: str) -> str:
    """Something outside this service's queue holding a worker until told to let go."""
    import distributed

    dask: Any = distributed
    dask.Event(name).wait(120)
    return "let go"


def test_all_or_nothing_with_a_timeout_and_release(service: FakeService, tmp_path: Path) -> None:
    for run_id in ("g1", "g2", "a", "b"):
        service.state.add_run(run_id, files={"t.py": SCRIPT}, script="t.py", distributed=TWO_NODES)

    async def main() -> None:
        backend = DaskClusterBackend("two", state_dir=str(tmp_path / "cluster"), min_nodes=0, max_nodes=2,
                                     idle_seconds_before_scaledown=30, gang_timeout=6)
        await backend.provision()
        assert backend.max_nodes_per_run() == 2
        import distributed

        dask: Any = distributed
        holder = backend._client.submit(_hold_a_node, "aml-test-holder", resources={NODE_RESOURCE: 1}, pure=False)
        while not any(n.state == "busy" for n in backend.nodes()):  # the holder has its node
            await asyncio.sleep(0.2)

        # one node is held elsewhere: the gang gets at most one, starts nothing, and lets it go
        exits = Exits()
        started = time.monotonic()
        await backend.start(make_job(service, "g1", tmp_path, distributed=TWO_NODES), exits)
        await asyncio.wait_for(exits.event.wait(), 60)
        assert exits.calls == [("g1", None)] and time.monotonic() - started < 30
        reason = backend.exit_reason("g1")
        assert reason is not None and "could not hold the run's 2 nodes at once within 6 s" in reason
        run_dir = tmp_path / "work" / "g1"
        assert not (run_dir / "agent.log").exists() and not (run_dir / "node-1" / "agent.log").exists()
        assert service.state.status_sequence("g1") == []  # no agent ever ran
        # a straggler of that gang (a cancelled task that was already executing on a worker) gets its node only
        # now and finds the other node joined: the failed gang's abort still stands, so it starts nothing
        await dask.Event(joined_event("g1", 1), client=backend._client).set()
        await dask.Event(started_event("g1"), client=backend._client).clear()  # node 0 itself never got to start
        straggler = backend._client.submit(run_gang_node, "g1", 0, 2, [str(Path("/bin/true"))], {},
                                           str(run_dir), hold_timeout=6, resources={NODE_RESOURCE: 1}, pure=False)
        assert await asyncio.wait_for(straggler.result(), 60) == GANG_NOT_FORMED
        assert not (run_dir / "agent.log").exists()

        # let the other node go: the same gang now holds both and runs whole
        await dask.Event("aml-test-holder", client=backend._client).set()
        assert await holder == "let go"
        # this phase checks that a gang forms on free nodes, not the timeout: give a loaded machine time to
        # bring the second node back (the hold timeout counts while a node is being started)
        backend.gang_timeout = 120
        exits = Exits()
        await backend.start(make_job(service, "g2", tmp_path, distributed=TWO_NODES), exits)
        await asyncio.wait_for(exits.event.wait(), 120)
        assert exits.calls == [("g2", 0)]
        assert service.state.status_sequence("g2")[-1] == "Completed"

        # two gangs at once on a cluster that fits one: never a deadlock, never half a gang running
        backend.gang_timeout = 6
        ends: dict[str, int | None] = {}
        done = asyncio.Event()

        async def on_exit(run_id: str, code: int | None) -> None:
            ends[run_id] = code
            if len(ends) == 2:
                done.set()

        await backend.start(make_job(service, "a", tmp_path, distributed=TWO_NODES), on_exit)
        await backend.start(make_job(service, "b", tmp_path, distributed=TWO_NODES), on_exit)
        await asyncio.wait_for(done.wait(), 150)
        for run_id, code in ends.items():
            if code == 0:
                assert service.state.status_sequence(run_id)[-1] == "Completed"
            else:  # it let go after the timeout, having started nothing
                assert "could not hold" in (backend.exit_reason(run_id) or "")
                assert service.state.status_sequence(run_id) == []
        lines = service.state.log_text()
        assert any(code == 0 for code in ends.values()) or all(code is None for code in ends.values())
        # every gang that ran, ran whole: both of its ranks (g2's two lines, and two per whole gang of a and b)
        assert sum(1 for line in lines if line.startswith("rank ")) == 2 * (1 + sum(c == 0 for c in ends.values()))
        await backend.destroy()

    asyncio.run(main())
