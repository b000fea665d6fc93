"""Wire model of the run-request CloudEvent other systems send to intake (lg-deploy extension)."""

from __future__ import annotations

import uuid

from pydantic import Field

from shared.api.runs import RunCreateStateful


class RunCreateEventData(RunCreateStateful):
    """``data`` of a ``dev.lgdeploy.run.create`` CloudEvent: the body of
    ``POST /threads/{thread_id}/runs`` plus the thread. Without ``thread_id`` the run is
    stateless (a temporary thread), as ``POST /runs``."""

    thread_id: uuid.UUID | None = Field(None, description="thread to run on; none = stateless")
