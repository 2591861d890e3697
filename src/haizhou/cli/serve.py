"""``haizhou serve``: upgrade the schema, then serve the web app and API with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from haizhou.cli._common import console, friendly_errors, get_settings
from haizhou.settings import Settings
from haizhou.store import migrate

PACKAGE_DIR = Path(__file__).resolve().parents[1]
APP_FACTORY = "haizhou.api.app:app_from_environment"
"""``haizhou.api.app.create_app`` applied to settings read from ``HAIZHOU_*`` variables."""


def settings_environment(settings: Settings) -> dict[str, str]:
    """``HAIZHOU_*`` variables from which :func:`~haizhou.settings.load_settings` rebuilds
    ``settings`` exactly (every field that is set)."""
    values = settings.model_dump(exclude_none=True)
    values["data_dir"] = settings.data_dir.resolve()  # the child may start elsewhere
    return {f"HAIZHOU_{name.upper()}": str(value) for name, value in values.items()}


def run_server(
    settings: Settings, *, host: str | None = None, port: int | None = None, reload: bool = False
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

    Raises
    ------
    haizhou.store.migrate.MigrationError
        If the database cannot be opened or upgraded; nothing is served then.
    """
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    url = settings.resolved_database_url
    revision = migrate.upgrade(url)
    console.print(
        f"Database {migrate.safe_url(url)} at schema {revision}. Serving on "
        f"http://{settings.host}:{settings.port} (API docs: /api/docs).",
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
    ) -> None:
        """Serve the platform (web app, API, docs at /api/docs) after upgrading the schema."""
        run_server(get_settings(ctx), host=host, port=port, reload=reload)
