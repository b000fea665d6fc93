"""Response model of ``GET /threads/{thread_id}/runs/{run_id}/webhooks`` (lg-deploy extension)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class WebhookAttempt(BaseModel):
    """One POST of a delivery. The receiver's response body is never stored."""

    attempt: int = Field(description="1-based attempt number")
    sent_at: datetime
    status_code: int | None = Field(description="the receiver's HTTP status; null if none")
    latency_ms: float | None = Field(description="from the request to the answer's headers")
    error: str | None = Field(description="why the attempt did not deliver")
    outcome: Literal["delivered", "retry", "failed", "lost"] = Field(
        description="lost: the deliverer died during the attempt"
    )


class WebhookDelivery(BaseModel):
    """The webhook POST of a run's end, as queued in the outbox, with every attempt so far."""

    delivery_id: UUID = Field(description="also sent as the webhook-id header")
    run_id: UUID
    thread_id: UUID
    url: str
    status: Literal["pending", "delivering", "delivered", "failed"]
    created_at: datetime = Field(description="when the run ended and the delivery was queued")
    next_attempt_at: datetime | None = Field(description="when a pending delivery is due")
    finished_at: datetime | None = Field(description="when it was delivered or failed")
    attempts: list[WebhookAttempt]
