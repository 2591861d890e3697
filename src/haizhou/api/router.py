"""The API under ``/api``: one router per capability, mounted here.

Public: ``GET /api/health`` and ``POST /api/auth/login`` (plus the documentation at
``/api/docs`` and ``/api/openapi.json``). Every other router is included in
:data:`protected`, whose dependency answers 401 without a valid session (and 403 for an
unsafe method without the CSRF header), so a new router cannot forget the check.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from haizhou.api.deps import get_current_user
from haizhou.api.routes import airspace as airspace_routes
from haizhou.api.routes import auth, health, map
from haizhou.api.routes import instructions as instruction_routes
from haizhou.api.routes import jobs as job_routes
from haizhou.api.routes import kpis as kpi_routes
from haizhou.api.routes import models as model_routes
from haizhou.api.routes import reports as report_routes
from haizhou.api.routes import scenarios as scenario_routes
from haizhou.api.routes import sensing as sensing_routes
from haizhou.api.routes import series as series_routes
from haizhou.api.routes import supervision as supervision_routes

PUBLIC_PATHS = frozenset({"/api/health", "/api/auth/login", "/api/docs", "/api/openapi.json"})
"""Paths that answer without a session; every other ``/api/`` route answers 401."""

protected = APIRouter(dependencies=[Depends(get_current_user)])
protected.include_router(auth.router)
protected.include_router(map.router)
protected.include_router(sensing_routes.router)
protected.include_router(airspace_routes.router)
protected.include_router(scenario_routes.router)
protected.include_router(instruction_routes.router)
protected.include_router(instruction_routes.map_router)
protected.include_router(instruction_routes.notifications_router)
protected.include_router(supervision_routes.router)
protected.include_router(kpi_routes.router)
protected.include_router(report_routes.router)
protected.include_router(model_routes.router)
protected.include_router(series_routes.router)
protected.include_router(series_routes.map_router)
protected.include_router(job_routes.router)

api_router = APIRouter(prefix="/api")
api_router.include_router(health.router)
api_router.include_router(auth.public_router)
api_router.include_router(protected)
api_router.include_router(airspace_routes.live_router)  # WebSocket: checks its own session
