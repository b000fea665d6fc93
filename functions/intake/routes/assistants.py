"""Assistant endpoints: ``/assistants*``. Source: Agent Server API, "Assistants"."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["assistants"])
