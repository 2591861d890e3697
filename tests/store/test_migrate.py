"""Migrations on both back ends: upgrade, idempotence, check, downgrade, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from haizhou.store import migrate
from haizhou.store.engine import make_engine
from haizhou.store.tables import metadata

EXPECTED_TABLES = set(migrate.complete_metadata().tables)
HEAD = migrate.head()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _version_rows(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            ]
    finally:
        engine.dispose()


def test_scripts_form_one_linear_chain_from_0001() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert chain[:2] == ["0001", "0002"]
    assert chain[-1] == HEAD
    assert (migrate.MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert not (migrate.MIGRATIONS_DIR / "alembic.ini").exists()


def test_every_table_module_is_in_the_metadata_the_migrations_use() -> None:
    assert {
        "incidents",
        "cases",
        "jurisdictions",
        "sensors",
        "findings",
        "audit_head",
    } <= EXPECTED_TABLES
    assert set(metadata.tables) == EXPECTED_TABLES  # same object, now complete


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    assert migrate.current(database_url) is None
    assert _tables(database_url) == set()

    assert migrate.upgrade(database_url) == HEAD

    assert _tables(database_url) == EXPECTED_TABLES | {"alembic_version"}
    assert migrate.current(database_url) == HEAD
    assert _version_rows(database_url) == [HEAD]


def test_upgrade_step_by_step_reaches_the_same_schema(database_url: str) -> None:
    assert migrate.upgrade(database_url, "0001") == "0001"
    assert "audit_head" not in _tables(database_url)
    assert migrate.upgrade(database_url, "+1") == "0002"
    assert migrate.upgrade(database_url) == HEAD
    assert migrate.check(database_url) == []


def test_upgrade_is_idempotent_and_keeps_data(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO jurisdictions (code, name, station, source, content_hash) "
                "VALUES ('320703', 'Haizhou', 'Xinpu', 'test', '')"
            )
        )
    engine.dispose()

    assert migrate.upgrade(database_url) == HEAD
    assert migrate.upgrade(database_url, "head") == HEAD

    assert _version_rows(database_url) == [HEAD]
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT code FROM jurisdictions")).scalars().all() == ["320703"]
    engine.dispose()


def test_check_reports_no_difference_after_upgrade(database_url: str) -> None:
    """The CI equivalent of ``alembic check``: models and migrations agree on both back ends."""
    migrate.upgrade(database_url)
    assert migrate.check(database_url) == []


def test_check_on_an_empty_database_says_to_upgrade(database_url: str) -> None:
    problems = migrate.check(database_url)
    assert len(problems) == 1
    assert "none (empty)" in problems[0]
    assert "haizhou db upgrade" in problems[0]


def test_check_reports_drift_between_models_and_database(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_incidents_h3_r9"))
        conn.execute(sa.text("ALTER TABLE sensors ADD COLUMN stray_note VARCHAR(10)"))
    engine.dispose()

    problems = migrate.check(database_url)

    assert sorted(problems) == [
        "add_index: ix_incidents_h3_r9 on incidents(h3_r9)",
        "remove_column: sensors.stray_note",
    ]


def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(database_url: str) -> None:
    migrate.upgrade(database_url)

    assert migrate.downgrade(database_url, "base") is None

    assert _tables(database_url) <= {"alembic_version"}
    assert migrate.current(database_url) is None
    assert migrate.upgrade(database_url) == HEAD
    assert migrate.check(database_url) == []


def test_unknown_revision_is_a_clear_error(sqlite_url: str) -> None:
    with pytest.raises(migrate.MigrationError, match=r"upgrade to nope failed on sqlite.*'nope'"):
        migrate.upgrade(sqlite_url, "nope")
    assert migrate.current(sqlite_url) is None


def test_unreachable_database_names_the_url_without_password() -> None:
    url = "postgresql+psycopg://haizhou:s3cret@127.0.0.1:1/haizhou?connect_timeout=2"
    with pytest.raises(migrate.DatabaseUnreachableError) as info:
        migrate.current(url)
    message = str(info.value)
    assert "haizhou:***@127.0.0.1:1/haizhou" in message
    assert "s3cret" not in message
    assert "HAIZHOU_DATABASE_URL" in message


_RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from haizhou.store import migrate
    go = Path(sys.argv[2])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.005)
    print(migrate.upgrade(sys.argv[1]), flush=True)
    """
)


@pytest.mark.slow
def test_two_processes_upgrading_at_once_both_succeed(database_url: str, tmp_path: Path) -> None:
    """Without the migration lock one racer fails with 'table ... already exists'."""
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, database_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for racer in racers:  # both imported and waiting at the start line
        assert racer.stdout is not None
        assert racer.stdout.readline().strip() == "ready"
    go.touch()
    outcomes = [racer.communicate(timeout=120) for racer in racers]

    for racer, (out, err) in zip(racers, outcomes, strict=True):
        assert racer.returncode == 0, err
        assert out.strip() == HEAD
    assert _version_rows(database_url) == [HEAD]
    assert migrate.check(database_url) == []


def test_sqlite_engine_is_in_wal_mode(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    with closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
