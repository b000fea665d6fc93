"""``GET /admin/audit``: the audit log of the caller's tenant (lg-deploy extension; README
"Audit log"). Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import errors, paginated
from shared.api.audit import AuditEntry, AuditQuery
from shared.services import audit as service

router = APIRouter(tags=["admin"], route_class=EdgeRoute)


@router.get("/admin/audit", responses={200: {"model": list[AuditEntry]}, **errors(403)})
async def list_audit(
    query: Annotated[AuditQuery, Query()], rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """Audit rows of the caller's tenant, newest first, filtered by ``action`` and time
    (``since`` inclusive, ``until`` exclusive, ISO 8601, UTC without a time zone); headers
    ``X-Pagination-Total`` and ``X-Pagination-Next``. 403 below the ``admin`` role."""
    page = await service.list_audit(rt, ctx, query)
    return paginated(page.items, page.total, page.next_offset)
