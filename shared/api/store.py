"""Request and response models of the store endpoints (``/store/*``).

Source: Agent Server API, "Store" (bodies and query parameters as ``langgraph_sdk`` 0.4 sends
them). Namespace labels are non-empty and contain no ``.`` (the store joins them with ``.``).
Values were checked where they entered (:mod:`shared.api.payload`: what ``jsonb`` can hold).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from shared.api.common import Model, Offset, Pagination
from shared.api.payload import INT32_MAX

FILTER_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})


MIN_TTL_MINUTES, MAX_TTL_MINUTES = 1 / 60, 100 * 366 * 24 * 60
"""Item ``ttl`` bounds: one second to 100 years (``null`` keeps an item for ever); what the
store can write as a PostgreSQL ``interval`` of seconds."""


def _label(label: str) -> str:
    if not label or "." in label:
        raise ValueError(f"namespace label {label!r} must be non-empty and contain no '.'")
    return label


def _filter(conditions: dict[str, Any] | None) -> dict[str, Any] | None:
    """Operator objects (``{"$gt": 3}``) checked; a plain object becomes ``{"$eq": object}``."""
    if conditions is None:
        return None
    normalized: dict[str, Any] = {}
    for field, condition in conditions.items():
        operators = isinstance(condition, dict) and any(k.startswith("$") for k in condition)
        if not operators:
            normalized[field] = {"$eq": condition} if isinstance(condition, dict) else condition
            continue
        unknown = sorted(set(condition) - FILTER_OPERATORS)
        if unknown:
            raise ValueError(
                f"filter on {field!r}: unknown operator(s) {unknown}; "
                f"use {sorted(FILTER_OPERATORS)} or a plain value"
            )
        normalized[field] = condition
    return normalized


Label = Annotated[str, AfterValidator(_label)]


class StorePut(Model):
    """``PUT /store/items``: upsert ``value`` at ``namespace``/``key``.

    ``index``: ``false`` (not embedded), field paths to embed, or ``null`` (the configured
    ``store.index.fields``). ``ttl``: minutes to live (one second to 100 years); omitted →
    ``store.ttl.default_ttl``, ``null`` → no expiry.
    """

    namespace: list[Label] = Field(..., min_length=1)
    key: str
    value: dict[str, Any]
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(None, ge=MIN_TTL_MINUTES, le=MAX_TTL_MINUTES)


class StoreGet(Model):
    """``GET /store/items`` query: ``namespace`` as labels joined with ``.`` (or repeated),
    ``key`` (required; missing → 400) and ``refresh_ttl`` (``null`` → store default)."""

    namespace: list[str] = []
    key: str | None = None
    refresh_ttl: bool | None = None

    @field_validator("namespace")
    @classmethod
    def _split(cls, values: list[str]) -> list[str]:
        return [_label(part) for value in values if value for part in value.split(".")]


class StoreDelete(Model):
    """``DELETE /store/items`` body; deleting a missing item is fine."""

    namespace: list[Label] = []
    key: str


class StoreSearch(Pagination):
    """``POST /store/items/search``: items under ``namespace_prefix``, newest update first, or
    by similarity to ``query`` when ``store.index`` is configured.

    ``filter`` matches top-level value fields: a plain value (equality) or an object of
    operators ``$eq $ne $gt $gte $lt $lte`` (range operators compare values of one JSON type).
    """

    namespace_prefix: list[Label] | None = None
    filter: Annotated[dict[str, Any] | None, AfterValidator(_filter)] = None
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreNamespaceList(Model):
    """``POST /store/namespaces``: namespaces matching ``prefix``/``suffix`` (``*`` matches
    one label), cut to ``max_depth`` labels and deduplicated, in order."""

    prefix: list[Label] | None = None
    suffix: list[Label] | None = None
    max_depth: int | None = Field(None, ge=1, le=INT32_MAX)
    limit: int = Field(100, ge=1, le=1000)
    offset: Offset = 0


class Item(BaseModel):
    """A stored item."""

    namespace: list[str]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class SearchItem(Item):
    """An item found by a search; ``score`` is the similarity to ``query`` (else ``null``)."""

    score: float | None = None


class SearchItems(BaseModel):
    """Response of ``POST /store/items/search``."""

    items: list[SearchItem]


class Namespaces(BaseModel):
    """Response of ``POST /store/namespaces``."""

    namespaces: list[list[str]]
