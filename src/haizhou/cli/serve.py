"""``haizhou serve``: upgrade the schema, then serve the web app and API with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from haizhou.cli._common import console, friendly_errors, get_settings
from haizhou.errors import InputError
from haizhou.settings import Settings
from haizhou.store import migrate

PACKAGE_DIR = Path(__file__).resolve().parents[1]
WORKER_HEALTHCHECK_S = 120
APP_FACTORY = "haizhou.api.app:app_from_environment"
"""``haizhou.api.app.create_app`` applied to settings read from ``HAIZHOU_*`` variables."""


def settings_environment(settings: Settings) -> dict[str, str]:
    """``HAIZHOU_*`` variables from which :func:`~haizhou.settings.load_settings` rebuilds
    ``settings`` exactly (every field that is set)."""
    values = settings.model_dump(exclude_none=True)
    values["data_dir"] = settings.data_dir.resolve()  # the child may start elsewhere
    return {f"HAIZHOU_{name.upper()}": str(value) for name, value in values.items()}


def run_server(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    reload: bool = False,
    workers: int = 1,
    access_log: bool = True,
) -> None:
    """Upgrade the schema, then serve ``create_app(settings)`` with uvicorn until stopped.

    Parameters
    ----------
    settings
        Validated settings; ``host`` and ``port`` default to theirs.
    host, port
        Address to listen on, overriding the settings.
    reload
        Restart when the code changes (development only).
    workers
        Worker processes sharing the port (each builds its own app and map index); more than
        one cannot be combined with ``reload``.
    access_log
        Log one line per request (off under heavy load saves a little CPU a request).

    Raises
    ------
    haizhou.store.migrate.MigrationError
        If the database cannot be opened or upgraded; nothing is served then.
    """
    if workers < 1:
        raise InputError(f"--workers {workers}: need at least one worker process")
    if workers > 1 and reload:
        raise InputError("--reload works with one worker only; drop --workers or --reload")
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    url = settings.resolved_database_url
    revision = migrate.upgrade(url)
    console.print(
        f"Database {migrate.safe_url(url)} at schema {revision}. Serving on "
        f"http://{settings.host}:{settings.port} (API docs: /api/docs)"
        + (f" with {workers} worker processes." if workers > 1 else "."),
        highlight=False,
        soft_wrap=True,
    )
    # The layer contract keeps cli and api independent, so the app is named by its import
    # string, which uvicorn needs anyway for --reload; the factory rebuilds these very
    # settings from HAIZHOU_* variables, in this process or in the reloader's child.
    os.environ.update(settings_environment(settings))
    os.environ.pop("HAIZHOU_CONFIG", None)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        reload=reload,
        reload_dirs=[str(PACKAGE_DIR)] if reload else None,
        workers=workers,
        access_log=access_log,
        # Each worker imports the app before it answers uvicorn's health ping; on a busy
        # machine that takes longer than uvicorn's 5 s, which would kill and respawn it.
        **({"timeout_worker_healthcheck": WORKER_HEALTHCHECK_S} if workers > 1 else {}),
    )


def register(app: typer.Typer) -> None:
    """Add the `serve` command to the root app."""

    @app.command("serve")
    @friendly_errors
    def serve(
        ctx: typer.Context,
        host: Annotated[
            str | None, typer.Option(help="Address to listen on. Env: HAIZHOU_HOST.")
        ] = None,
        port: Annotated[
            int | None, typer.Option(min=1, max=65535, help="Port. Env: HAIZHOU_PORT.")
        ] = None,
        reload: Annotated[
            bool, typer.Option(help="Restart when the code changes (development only).")
        ] = False,
        workers: Annotated[
            int,
            typer.Option(
                min=1,
                max=64,
                help="Worker processes sharing the port (about one per CPU core).",
            ),
        ] = 1,
        access_log: Annotated[bool, typer.Option(help="Log one line per request.")] = True,
    ) -> None:
        """Serve the platform (web app, API, docs at /api/docs) after upgrading the schema."""
        run_server(
            get_settings(ctx),
            host=host,
            port=port,
            reload=reload,
            workers=workers,
            access_log=access_log,
        )
