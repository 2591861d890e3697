"""Monthly partitions on the real PostgreSQL: upgrade, placement, new months, downgrade."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from haizhou.store import migrate
from haizhou.store.engine import make_engine
from haizhou.streams.partitions import (
    drop_partitions_before,
    ensure_month_partitions,
    is_partitioned,
    partitions,
)

T_OCT = datetime(2026, 10, 15, 12, tzinfo=UTC)
T_NOV = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)  # last second of November, UTC
T_OLD = datetime(2019, 3, 1, tzinfo=UTC)


def _insert_sightings(conn: sa.Connection, times: list[datetime]) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO sightings (pseudo_id, id_kind, sensor_id, seen_at) "
            "VALUES (:p, 'device', 's1', :t)"
        ),
        [{"p": f"p{i}", "t": t} for i, t in enumerate(times)],
    )


def _where(conn: sa.Connection, table: str, column: str) -> dict[str, str]:
    rows = conn.execute(
        sa.text(f"SELECT tableoid::regclass::text, {column} FROM {table} ORDER BY {column}")
    ).all()
    return {r[1].astimezone(UTC).isoformat(): r[0].split(".")[-1] for r in rows}


def test_upgrade_partitions_keeps_rows_and_places_them_by_month(postgres_url: str) -> None:
    migrate.upgrade(postgres_url, "0011")
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            _insert_sightings(conn, [T_OCT, T_NOV])
            assert not is_partitioned(conn, "sightings")
        migrate.upgrade(postgres_url)
        with engine.begin() as conn:
            assert is_partitioned(conn, "sightings")
            assert is_partitioned(conn, "airspace_messages")
            placed = _where(conn, "sightings", "seen_at")
            assert placed == {
                T_OCT.isoformat(): "sightings_p2026_10",
                T_NOV.isoformat(): "sightings_p2026_11",
            }
            # a new row of a month not created yet goes to the default partition
            _insert_sightings(conn, [T_OLD])
            assert _where(conn, "sightings", "seen_at")[T_OLD.isoformat()] == "sightings_pdefault"
            # ids keep counting from the old sequence; the idempotency key still holds
            ids = conn.scalars(sa.text("SELECT id FROM sightings ORDER BY id")).all()
            assert ids == [1, 2, 3]
            conn.execute(
                sa.text(
                    "INSERT INTO sightings (pseudo_id, id_kind, sensor_id, seen_at) VALUES "
                    "('p0', 'device', 's1', :t) ON CONFLICT (pseudo_id, seen_at, sensor_id) "
                    "DO NOTHING"
                ),
                {"t": T_OCT},
            )
            assert conn.scalar(sa.text("SELECT count(*) FROM sightings")) == 3
        # the models' schema is unchanged as far as the application sees it
        assert migrate.check(postgres_url) == []
    finally:
        engine.dispose()


def test_ensure_month_partitions_moves_rows_out_of_the_default(postgres_url: str) -> None:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            _insert_sightings(conn, [T_OLD])
            assert _where(conn, "sightings", "seen_at")[T_OLD.isoformat()] == "sightings_pdefault"
            created = ensure_month_partitions(conn, months_ahead=1, today=date(2019, 3, 9))
            assert any(c.endswith("sightings_p2019_03") for c in created)
            assert any(c.endswith("airspace_messages_p2019_04") for c in created)
            assert _where(conn, "sightings", "seen_at")[T_OLD.isoformat()] == "sightings_p2019_03"
            assert ensure_month_partitions(conn, months_ahead=1, today=date(2019, 3, 9)) == []
            dropped = drop_partitions_before(conn, datetime(2019, 4, 1, tzinfo=UTC))
            assert sorted(d.split(".")[-1] for d in dropped) == [
                "airspace_messages_p2019_03",
                "sightings_p2019_03",
            ]
            assert conn.scalar(sa.text("SELECT count(*) FROM sightings")) == 0
    finally:
        engine.dispose()


def test_airspace_messages_are_partitioned_by_receive_time(postgres_url: str) -> None:
    migrate.upgrade(postgres_url)  # from empty: this month and three ahead, plus the default
    now = datetime.now(UTC).replace(microsecond=0)
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO airspace_messages (received_at, transport, sensor_id, kind, "
                    "payload) VALUES (:t, 'mqtt', 'rid-1', 'remoteid', '\\x01')"
                ),
                [{"t": now}, {"t": T_OLD}],
            )
            assert _where(conn, "airspace_messages", "received_at") == {
                now.isoformat(): f"airspace_messages_p{now:%Y_%m}",
                T_OLD.isoformat(): "airspace_messages_pdefault",
            }
            months = [p.month for p in partitions(conn, "airspace_messages")]
            assert len(months) == 5 and months[-1] is None
    finally:
        engine.dispose()


def test_downgrade_restores_plain_tables_with_their_rows(postgres_url: str) -> None:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            _insert_sightings(conn, [T_OCT, T_NOV, T_OLD])
            schema = conn.scalar(sa.text("SELECT current_schema()"))
            assert partitions(conn, "sightings")[-1].month is None  # default last
        migrate.downgrade(postgres_url, "0011")
        with engine.begin() as conn:
            assert not is_partitioned(conn, "sightings")
            assert not is_partitioned(conn, "airspace_messages")
            assert conn.scalar(sa.text("SELECT count(*) FROM sightings")) == 3
            gone = conn.scalar(
                sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"),
                {"s": f"{schema}_partitions"},
            )
            assert gone == 0
            pk = conn.scalar(
                sa.text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = 'pk_sightings' AND connamespace = "
                    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
                )
            )
            assert pk == "PRIMARY KEY (id)"
            _insert_sightings(conn, [datetime(2026, 1, 1, tzinfo=UTC)])  # sequence still works
        migrate.upgrade(postgres_url)  # and up again
        with engine.begin() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM sightings")) == 4
        assert migrate.check(postgres_url) == []
    finally:
        engine.dispose()


def test_partitions_command_creates_months_ahead_and_drops_old_ones(
    postgres_url: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from haizhou.cli.main import app

    migrate.upgrade(postgres_url)
    env = {"HAIZHOU_DATABASE_URL": postgres_url, "HAIZHOU_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    first = runner.invoke(app, ["stream", "partitions", "--months-ahead", "5", "--json"], env=env)
    assert first.exit_code == 0, first.output
    created = json.loads(first.stdout)["created"]
    assert len(created) == 2 * 2  # months 4 and 5 ahead, for both tables
    again = runner.invoke(app, ["stream", "partitions", "--months-ahead", "5", "--json"], env=env)
    assert json.loads(again.stdout)["created"] == []
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            ensure_month_partitions(conn, months_ahead=0, today=date(2020, 1, 5))
        out = runner.invoke(
            app, ["stream", "partitions", "--drop-older-than-days", "365", "--json"], env=env
        )
        dropped = json.loads(out.stdout)["dropped"]
        assert sorted(d.split(".")[-1] for d in dropped) == [
            "airspace_messages_p2020_01",
            "sightings_p2020_01",
        ]
    finally:
        engine.dispose()


def test_scheduler_keeps_the_partitions_once_a_day(postgres_url: str, tmp_path: Path) -> None:
    """``haizhou models schedule`` creates the coming months and drops sightings months past
    the retention; airspace messages (evidence) keep every month."""
    from typer.testing import CliRunner

    from haizhou.cli.main import app

    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            ensure_month_partitions(conn, months_ahead=0, today=date(2020, 1, 5))
            ahead = [p for p in partitions(conn, "sightings") if p.month is not None][-1]
            conn.execute(sa.text(f"DROP TABLE {ahead.name}"))  # the furthest month is missing
        env = {
            "HAIZHOU_DATABASE_URL": postgres_url,
            "HAIZHOU_DATA_DIR": str(tmp_path),
            "HAIZHOU_SIGHTINGS_RETENTION_DAYS": "30",
        }
        out = CliRunner().invoke(app, ["models", "schedule", "--once", "--json"], env=env)
        upkeep = [json.loads(line) for line in out.stdout.splitlines() if '"partitions"' in line]
        assert len(upkeep) == 1, out.output
        assert [c.split(".")[-1] for c in upkeep[0]["partitions"]["created"]] == [
            ahead.name.split(".")[-1]
        ]
        assert [d.split(".")[-1] for d in upkeep[0]["partitions"]["dropped"]] == [
            "sightings_p2020_01"
        ]
        with engine.begin() as conn:
            kept = [p.month for p in partitions(conn, "airspace_messages")]
            assert date(2020, 1, 1) in kept
            conn.execute(sa.text(f"DROP TABLE {ahead.name}"))
        quiet = CliRunner().invoke(
            app, ["models", "schedule", "--once", "--json", "--no-maintain"], env=env
        )
        assert '"partitions"' not in quiet.stdout, quiet.output
        with engine.begin() as conn:
            assert ahead.month not in [p.month for p in partitions(conn, "sightings")]
    finally:
        engine.dispose()
