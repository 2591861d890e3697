"""``haizhou airspace area load|permit`` and ``haizhou airspace run`` through Typer's CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.feeds.messages import FeedMessage
from haizhou.feeds.recorder import store_message
from haizhou.feeds.synthetic import remote_id_pack
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables.airspace import AirspaceMessageRow, AirspacePermitRow, AirspaceZoneRow

runner = CliRunner()


def _cli(tmp_path: Path, *args: str):
    return runner.invoke(
        app, ["--data-dir", str(tmp_path / "data"), "--database-url", _url(tmp_path), *args]
    )


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'air.db'}"


def test_area_permit_and_run_over_http_messages(tmp_path: Path) -> None:
    loaded = _cli(tmp_path, "airspace", "area", "load", "--scenario", "stadium_match_day")
    assert loaded.exit_code == 0, loaded.output
    assert "3 zones" in loaded.output
    permit = _cli(
        tmp_path,
        "airspace", "area", "permit", "--id", "P-1", "--serial", "1581F5FJD23A00002",
        "--operator", "测绘院", "--bbox", "119.20,34.55,119.21,34.56",
        "--valid-from", "2026-01-01T00:00+08:00", "--valid-to", "2027-01-01T00:00+08:00",
    )  # fmt: skip
    assert permit.exit_code == 0, permit.output
    factory = make_sessionmaker(make_engine(_url(tmp_path)))
    with factory() as session:
        row = session.scalars(select(AirspacePermitRow)).one()
        assert (
            row.serial_masked != "1581F5FJD23A00002"
            and "1581F5FJD23A00002" not in row.serial_pseudonym
        )
        session.add(
            AirspaceZoneRow(
                name="禁飞区",
                kind="no_fly",
                polygon=[[119.22, 34.57], [119.24, 34.57], [119.24, 34.59], [119.22, 34.59]],
                floor_m=0,
                ceiling_m=500,
                active=[],
            )
        )
        store_message(
            session,
            FeedMessage(
                sensor_id="rid-1",
                kind="remoteid",
                payload=remote_id_pack("1581F5FJD23A00001", 119.229, 34.581, 70.0),
                received_at=datetime.now(UTC),
                transport="http",
            ),
        )
        session.commit()
    ran = _cli(tmp_path, "airspace", "run", "--no-mqtt", "--seconds", "1.5", "--json")
    assert ran.exit_code == 0, ran.output
    alerts = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    assert [a["kind"] for a in alerts] == ["violation"]
    with factory() as session:
        assert session.scalars(select(AirspaceMessageRow.processed_at)).one() is not None


def test_run_without_a_site_is_one_clear_error(tmp_path: Path) -> None:
    ran = _cli(tmp_path, "airspace", "run", "--no-mqtt", "--seconds", "0.1")
    assert ran.exit_code == 2
    assert "airspace area load" in ran.output
