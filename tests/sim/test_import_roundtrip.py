"""End to end: the files ``write_city`` produces go through the real importers without loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from haizhou.sim import CityConfig, generate_city, write_city

IMPORT_ORDER = (
    ("jurisdictions", "jurisdictions.geojson"),
    ("sensors", "sensors.csv"),
    ("persons", "persons.csv"),
    ("incidents", "incidents.csv"),
    ("cases", "cases.csv"),
)


def test_every_record_imports_and_lands_in_its_jurisdiction(
    tmp_path: Path, sqlite_url: str
) -> None:
    ingest = pytest.importorskip("haizhou.ingest")
    from haizhou.store.engine import make_engine
    from haizhou.store.migrate import upgrade

    city = generate_city(CityConfig(scale=0.02, days=60))
    write_city(city, tmp_path / "city")
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    expected = {
        "jurisdictions": len(city.jurisdictions["features"]),
        "sensors": len(city.sensors),
        "persons": len(city.persons),
        "incidents": len(city.incidents),
        "cases": len(city.cases),
    }
    for kind, name in IMPORT_ORDER:
        result = ingest.import_file(
            kind,
            tmp_path / "city" / name,
            engine=engine,
            data_dir=tmp_path,
            source="sim",
            pseudonym_key="test-key-" + "x" * 32,
        )
        assert (result.rows, result.accepted, result.quarantined) == (
            expected[kind],
            expected[kind],
            0,
        ), kind
    with engine.connect() as conn:
        stored = dict(
            conn.execute(sa.text("SELECT source_id, jurisdiction_code FROM incidents")).all()
        )
    ours = dict(
        zip(city.incidents["incident_id"], city.incidents["jurisdiction_code"], strict=True)
    )
    assert stored == ours
    engine.dispose()
