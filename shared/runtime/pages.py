"""Pages of search endpoints (``…/search``): items, the real total, the next page's offset."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

Json = dict[str, Any]


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
        if select:
            items = [{k: item[k] for k in select} for item in items]
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
