"""``POST /cloudevents``: runs requested by CloudEvents from other systems (lg-deploy extension).

Takes one ``dev.lgdeploy.run.create`` CloudEvent in binary or structured HTTP mode (as Knative
sources, brokers and triggers deliver) and answers ``202`` with the created run once it is
committed; the same event delivered again returns the same run (``202 {"run_id"}`` only, when
that run is gone: a stateless run goes at its end). ``400`` when the request is not
such a CloudEvent or its ``data`` is not a valid run request (the detail says why); ``404`` /
``409`` / ``422`` as the REST run creation does.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, error_response, errors
from shared.api.runs import Run
from shared.cloud_events.http import InvalidEvent, parse
from shared.services.run_events_in import create_run_from_event

router = APIRouter(tags=["cloudevents"], route_class=EdgeRoute)


@router.post(
    "/cloudevents",
    status_code=202,
    responses={202: {"model": Run}, **errors(400, 404, 409)},
)
async def receive_cloudevent(request: Request, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Create the run a ``dev.lgdeploy.run.create`` CloudEvent asks for (README: "Starting runs
    with CloudEvents")."""
    try:
        event = parse(dict(request.headers), await request.body())
        run = await create_run_from_event(rt, ctx, event)
    except InvalidEvent as exc:
        return error_response(400, str(exc))
    return Json(run, status_code=202)
