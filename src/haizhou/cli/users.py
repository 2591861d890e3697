"""``haizhou users``: add and list user accounts (用户账号)."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.errors import HaizhouError
from haizhou.security import audit
from haizhou.security.roles import Role
from haizhou.security.users import create_user, list_users
from haizhou.store.engine import make_engine
from haizhou.store.tables import Base, UserRow

_ROLES_HELP = ", ".join(f"{r.value} ({r.title_zh})" for r in Role)

app = typer.Typer(
    help="User accounts (用户账号): add an account, list accounts.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _ensure_schema(url: str) -> Engine:
    """An engine on ``url`` with the schema in place.

    Prefers the migrations (:func:`haizhou.store.migrate.upgrade`, safe to run again and
    concurrently); without them, creates the tables from the metadata.
    """
    try:
        from haizhou.store import migrate
    except ImportError:  # pragma: no cover - the migrations module ships with the package
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        return engine
    migrate.upgrade(url)
    return make_engine(url)


def cli_actor() -> str:
    """Who acts when the command line is used: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"[:100]
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli:unknown"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise HaizhouError(
                "--password-stdin was given but standard input is empty; pipe the password in"
            )
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise HaizhouError(
            "no terminal to ask for the password; pass --password-stdin and pipe it in"
        )
    return typer.prompt("Password (口令)", hide_input=True, confirmation_prompt=True)


def _user_json(user: UserRow) -> dict[str, Any]:
    role = Role(user.role)
    return {
        "id": user.id,
        "username": user.username,
        "role": role.value,
        "role_zh": role.title_zh,
        "jurisdiction_code": user.jurisdiction_code,
        "active": user.active,
        "created_at": user.created_at.astimezone(UTC).isoformat(),
    }


@app.command("add")
@friendly_errors
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Username: letters (Chinese too), digits, . _ @ -.")],
    role: Annotated[str, typer.Option("--role", help=f"Role (角色): {_ROLES_HELP}.")],
    jurisdiction: Annotated[
        str | None,
        typer.Option(
            "--jurisdiction",
            help="Jurisdiction code (辖区代码); required for station_officer. "
            "Without it the user is bureau-level and sees every jurisdiction.",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of standard input (for scripts). "
            "Without it the password is asked for twice on the terminal.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a user account (新增用户). The password must have at least 10 characters."""
    settings = get_settings(ctx)
    password = _read_password(password_stdin)
    engine = _ensure_schema(settings.resolved_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            user = create_user(
                session=session,
                username=name,
                password=password,
                role=role,
                jurisdiction_code=jurisdiction,
            )
            audit.record(
                session=session,
                actor=cli_actor(),
                action="user.create",
                target=user.username,
                detail={"role": user.role, "jurisdiction_code": user.jurisdiction_code},
                at=datetime.now(UTC),
            )
            result = _user_json(user)
    finally:
        engine.dispose()
    if as_json:
        print_json(result)
        return
    where = result["jurisdiction_code"] or "all jurisdictions (全局)"
    console.print(
        f"Added user {result['username']} — {result['role_zh']} ({result['role']}), {where}.",
        highlight=False,
        soft_wrap=True,
    )


@app.command("list")
@friendly_errors
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List user accounts (用户列表), active and deactivated."""
    settings = get_settings(ctx)
    engine = _ensure_schema(settings.resolved_database_url)
    try:
        with Session(engine) as session:
            users = [_user_json(user) for user in list_users(session=session)]
    finally:
        engine.dispose()
    if as_json:
        print_json(users)
        return
    if not users:
        console.print("No users yet. Add one with `haizhou users add NAME --role admin`.")
        return
    table = Table(title="Users (用户)")
    for column in ("Username", "Role (角色)", "Jurisdiction (辖区)", "Active", "Created"):
        table.add_column(column)
    for user in users:
        created = datetime.fromisoformat(user["created_at"]).astimezone(settings.zone)
        table.add_row(
            user["username"],
            f"{user['role_zh']} ({user['role']})",
            user["jurisdiction_code"] or "全局 (all)",
            "yes" if user["active"] else "no",
            created.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)  # stdout, for this invocation
