"""The web application (Web 应用): :func:`create_app` builds it from :class:`Settings`.

Nothing happens at import: the engine and session factory are built inside
:func:`create_app` and kept on ``app.state`` (``settings``, ``engine``, ``sessionmaker``), so a
test or a second app never touches another's database (fastapi/fastapi#3242). The schema is
not migrated here; ``haizhou serve`` upgrades it before starting, and ``GET /api/health``
answers 503 while it is behind.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from haizhou import __version__
from haizhou.api.auth import SessionLookup
from haizhou.api.metrics import install_metrics
from haizhou.api.router import include_api
from haizhou.api.security_headers import SecurityHeadersMiddleware
from haizhou.errors import HaizhouError, InputError
from haizhou.jobs.logs import configure_logging
from haizhou.settings import Settings
from haizhou.store.engine import make_engine, make_sessionmaker

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Where the built web app goes (``web/`` is built by Vite into this folder)."""

DOCS_URL = "/api/docs"
OPENAPI_URL = "/api/openapi.json"


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids ``{tag}-{name}`` (e.g. ``health-read_health``) for generated clients."""
    tag = route.tags[0] if route.tags else "api"
    return f"{tag}-{route.name}"


def create_app(settings: Settings, *, static_dir: Path | None = None) -> FastAPI:
    """Build the Haizhou web application.

    Parameters
    ----------
    settings
        Validated settings; ``settings.resolved_database_url`` picks SQLite or PostgreSQL.
    static_dir
        Folder of the built web app; default :data:`STATIC_DIR`. It is served at ``/`` when it
        holds an ``index.html``; otherwise ``/`` is a small page pointing to the API docs.

    Returns
    -------
    fastapi.FastAPI
        The app, with ``app.state.settings``, ``app.state.engine``,
        ``app.state.sessionmaker`` and ``app.state.session_lookup``. The engine is disposed
        when the app shuts down.
    """
    settings.check_production()
    if settings.log_format == "json":
        configure_logging("json")
    engine = make_engine(settings.resolved_database_url)
    session_lookup = SessionLookup(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        session_lookup.close()
        engine.dispose()

    app = FastAPI(
        title="Haizhou 海州",
        summary="Data-driven public safety for a police bureau (数据驱动的公共安全平台).",
        version=__version__,
        openapi_url=OPENAPI_URL,
        docs_url=DOCS_URL,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.session_lookup = session_lookup

    app.add_middleware(
        SecurityHeadersMiddleware, docs_paths={DOCS_URL, f"{DOCS_URL}/oauth2-redirect"}
    )
    app.add_exception_handler(HaizhouError, _haizhou_error)
    install_metrics(app, public=settings.metrics_public)
    include_api(app)

    folder = STATIC_DIR if static_dir is None else static_dir
    if (folder / "index.html").is_file():
        app.mount("/", StaticFiles(directory=folder, html=True), name="web")
    else:
        app.add_api_route(
            "/",
            _landing_page,
            methods=["GET"],
            include_in_schema=False,
            response_class=HTMLResponse,
        )
    return app


async def _haizhou_error(_request: Request, exc: Exception) -> JSONResponse:
    """Haizhou's own errors become one readable line, never a traceback."""
    code = 422 if isinstance(exc, InputError) else 400
    return JSONResponse({"detail": str(exc)}, status_code=code)


def _landing_page() -> HTMLResponse:
    """The page at ``/`` until the web app is built into the static folder."""
    version = html.escape(__version__)
    return HTMLResponse(
        f"""<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>Haizhou 海州</title></head>
<body>
<h1>海州 Haizhou {version}</h1>
<p>接口服务已启动。The API is up.</p>
<ul>
<li><a href="{DOCS_URL}">接口文档 API documentation</a></li>
<li><a href="{OPENAPI_URL}">OpenAPI</a></li>
<li><a href="/api/health">健康检查 Health</a></li>
</ul>
<p>网页端尚未构建。The web app is not built into this installation yet.</p>
</body>
</html>
"""
    )


def app_from_environment() -> FastAPI:
    """An app built from ``HAIZHOU_*`` variables; the factory ``haizhou serve --reload`` uses."""
    from haizhou.settings import load_settings

    return create_app(load_settings())
