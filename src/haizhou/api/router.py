"""The API under ``/api``: one router per capability, mounted here.

Public: ``GET /api/health`` and ``POST /api/auth/login`` (plus the documentation at
``/api/docs`` and ``/api/openapi.json``). Every other router is included in
:data:`protected`, whose dependency answers 401 without a valid session (and 403 for an
unsafe method without the CSRF header), so a new router cannot forget the check.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from haizhou.api.deps import get_current_user
from haizhou.api.routes import auth, health, map

PUBLIC_PATHS = frozenset({"/api/health", "/api/auth/login", "/api/docs", "/api/openapi.json"})
"""Paths that answer without a session; every other ``/api/`` route answers 401."""

protected = APIRouter(dependencies=[Depends(get_current_user)])
protected.include_router(auth.router)
protected.include_router(map.router)

api_router = APIRouter(prefix="/api")
api_router.include_router(health.router)
api_router.include_router(auth.public_router)
api_router.include_router(protected)
