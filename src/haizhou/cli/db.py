"""``haizhou db``: upgrade, show and check the database schema (数据库结构迁移)."""

from __future__ import annotations

from typing import Annotated

import typer

from haizhou.cli._common import (
    console,
    friendly_errors,
    get_pseudonymiser,
    get_settings,
    print_json,
)
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


@app.command("rescrub")
@friendly_errors
def rescrub_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would change; write nothing.")
    ] = False,
    table: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this table (repeatable): incidents, cases, sensors, persons, "
            "fraud_warnings, jurisdictions."
        ),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per transaction.")] = 2000,
    as_json: JsonOption = False,
) -> None:
    """Mask identifiers left in clear in stored free text (存量文本再脱敏).

    Applies today's scrubbing (ID numbers, mobiles, landlines, plates, also dashed or in
    full-width digits) to every free-text column the importer scrubs, for records imported
    before it found them all. Safe to run again: masked text is left as it is. The counts are
    recorded in the audit log.
    """
    from datetime import UTC, datetime

    from haizhou.cli.users import cli_actor
    from haizhou.ingest.rescrub import rescrub_store
    from haizhou.security import audit
    from haizhou.store.engine import make_engine, make_sessionmaker

    url = get_settings(ctx).resolved_database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        report = rescrub_store(
            engine, get_pseudonymiser(ctx), batch=batch, dry_run=dry_run, tables=table
        )
        if not dry_run:
            with make_sessionmaker(engine)() as session:
                audit.record(
                    session=session,
                    actor=cli_actor(),
                    action="privacy.rescrub",
                    target=None,
                    detail=report.to_dict(),
                    at=datetime.now(UTC),
                )
                session.commit()
    finally:
        engine.dispose()
    if as_json:
        print_json(report.to_dict())
        return
    verb = "would change" if dry_run else "changed"
    console.print(
        f"Read {sum(report.rows.values()):,} rows; {verb} {report.total_changed:,} values.",
        highlight=False,
    )
    for label, n in sorted(report.changed.items()):
        console.print(f"  {label}: {n:,}", highlight=False, markup=False)
