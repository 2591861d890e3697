"""The API under ``/api``: one router per capability, mounted here."""

from __future__ import annotations

from fastapi import APIRouter

from haizhou.api.routes import health

api_router = APIRouter(prefix="/api")
api_router.include_router(health.router)
