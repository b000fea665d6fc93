"""Request and response models of the thread endpoints (``/threads*``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from shared.api.common import IfExists, Json, Model, ThreadStatus


class ThreadCreate(Model):
    """Body of ``POST /threads``."""

    thread_id: UUID | None = None
    metadata: Json | None = None
    if_exists: IfExists = "raise"


class Thread(BaseModel):
    """A thread as returned by the thread endpoints."""

    thread_id: UUID
    created_at: datetime
    updated_at: datetime
    state_updated_at: datetime
    metadata: Json
    status: ThreadStatus
    config: Json
    values: Any
    interrupts: dict[str, Any]
    error: Any = None
