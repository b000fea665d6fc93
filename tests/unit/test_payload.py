"""The edge check of client JSON (``shared.api.payload``) and the 422 answer that reports it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from functions.intake.responses import validation_error_handler
from shared.api.payload import INT64_MAX, INT64_MIN, MAX_DEPTH, Unstorable, check, loads


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, "é", True, None]},
        {"lo": INT64_MIN, "hi": INT64_MAX},
        deep(MAX_DEPTH),
        "\U0001f600",  # a pair of surrogates in JSON, one code point in Python
    ],
)
def test_storable_values_pass_unchanged(value: Any) -> None:
    assert check(value) is value


@pytest.mark.parametrize(
    ("value", "loc", "reason"),
    [
        ({"a": [0, INT64_MAX + 1]}, ("a", 1), "64 bits"),
        ({"a": INT64_MIN - 1}, ("a",), "64 bits"),
        ({"a": {"b": "x\x00"}}, ("a", "b"), "NUL"),
        ({"k\x00": 1}, ("k\x00",), "NUL"),
        ({"a": "\ud800"}, ("a",), "surrogates"),
        ({"\udc00": 1}, ("\\udc00",), "surrogates"),
        ([float("nan")], (0,), "finite"),
        (deep(MAX_DEPTH + 1), (0,) * MAX_DEPTH, f"{MAX_DEPTH} levels"),
    ],
)
def test_unstorable_values_are_refused_with_where_and_why(
    value: Any, loc: tuple[Any, ...], reason: str
) -> None:
    with pytest.raises(Unstorable) as refused:
        check(value)
    assert refused.value.loc == loc and reason in refused.value.reason


def test_loads_refuses_what_the_decoder_itself_cannot_nest() -> None:
    with pytest.raises(Unstorable, match=f"{MAX_DEPTH} levels"):
        loads("[" * 100_000 + "]" * 100_000)
    with pytest.raises(json.JSONDecodeError):
        loads(b"{")


class _Body(BaseModel):
    n: str


def test_the_422_answer_never_fails_on_the_input_it_reports() -> None:
    bad_input = {"n": 2**70, "k": "\ud800"}
    with pytest.raises(ValidationError) as invalid:
        _Body.model_validate(bad_input)
    exc = RequestValidationError(invalid.value.errors())
    response = asyncio.run(validation_error_handler(None, exc))  # type: ignore[arg-type]
    assert response.status_code == 422
    (problem,) = json.loads(response.body)["detail"]
    assert problem["loc"] == ["n"] and problem["type"] == "string_type"
