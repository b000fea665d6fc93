"""Run request models store ``stream_mode`` as a list, whether given or defaulted."""

from __future__ import annotations

from shared.api.runs import RunCreateStateful


def test_stream_mode_is_always_a_deduplicated_list() -> None:
    assert RunCreateStateful(assistant_id="a").stream_mode == ["values"]
    assert RunCreateStateful(assistant_id="a", stream_mode="updates").stream_mode == ["updates"]
    body = RunCreateStateful(assistant_id="a", stream_mode=["custom", "values", "custom"])
    assert body.stream_mode == ["custom", "values"]
