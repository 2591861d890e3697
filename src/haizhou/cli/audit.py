"""``haizhou audit``: verify the hash-chained audit log (审计日志校验)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.cli.users import _ensure_schema
from haizhou.security import audit

app = typer.Typer(
    help="Audit log (审计日志): verify that no entry was changed or deleted.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@app.command("verify")
@friendly_errors
def verify_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check every entry's hash and link, and the chain's head.

    Exit code 0 when the log is intact; 1 when it is not, naming the first broken entry.
    """
    settings = get_settings(ctx)
    engine = _ensure_schema(settings.resolved_database_url)
    try:
        with Session(engine) as session:
            result = audit.verify(session=session)
            top = audit.head(session=session)
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "first_broken_id": result.first_broken_id,
                "reason": result.reason,
                "head": None
                if top is None
                else {"entries": top.entries, "last_id": top.last_id, "last_hash": top.last_hash},
            }
        )
        if not result.ok:
            raise typer.Exit(1)
        return
    if result.ok:
        anchor = f"; head hash {top.last_hash}" if top is not None and top.entries else ""
        console.print(
            f"Audit log intact (审计日志完整): {result.checked} entries verified{anchor}.",
            highlight=False,
            soft_wrap=True,
        )
        return
    verified = f"{result.checked} {'entry' if result.checked == 1 else 'entries'}"
    console.print(
        f"[bold red]Audit log broken (审计日志被篡改):[/] {result.reason} "
        f"({verified} before it verified intact).",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)
