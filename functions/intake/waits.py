"""How long a request may wait on a run: ``LG_DEPLOY_MAX_WAIT_SECONDS``.

``/join``, ``/runs/wait``, ``/cancel?wait=true`` and the run streams (``…/runs/stream``, the
join streams) hold their request while the run is active; a run scheduled a year ahead
(``after_seconds``) would hold it for a year. After the limit the wait answers the
``TimeoutError`` as a run's error reads (``{"__error__": …}`` for a wait, which the SDK's
``runs.wait`` raises; an SSE ``error`` event for a stream) and the run goes on: the client joins
it again (a stream resumes from the last event id it got; the error event has none).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, cast

from sse_starlette import ServerSentEvent

from shared.serde import dumps_str


class Deadline:
    """The end of one request's wait on ``run_id``, ``seconds`` from now; ``reached`` once a
    check found it passed (then the run must not be cancelled for the request's end)."""

    def __init__(self, run_id: uuid.UUID, seconds: float) -> None:
        self.run_id, self.seconds = run_id, seconds
        self.at = time.monotonic() + seconds
        self.reached = False

    def passed(self) -> bool:
        """Whether the deadline has passed (and :attr:`reached` from then on)."""
        self.reached = self.reached or time.monotonic() >= self.at
        return self.reached

    def error(self) -> dict[str, str]:
        """The ``TimeoutError`` object: ``{"error", "message"}``."""
        message = (
            f"run {self.run_id} has not ended within {self.seconds:g} s"
            " (LG_DEPLOY_MAX_WAIT_SECONDS); it goes on: join it again"
        )
        return {"error": "TimeoutError", "message": message}

    async def bound(self, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """``events`` (items of ``sse_response``) until the deadline, then the SSE ``error``
        event, framed and without an id; ``events`` is closed at once."""
        async with aclosing(cast(AsyncGenerator[Any, None], events)) as items:
            async for item in items:
                yield item
                if self.passed():
                    error = ServerSentEvent(data=dumps_str(self.error()), event="error", sep="\r\n")
                    yield error.encode()
                    return
