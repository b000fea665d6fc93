"""Endpoints of the crons API (issue 3; being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["crons"])
