"""Cron bodies: what goes into a cron's payload, patch semantics, and the run a firing
creates from a stored cron."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.api.crons import PAYLOAD_FIELDS, CronCreate, CronPatch, ThreadCronCreate
from shared.api.runs import RunCreateStateful, RunCreateStateless
from shared.services.crons import _run_body


def test_payload_holds_the_run_fields_only() -> None:
    assert {"input", "config", "context", "metadata", "stream_mode", "webhook"} <= PAYLOAD_FIELDS
    assert {"interrupt_before", "interrupt_after", "durability", "multitask_strategy"} <= (
        PAYLOAD_FIELDS
    )
    assert not {"schedule", "timezone", "end_time", "enabled", "on_run_completed"} & (
        PAYLOAD_FIELDS
    )


def test_stateless_crons_delete_their_threads_by_default() -> None:
    assert CronCreate(assistant_id="echo", schedule="* * * * *").on_run_completed == "delete"
    assert "on_run_completed" not in ThreadCronCreate.model_fields


def test_a_naive_end_time_is_utc() -> None:
    body = CronCreate(assistant_id="echo", schedule="* * * * *", end_time=datetime(2030, 1, 1))
    assert body.end_time == datetime(2030, 1, 1, tzinfo=UTC)


def test_patch_tells_a_null_end_time_from_a_missing_one() -> None:
    assert CronPatch.model_validate({"end_time": None}).model_fields_set == {"end_time"}
    assert CronPatch.model_validate({"enabled": False}).model_fields_set == {"enabled"}


@pytest.mark.parametrize("body", [{"schedule": "nope"}, {"timezone": "Nowhere/Land"}])
def test_patch_validates_schedule_and_timezone(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CronPatch.model_validate(body)


def _cron(thread_id: uuid.UUID | None, on_run_completed: str | None) -> dict[str, Any]:
    return {
        "cron_id": uuid.uuid4(),
        "thread_id": thread_id,
        "on_run_completed": on_run_completed,
        "payload": {
            "assistant_id": str(uuid.uuid4()),
            "input": {"items": []},
            "metadata": {"a": 1},
            "multitask_strategy": "reject",
        },
    }


def test_a_stateless_firing_follows_on_run_completed_and_names_its_cron() -> None:
    cron = _cron(None, "keep")
    body = _run_body(cron)  # type: ignore[arg-type]
    assert type(body) is RunCreateStateless
    assert body.on_completion == "keep" and body.input == {"items": []}
    assert body.metadata == {"a": 1, "cron_id": str(cron["cron_id"])}


def test_a_thread_firing_uses_the_payload_multitask_strategy() -> None:
    body = _run_body(_cron(uuid.uuid4(), None))  # type: ignore[arg-type]
    assert type(body) is RunCreateStateful and body.multitask_strategy == "reject"
    assert _run_body(_cron(None, None)).on_completion == "delete"  # type: ignore[arg-type]
