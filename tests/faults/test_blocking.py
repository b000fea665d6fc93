"""A node that blocks the event loop for several leases keeps its lease and runs once.

Guarantee (research §2.3): G6, liveness independent of user code. The heartbeat renews leases
from its own thread and connection; were it on the event loop, the lease would expire while
the node blocks, the sweep would hand the run back and the node would run a second time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.helpers import FAULT_ENV, LEASE_SECONDS, alarming_lines, ledger_lines, start_run
from tests.support import sdk, start


@pytest.mark.slow
async def test_node_blocking_the_event_loop_for_three_leases_keeps_its_lease(
    tmp_path: Path, data_dir: Path, ledger: Path
) -> None:
    server = start("dev", data_dir=data_dir, log=tmp_path / "server.log", env=FAULT_ENV)
    try:
        async with sdk(server) as client:
            configurable = {"ledger": str(ledger), "block": 3 * LEASE_SECONDS}
            run = await start_run(client, "blocking", configurable)
            values = await client.runs.join(run["thread_id"], run["run_id"])
            run_after = await client.runs.get(run["thread_id"], run["run_id"])
    finally:
        server.stop()
    assert values == {"items": ["blocked"]}
    assert run_after["status"] == "success"
    assert run_after["attempt"] == 1
    assert ledger_lines(ledger) == ["block"]
    log = server.log_text()
    assert "lease expired" not in log
    assert alarming_lines(log) == []
