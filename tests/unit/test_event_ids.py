"""``Last-Event-ID`` parsing of run and thread streams (:mod:`shared.streams.follow`)."""

from __future__ import annotations

import pytest

from shared.errors import Invalid
from shared.streams.follow import RUN_SHIFT, run_cursor, thread_cursor


def test_run_ids_resume_after_the_seq_and_minus_one_replays_all() -> None:
    assert run_cursor(None) is None
    assert run_cursor("") is None
    assert run_cursor("-1") == 0
    assert run_cursor("7") == 7
    assert run_cursor("1732170000000-0") == 1732170000000  # the official dev server's form


def test_thread_ids_accept_dash_and_reject_out_of_range() -> None:
    assert thread_cursor(None) is None
    assert thread_cursor("-") == thread_cursor("-1") == 0
    assert thread_cursor(str(3 << RUN_SHIFT | 4)) == 3 << RUN_SHIFT | 4
    with pytest.raises(Invalid):
        thread_cursor(str(1 << 96))


@pytest.mark.parametrize("value", ["abc", "-5", "1-2-3", "x-0"])
def test_malformed_ids_are_invalid(value: str) -> None:
    with pytest.raises(Invalid):
        run_cursor(value)
    with pytest.raises(Invalid):
        thread_cursor(value)
