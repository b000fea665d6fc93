"""Cron schedules: which expressions are accepted, and the next due time in a timezone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.api.crons import check_schedule, next_run_after, zone


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("* * * * *", "* * * * *"),
        ("  */5 1-3 * * mon-fri ", "*/5 1-3 * * mon-fri"),
        ("@daily", "@daily"),
    ],
)
def test_five_field_schedules_and_aliases_are_accepted(given: str, kept: str) -> None:
    assert check_schedule(given) == kept


@pytest.mark.parametrize(
    "schedule",
    ["", "* * * *", "0 * * * * *", "61 * * * *", "* * * * 9", "every minute", "0 0 30 2 *"],
)
def test_other_schedules_are_refused(schedule: str) -> None:
    with pytest.raises(ValueError):
        check_schedule(schedule)


def test_next_run_is_strictly_after_the_given_time() -> None:
    on_the_minute = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert next_run_after("* * * * *", None, on_the_minute) == datetime(
        2030, 1, 1, 12, 1, tzinfo=UTC
    )
    assert next_run_after("*/15 * * * *", None, on_the_minute.replace(second=1)) == datetime(
        2030, 1, 1, 12, 15, tzinfo=UTC
    )


def test_next_run_reads_the_schedule_in_its_timezone_across_daylight_saving() -> None:
    winter = next_run_after("0 9 * * *", "America/New_York", datetime(2030, 1, 1, tzinfo=UTC))
    summer = next_run_after("0 9 * * *", "America/New_York", datetime(2030, 7, 1, tzinfo=UTC))
    assert winter == datetime(2030, 1, 1, 14, 0, tzinfo=UTC)
    assert summer == datetime(2030, 7, 1, 13, 0, tzinfo=UTC)
    assert winter is not None and winter.utcoffset() is not None
    assert winter.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_unknown_timezones_are_refused_and_none_is_utc() -> None:
    assert zone(None).key == "UTC"
    for name in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ValueError):
            zone(name)
