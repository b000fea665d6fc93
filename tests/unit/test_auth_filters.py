"""A custom auth handler's filter as one ``metadata @> …`` containment
(:mod:`shared.auth.filters`): every form ``langgraph_sdk.auth.types.FilterType`` documents, and
the refusal of what one containment cannot say without widening access."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth.filters import UnsupportedFilter, containment


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {}),
        ({"owner": "alice"}, {"owner": "alice"}),
        ({"owner": {"$eq": "alice"}}, {"owner": "alice"}),
        ({"level": 3, "public": False, "gone": None}, {"level": 3, "public": False, "gone": None}),
        ({"members": {"$contains": "alice"}}, {"members": ["alice"]}),
        ({"members": {"$contains": ["alice", "bob"]}}, {"members": ["alice", "bob"]}),
        (
            {"owner": "org-1", "members": {"$contains": "alice"}},
            {"owner": "org-1", "members": ["alice"]},
        ),
        (
            {"$and": [{"owner": "alice"}, {"members": {"$contains": "bob"}}]},
            {"owner": "alice", "members": ["bob"]},
        ),
        (
            {"members": {"$contains": "a"}, "$and": [{"members": {"$contains": ["b", "a"]}}]},
            {"members": ["a", "b"]},
        ),
        ({"owner": "alice", "$and": [{"owner": {"$eq": "alice"}}]}, {"owner": "alice"}),
    ],
    ids=[
        "empty",
        "equality",
        "$eq",
        "scalars of every JSON type",
        "$contains one",
        "$contains several",
        "several keys (AND)",
        "$and",
        "$and joining two $contains",
        "$and repeating an equality",
    ],
)
def test_documented_filters_become_one_containment(filters: Any, expected: Any) -> None:
    assert containment(filters) == expected


@pytest.mark.parametrize(
    ("filters", "problem"),
    [
        ({"$or": [{"owner": "a"}, {"owner": "b"}]}, "'$or' is not supported"),
        ({"owner": {"$ne": "a"}}, "'$ne' is not supported"),
        ({"owner": {"$eq": "a", "$contains": "b"}}, "one operator per key"),
        ({"owner": ["a"]}, "compares with a list"),
        ({"owner": {"$eq": {"id": "a"}}}, "compares with a dict"),
        ({"members": {"$contains": [["a"]]}}, "compares with a list"),
        ({"$and": [{"owner": "a"}, {"owner": "b"}]}, "two different values"),
        ({"owner": "a", "$and": [{"owner": {"$contains": "a"}}]}, "two different values"),
        ({"$and": {"owner": "a"}}, "must be a list of filters"),
    ],
    ids=[
        "$or",
        "unknown operator",
        "two operators",
        "equality with a list",
        "equality with an object",
        "$contains of a list of lists",
        "$and asking two values",
        "$and mixing equality and $contains",
        "$and not a list",
    ],
)
def test_what_one_containment_cannot_say_is_refused(filters: Any, problem: str) -> None:
    with pytest.raises(UnsupportedFilter, match=problem.replace("$", r"\$")):
        containment(filters)
