"""``haizhou db upgrade | current | check`` with CliRunner, on both back ends.

(Lives in tests/store/ because tests/cli/ is shared; move it there when the lead wishes.)
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.store import migrate
from haizhou.store.engine import make_engine

runner = CliRunner()
HEAD = migrate.head()


def _db(url: str, *args: str):
    return runner.invoke(app, ["--database-url", url, "db", *args])


def test_upgrade_json_reports_from_and_to_and_is_idempotent(database_url: str) -> None:
    first = _db(database_url, "upgrade", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["from"] is None and report["to"] == HEAD and report["head"] == HEAD
    assert report["backend"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")

    again = json.loads(_db(database_url, "upgrade", "--json").stdout)
    assert (again["from"], again["to"]) == (HEAD, HEAD)


def test_upgrade_human_output(sqlite_url: str) -> None:
    result = _db(sqlite_url, "upgrade")
    assert result.exit_code == 0
    assert f"upgraded from empty to {HEAD}" in result.output
    assert f"is already at {HEAD}" in _db(sqlite_url, "upgrade").output


def test_current_before_and_after_upgrade(database_url: str) -> None:
    before = json.loads(_db(database_url, "current", "--json").stdout)
    assert before["revision"] is None and before["up_to_date"] is False
    assert f"none (head is {HEAD}: run `haizhou db upgrade`)" in _db(database_url, "current").stdout

    _db(database_url, "upgrade")

    after = json.loads(_db(database_url, "current", "--json").stdout)
    assert after == {**after, "revision": HEAD, "head": HEAD, "up_to_date": True}
    assert _db(database_url, "current").stdout.strip() == f"{HEAD} (head)"


def test_check_exit_code_follows_differences(database_url: str) -> None:
    empty = _db(database_url, "check", "--json")
    assert empty.exit_code == 1
    assert json.loads(empty.stdout)["ok"] is False

    _db(database_url, "upgrade")
    clean = _db(database_url, "check", "--json")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["differences"] == []

    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_sensors_kind"))
    engine.dispose()
    drifted = _db(database_url, "check")
    assert drifted.exit_code == 1
    assert "add_index: ix_sensors_kind on sensors(kind)" in drifted.output


def test_upgrade_to_a_named_revision(sqlite_url: str) -> None:
    result = _db(sqlite_url, "upgrade", "--revision", "0001", "--json")
    assert json.loads(result.stdout)["to"] == "0001"
    behind = _db(sqlite_url, "current")
    assert behind.stdout.strip() == f"0001 (head is {HEAD}: run `haizhou db upgrade`)"
    assert "expects" in _db(sqlite_url, "check").output


def test_unreachable_database_is_one_line_not_a_traceback() -> None:
    result = _db("postgresql+psycopg://u:topsecret@127.0.0.1:1/x?connect_timeout=2", "current")
    assert result.exit_code == 1
    assert "cannot open the database postgresql+psycopg://u:***@127.0.0.1:1/x" in result.output
    assert "Traceback" not in result.output and "topsecret" not in result.output


def test_unknown_revision_is_one_line(sqlite_url: str) -> None:
    result = _db(sqlite_url, "upgrade", "--revision", "9999")
    assert result.exit_code == 1
    assert "upgrade to 9999 failed" in result.output
    assert "Traceback" not in result.output
