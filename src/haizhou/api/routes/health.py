"""``GET /api/health`` (健康检查): is the service up, and is its database usable?"""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from haizhou import __version__
from haizhou.api.deps import SessionDep, SettingsDep
from haizhou.api.schemas.health import HealthCounts, HealthProblem, HealthPublic
from haizhou.store.repositories.status import database_status

router = APIRouter(prefix="/health", tags=["health"])


@router.get(
    "",
    response_model=HealthPublic,
    summary="Service and database health",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthProblem}},
)
def read_health(session: SessionDep, settings: SettingsDep) -> HealthPublic | JSONResponse:
    """Version, database back end, schema revision and row counts of the main tables.

    503 with a ``reason`` when the database does not answer or its schema is not the one this
    version expects (run ``haizhou db upgrade``).
    """
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    try:
        found = database_status(session=session)
    except (OperationalError, DBAPIError) as exc:
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()
        return _unavailable(
            backend,
            None,
            f"the database does not answer ({detail[0] if detail else type(exc).__name__}); "
            "check HAIZHOU_DATABASE_URL and that the database server is running",
        )
    if found.counts is None:
        return _unavailable(
            found.backend,
            found.revision,
            f"the database schema is at {found.revision or 'no revision (empty)'} but this "
            f"version expects {found.expected_revision}; run `haizhou db upgrade`",
        )
    return HealthPublic(
        version=__version__,
        database="sqlite" if found.backend == "sqlite" else "postgresql",
        schema_revision=found.expected_revision,
        counts=HealthCounts(**found.counts),
    )


def _unavailable(backend: str, revision: str | None, reason: str) -> JSONResponse:
    problem = HealthProblem(
        version=__version__, database=backend, schema_revision=revision, reason=reason
    )
    return JSONResponse(problem.model_dump(), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
