"""A run that outlives ``LG_DEPLOY_RUN_TIMEOUT_SECONDS`` ends with status ``timeout``.

Source: Agent Server API, "Run statuses" (``timeout``: background job timeout).
"""

from __future__ import annotations

from pathlib import Path

from tests.support import sdk, start


async def test_run_over_the_time_limit_ends_timeout(data_dir: Path) -> None:
    server = start(
        "dev",
        data_dir=data_dir,
        log=data_dir.parent / "server.log",
        env={"LG_DEPLOY_RUN_TIMEOUT_SECONDS": "1"},
    )
    try:
        async with sdk(server) as client:
            thread = await client.threads.create()
            tid = thread["thread_id"]
            result = await client.runs.wait(
                tid, "slow", input={}, config={"configurable": {"sleep": 0.6}}, raise_error=False
            )
            assert result["__error__"]["error"] == "TimeoutError"
            runs = await client.runs.list(tid)
            assert runs[0]["status"] == "timeout"
            state = await client.threads.get_state(tid)
            assert state["values"]["items"] == ["nap"]  # the finished step is kept
            assert (await client.threads.get(tid))["status"] == "interrupted"
            assert await client.runs.wait(tid, "echo", input={}) == {"items": ["nap", "one"]}
    finally:
        server.stop()
