"""``haizhou backup`` and ``haizhou restore`` (备份与恢复) of the store.

SQLite: an online copy (SQLite's backup API). PostgreSQL: ``pg_dump``/``pg_restore`` when
installed, else (or with ``--portable``) a portable gzip'd JSON-lines dump that also restores
into the other back end. See :mod:`haizhou.jobs.backup`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.jobs.backup import backup, restore
from haizhou.store.migrate import safe_url

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def register(app: typer.Typer) -> None:
    """Add ``haizhou backup`` and ``haizhou restore`` to the root app."""

    @app.command("backup")
    @friendly_errors
    def backup_command(
        ctx: typer.Context,
        out: Annotated[Path, typer.Option("--out", help="The backup file to write.")],
        portable: Annotated[
            bool,
            typer.Option(
                "--portable", help="Portable JSON-lines dump (restores into SQLite or PostgreSQL)."
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Back up the store to a file while the platform runs."""
        url = get_settings(ctx).resolved_database_url
        result = backup(url, out, portable=portable)
        if as_json:
            print_json(result.to_dict())
        else:
            console.print(
                f"backed up {safe_url(url)} to [bold]{out}[/] ({result.format}, "
                f"{result.bytes:,} bytes)",
                highlight=False,
            )

    @app.command("restore")
    @friendly_errors
    def restore_command(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="A file written by `haizhou backup`.")],
        yes: Annotated[
            bool, typer.Option("--yes", help="Replace the store's contents without asking.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Replace the store's contents by a backup. Stop the API and the workers first."""
        url = get_settings(ctx).resolved_database_url
        if not yes and not typer.confirm(f"Replace everything in {safe_url(url)} by {file}?"):
            raise typer.Exit(1)
        result = restore(url, file)
        if as_json:
            print_json(result.to_dict())
        else:
            console.print(f"restored {safe_url(url)} from [bold]{file}[/] ({result.format})")
