"""Backoff and retry decisions of :mod:`shared.execution.retry`."""

from __future__ import annotations

from shared.api.runs import RetryPolicy
from shared.execution.retry import retry_delay, should_retry


def test_delay_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(
        initial_delay_seconds=1, backoff_factor=3, max_delay_seconds=10, jitter=False
    )
    assert [retry_delay(policy, n) for n in (1, 2, 3, 4)] == [1, 3, 9, 10]


def test_jitter_stays_between_half_and_full_delay() -> None:
    policy = RetryPolicy(initial_delay_seconds=4, jitter=True)
    assert retry_delay(policy, 1, rand=lambda: 0.0) == 2.0
    assert retry_delay(policy, 1, rand=lambda: 1.0) == 4.0


def test_retries_stop_at_max_attempts_and_follow_retry_on() -> None:
    policy = RetryPolicy(max_attempts=2, retry_on=["ConnectionError"])
    assert should_retry(policy, 1, ConnectionError())
    assert not should_retry(policy, 2, ConnectionError())
    assert not should_retry(policy, 1, ValueError())
    assert not should_retry(None, 1, ConnectionError())
