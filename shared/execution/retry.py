"""When and after how long a run whose graph raised is tried again (its ``retry_policy``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from shared.api.runs import RetryPolicy


def should_retry(policy: RetryPolicy | None, attempt: int, exc: BaseException) -> bool:
    """Whether attempt ``attempt`` (1-based), which raised ``exc``, is followed by another."""
    if policy is None or attempt >= policy.max_attempts:
        return False
    return policy.retry_on is None or type(exc).__name__ in policy.retry_on


def retry_delay(
    policy: RetryPolicy, attempt: int, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): exponential, capped, and
    with ``jitter`` drawn from ``[delay / 2, delay]``."""
    delay = min(
        policy.initial_delay_seconds * policy.backoff_factor ** (attempt - 1),
        policy.max_delay_seconds,
    )
    return delay * (0.5 + 0.5 * rand()) if policy.jitter else delay


def policy_of(kwargs: dict[str, Any]) -> RetryPolicy | None:
    """The retry policy stored in a run's kwargs, if any."""
    raw = kwargs.get("retry_policy")
    return RetryPolicy.model_validate(raw) if raw else None
