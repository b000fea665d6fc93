"""Pages of search endpoints (``…/search``): items, the real total, the next page's offset;
and ``select``, which keeps only some fields of each item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import Invalid

Json = dict[str, Any]


def check_select(select: Sequence[str] | None, fields: Iterable[str]) -> None:
    """Refuse ``select`` names that are not in ``fields``, with the detail the official
    server's ``GET /threads/{thread_id}/runs`` gives (``Invalid select columns: [...].
    Expected: {...}``). Raises :class:`Invalid` (422)."""
    allowed = list(fields)
    invalid = [name for name in select or () if name not in allowed]
    if invalid:
        expected = ", ".join(repr(name) for name in allowed)
        raise Invalid(f"Invalid select columns: {invalid}. Expected: {{{expected}}}")


def selected(item: Json, select: Sequence[str] | None) -> Json:
    """``item`` with only the fields named in ``select`` (all without one), in the item's
    own order; a field the item lacks stays absent (the official server's ``select``)."""
    if not select:
        return item
    return {k: v for k, v in item.items() if k in select}


@dataclass
class Page:
    """One page of a search: its items, the number of all matches, the next page's offset
    (``None`` on the last page). Sent with ``X-Pagination-Total``/``X-Pagination-Next``."""

    items: list[Json]
    total: int
    next_offset: int | None

    @classmethod
    def of(cls, items: list[Json], total: int, offset: int, select: Sequence[str] | None) -> Page:
        """The page of ``items`` found at ``offset``, cut to the ``select`` fields if given."""
        items = [selected(item, select) for item in items]
        end = offset + len(items)
        return cls(items, total, end if end < total else None)


async def search_page(
    pool: asyncpg.Pool,
    search: Callable[..., Awaitable[list[asyncpg.Record]]],
    count: Callable[[asyncpg.Connection, Any], Awaitable[int]],
    where: Any,
    body: Any,
    to_api: Callable[[asyncpg.Record], Json],
) -> Page:
    """Run a table's ``search(conn, where, sort_by=, sort_order=, limit=, offset=)`` and
    ``count(conn, where)`` on one connection and make the :class:`Page` of ``body`` (a
    :class:`~shared.api.common.Sorting` and :class:`~shared.api.common.Pagination`)."""
    sort_by, sort_order = body.order()
    async with pool.acquire() as conn:
        rows = await search(
            conn,
            where,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=body.limit,
            offset=body.offset,
        )
        total = await count(conn, where)
    return Page.of([to_api(r) for r in rows], total, body.offset, body.select)
