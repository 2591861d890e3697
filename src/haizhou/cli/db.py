"""``haizhou db``: upgrade, show and check the database schema (数据库结构迁移)."""

from __future__ import annotations

from typing import Annotated

import typer

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.store import migrate

app = typer.Typer(
    help="Database schema (数据库结构): upgrade it, show its revision, check it against the code.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@app.command("upgrade")
@friendly_errors
def upgrade_command(
    ctx: typer.Context,
    revision: Annotated[
        str, typer.Option(help="Target revision: 'head' (newest) or a revision id.")
    ] = "head",
    as_json: JsonOption = False,
) -> None:
    """Migrate the database to REVISION (default: newest). Safe to run again, or concurrently."""
    url = get_settings(ctx).resolved_database_url
    before = migrate.current(url)
    after = migrate.upgrade(url, revision)
    if as_json:
        print_json(
            {
                "database": migrate.safe_url(url),
                "backend": _backend(url),
                "from": before,
                "to": after,
                "head": migrate.head(),
            }
        )
    elif before == after:
        console.print(
            f"Database {migrate.safe_url(url)} is already at {after}.",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"Database {migrate.safe_url(url)} upgraded from {before or 'empty'} to {after}.",
            highlight=False,
            soft_wrap=True,
        )


@app.command("current")
@friendly_errors
def current_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the schema revision the database is at, and the newest this version knows."""
    url = get_settings(ctx).resolved_database_url
    revision, head = migrate.current(url), migrate.head()
    if as_json:
        print_json(
            {
                "database": migrate.safe_url(url),
                "backend": _backend(url),
                "revision": revision,
                "head": head,
                "up_to_date": revision == head,
            }
        )
        return
    if revision == head:
        typer.echo(f"{revision} (head)")
    else:
        typer.echo(f"{revision or 'none'} (head is {head}: run `haizhou db upgrade`)")


@app.command("check")
@friendly_errors
def check_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Compare the database with the table models, like `alembic check`. Exit 1 on differences."""
    url = get_settings(ctx).resolved_database_url
    differences = migrate.check(url)
    if as_json:
        print_json(
            {
                "database": migrate.safe_url(url),
                "backend": _backend(url),
                "ok": not differences,
                "differences": differences,
            }
        )
    elif differences:
        console.print(f"[bold red]{len(differences)} difference(s)[/] between models and database:")
        for line in differences:
            console.print(f"  - {line}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(
            f"Database {migrate.safe_url(url)} matches the models.", highlight=False, soft_wrap=True
        )
    if differences:
        raise typer.Exit(1)
