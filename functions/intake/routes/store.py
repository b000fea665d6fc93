"""Store endpoints: ``/store/items``, ``/store/items/search``, ``/store/namespaces``.

Source: Agent Server API, "Store".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors
from shared.api.store import (
    Item,
    Namespaces,
    SearchItems,
    StoreDelete,
    StoreGet,
    StoreNamespaceList,
    StorePut,
    StoreSearch,
)
from shared.services import store as service

router = APIRouter(tags=["store"], route_class=EdgeRoute)


@router.put("/store/items", status_code=204, response_class=Response)
async def put_item(body: StorePut, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Store or replace an item (``ttl`` in minutes; ``index`` picks the embedded fields)."""
    await service.put_item(rt, ctx, body)
    return Response(status_code=204)


@router.get("/store/items", responses={200: {"model": Item | None}, **errors(400)})
async def get_item(query: Annotated[StoreGet, Query()], rt: RuntimeDep, ctx: CtxDep) -> Response:
    """One item, or ``null`` (200) when absent; 400 without ``key``."""
    return Json(await service.get_item(rt, ctx, query))


@router.delete("/store/items", status_code=204, response_class=Response)
async def delete_item(body: StoreDelete, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Delete an item (204 also when it does not exist)."""
    await service.delete_item(rt, ctx, body)
    return Response(status_code=204)


@router.post("/store/items/search", responses={200: {"model": SearchItems}})
async def search_items(body: StoreSearch, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Items under a namespace prefix, filtered, paged, or ranked by ``query``."""
    return Json(await service.search_items(rt, ctx, body))


@router.post("/store/namespaces", responses={200: {"model": Namespaces}})
async def list_namespaces(body: StoreNamespaceList, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Namespaces matching ``prefix``/``suffix``, cut to ``max_depth``."""
    return Json(await service.list_namespaces(rt, ctx, body))
