"""``haizhou users`` and ``haizhou audit verify`` through the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from haizhou.cli import audit as audit_cli
from haizhou.cli import users as users_cli
from haizhou.cli.main import app as main_app
from haizhou.cli.main import root as main_root

PASSWORD = "a long enough passphrase"


def haizhou_app() -> typer.Typer:
    """The real root command; until `audit` is wired into it, a copy of its root with both groups."""
    if "audit" in {group.name for group in main_app.registered_groups}:
        return main_app
    root = typer.Typer(pretty_exceptions_enable=False)
    root.callback()(main_root)
    root.add_typer(users_cli.app, name="users")
    root.add_typer(audit_cli.app, name="audit")
    return root


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    app = haizhou_app()

    def invoke(*args: str, stdin: str | None = None, url: str | None = None):  # type: ignore[no-untyped-def]
        root = ["--data-dir", str(tmp_path)] + (["--database-url", url] if url else [])
        return runner.invoke(app, [*root, *args], input=stdin, env={"HAIZHOU_DATABASE_URL": None})

    return invoke


def test_add_list_and_verify(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    url = None if database_url.startswith("sqlite") else database_url
    added = run(
        "users",
        "add",
        "li.wei",
        "--role",
        "analyst",
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
        url=url,
    )
    assert added.exit_code == 0, added.output
    user = json.loads(added.stdout)
    assert (
        user["username"] == "li.wei"
        and user["role"] == "analyst"
        and user["role_zh"] == "研判分析员"
    )
    assert user["jurisdiction_code"] is None and user["active"] is True
    assert PASSWORD not in added.output

    station = run(
        "users",
        "add",
        "王芳",
        "--role",
        "station_officer",
        "--jurisdiction",
        "320703001",
        "--password-stdin",
        stdin=PASSWORD + "\n",
        url=url,
    )
    assert station.exit_code == 0, station.output
    assert "派出所民警" in station.output and "320703001" in station.output

    listed = run("users", "list", "--json", url=url)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["role"], r["jurisdiction_code"]) for r in rows] == [
        ("li.wei", "analyst", None),
        ("王芳", "station_officer", "320703001"),
    ]
    assert all("password" not in key for row in rows for key in row)

    table = run("users", "list", url=url)
    assert table.exit_code == 0 and "li.wei" in table.stdout and "研判分析员" in table.stdout

    verified = run("audit", "verify", "--json", url=url)
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert (report["ok"], report["checked"], report["head"]["entries"]) == (True, 2, 2)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "analyst", "--password-stdin"], "short\n", "at least 10"),
        (["--role", "chief", "--password-stdin"], PASSWORD + "\n", "unknown role 'chief'"),
        (
            ["--role", "station_officer", "--password-stdin"],
            PASSWORD + "\n",
            "needs a jurisdiction",
        ),
        (["--role", "analyst", "--password-stdin"], "", "standard input is empty"),
        (["--role", "analyst"], "", "pass --password-stdin"),
    ],
)
def test_bad_input_is_one_clear_line(run, args: list[str], stdin: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run("users", "add", "zhao", *args, stdin=stdin)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_duplicate_user(run) -> None:  # type: ignore[no-untyped-def]
    assert (
        run("users", "add", "zhao", "--role", "admin", "--password-stdin", stdin=PASSWORD).exit_code
        == 0
    )
    again = run("users", "add", "ZHAO", "--role", "auditor", "--password-stdin", stdin=PASSWORD)
    assert again.exit_code == 1 and "already exists" in again.output


def test_empty_list_and_empty_log(run) -> None:  # type: ignore[no-untyped-def]
    listed = run("users", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    verified = run("audit", "verify")
    assert verified.exit_code == 0 and "0 entries verified" in verified.output


def test_verify_names_the_tampered_entry(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("a.one", "b.two", "c.three"):
        assert (
            run(
                "users", "add", name, "--role", "analyst", "--password-stdin", stdin=PASSWORD
            ).exit_code
            == 0
        )
    with sqlite3.connect(tmp_path / "haizhou.db") as conn:
        (second,) = conn.execute("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1").fetchone()
        conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = ?", (second,))
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert f"entry {second}" in result.output
    as_json = run("audit", "verify", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert (report["ok"], report["first_broken_id"], report["checked"]) == (False, second, 1)
