"""One delivery attempt: build the body, sign it, POST it, judge the answer.

The body is what the official server sends when a run ends: the Run object, its
``kwargs.config`` the config the run executed with (its ids in ``configurable``, ``run_attempt``
and ``langgraph_version`` in ``metadata``), plus ``run_started_at``, ``run_ended_at``,
``webhook_sent_at``, ``values`` (the thread's final values, ``null`` when there are none) and,
for a run that failed, ``error`` (its serialized exception; absent otherwise), sent as
``Content-Type: application/json`` like the official server's (the configured
``webhooks.headers`` may replace it). Source: Agent Server API, "Other run fields" →
``webhook``; the official server's webhook call. What differs from it is listed in
tests/ecosystem/README.md.

A 2xx answer delivers. 408, 425, 429, 5xx, timeouts and connection errors are retried with
exponential backoff and jitter until ``delivery.retry.max_attempts`` attempts were made; any
other answer (a 3xx included: redirects are not followed) and a refused address fail at once.
The response body is never read nor stored.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.db.runs import run_to_api
from shared.execution.retry import retry_delay
from shared.execution.run_config import run_config
from shared.serde import dumps
from shared.webhooks.config import WebhookConfig
from shared.webhooks.policy import WebhookRefused
from shared.webhooks.signing import signature_headers

RETRIED_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Attempt:
    """What one attempt did: when it was sent, the answer's status (``None`` if there was
    none), how long it took, why it did not deliver, and whether trying again may help."""

    sent_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    retryable: bool

    @property
    def delivered(self) -> bool:
        """A 2xx answer came back."""
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_body(row: Any, sent_at: datetime) -> bytes:
    """The JSON body for the ended run in outbox ``row``, sent at ``sent_at``."""
    run = run_to_api(row)
    body = {
        **run,
        "kwargs": {**run["kwargs"], "config": run_config(row)},
        "run_started_at": row["started_at"],
        "run_ended_at": row["ended_at"],
        "webhook_sent_at": sent_at,
        "values": row["values"],
    }
    if row["error"] is not None:
        body["error"] = row["error"]
    return dumps(body)


async def send(client: httpx.AsyncClient, config: WebhookConfig, row: Any) -> Attempt:
    """POST the webhook of outbox ``row`` once with ``client`` (see
    :func:`~shared.webhooks.transport.webhook_client`); never raises for the receiver's or
    the network's failures, which are returned in the :class:`Attempt`."""
    sent_at = datetime.now(UTC)
    body = webhook_body(row, sent_at)
    headers = httpx.Headers({"Content-Type": "application/json"})
    headers.update(config.headers)  # case-insensitive: a configured Content-Type replaces ours
    headers.update(
        signature_headers(
            config.signing_key, str(row["delivery_id"]), int(sent_at.timestamp()), body
        )
    )
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    retryable = True
    try:
        async with asyncio.timeout(config.delivery.timeout_seconds):
            async with client.stream("POST", row["url"], content=body, headers=headers) as answer:
                status_code = answer.status_code
    except WebhookRefused as exc:
        error, retryable = exc.detail, False
    except TimeoutError:
        error = f"no answer within {config.delivery.timeout_seconds:g}s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - started) * 1000
    if status_code is not None and not 200 <= status_code < 300:
        retryable = status_code >= 500 or status_code in RETRIED_STATUSES
        error = f"HTTP {status_code}" + (
            " (redirects are not followed)" if 300 <= status_code < 400 else ""
        )
    return Attempt(sent_at, status_code, latency_ms, error, retryable)


def next_step(config: WebhookConfig, attempt_no: int, result: Attempt) -> tuple[str, float]:
    """``(outcome, retry_in_seconds)`` after attempt ``attempt_no`` (1-based): ``delivered``,
    ``retry`` after an exponential backoff with jitter, or ``failed``."""
    if result.delivered:
        return "delivered", 0.0
    policy = config.delivery.retry
    if result.retryable and attempt_no < policy.max_attempts:
        return "retry", retry_delay(policy, attempt_no)
    return "failed", 0.0
