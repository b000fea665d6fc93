"""How a new assistant version's ``config`` and ``context`` are derived (kept mirrored)."""

from __future__ import annotations

import pytest

from shared.api.common import Config
from shared.errors import BadRequest
from shared.services.assistants import settings


def test_configurable_fills_context() -> None:
    config, context = settings(Config(configurable={"a": 1}, tags=["t"]), None, {}, {})
    assert config == {"configurable": {"a": 1}, "tags": ["t"]}
    assert context == {"a": 1}


def test_context_fills_configurable() -> None:
    config, context = settings(Config(tags=["t"]), {"a": 1}, {}, {})
    assert config == {"tags": ["t"], "configurable": {"a": 1}}
    assert context == {"a": 1}


def test_both_given_is_rejected() -> None:
    with pytest.raises(BadRequest):
        settings(Config(configurable={"a": 1}), {"b": 2}, {}, {})


def test_nothing_given_keeps_current_values() -> None:
    current = {"configurable": {"a": 1}, "tags": ["t"]}
    assert settings(None, None, current, {"a": 1}) == (current, {"a": 1})


def test_new_config_keeps_current_context_mirrored() -> None:
    config, context = settings(
        Config(recursion_limit=5), None, {"configurable": {"a": 1}}, {"a": 1}
    )
    assert config == {"recursion_limit": 5, "configurable": {"a": 1}}
    assert context == {"a": 1}


def test_empty_context_clears_configurable() -> None:
    config, context = settings(None, {}, {"configurable": {"a": 1}}, {"a": 1})
    assert config == {"configurable": {}} and context == {}


def test_no_settings_stay_empty() -> None:
    assert settings(None, None, {}, {}) == ({}, {})
    assert settings(Config(), None, {}, {}) == ({}, {})
