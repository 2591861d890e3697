"""The API under ``/api``: one router per capability, mounted here.

Public: ``GET /api/health`` and ``POST /api/auth/login`` (plus the documentation at
``/api/docs`` and ``/api/openapi.json``). Every router of :data:`PROTECTED` is mounted with
the dependency that answers 401 without a valid session (and 403 for an unsafe method without
the CSRF header), so a new router cannot forget the check: add it to :data:`PROTECTED`.

:func:`include_api` mounts each router on the app directly, under ``/api``, rather than
through an ``/api`` router holding a protected router holding the capability routers: FastAPI
resolves included routers on every request, walking each nesting level again, and the two
extra levels cost about a tenth of the CPU of a small request.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

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

PREFIX = "/api"

PUBLIC_PATHS = frozenset({"/api/health", "/api/auth/login", "/api/docs", "/api/openapi.json"})
"""Paths that answer without a session; every other ``/api/`` route answers 401."""

PUBLIC: tuple[APIRouter, ...] = (health.router, auth.public_router)
"""Routers answering without a session."""

PROTECTED: tuple[APIRouter, ...] = (
    auth.router,
    map.router,
    sensing_routes.router,
    airspace_routes.router,
    scenario_routes.router,
    instruction_routes.router,
    instruction_routes.map_router,
    instruction_routes.notifications_router,
    supervision_routes.router,
    kpi_routes.router,
    report_routes.router,
    model_routes.router,
    series_routes.router,
    series_routes.map_router,
    job_routes.router,
)
"""Routers behind the session check (:func:`haizhou.api.deps.get_current_user`)."""

OWN_CHECK: tuple[APIRouter, ...] = (airspace_routes.live_router,)
"""Routers that check the session themselves (the airspace WebSocket)."""


def include_api(app: FastAPI) -> None:
    """Mount every router of the API on ``app`` under ``/api``, in this order: public,
    protected (with the session check), those with their own check."""
    for router in PUBLIC:
        app.include_router(router, prefix=PREFIX)
    for router in PROTECTED:
        app.include_router(router, prefix=PREFIX, dependencies=[Depends(get_current_user)])
    for router in OWN_CHECK:
        app.include_router(router, prefix=PREFIX)
