"""``haizhou linkage train --from-store``: cases and suspects read from the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haizhou.cli.linkage import app
from haizhou.sim import CityConfig, generate_city, write_city


@pytest.mark.slow
def test_train_and_link_from_store(tmp_path: Path, sqlite_url: str) -> None:
    ingest = pytest.importorskip("haizhou.ingest")
    from haizhou.store.engine import make_engine
    from haizhou.store.migrate import upgrade

    city = generate_city(CityConfig(scale=0.1, days=365))
    write_city(city, tmp_path / "city")
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    for kind, name in (("jurisdictions", "jurisdictions.geojson"), ("cases", "cases.csv")):
        ingest.import_file(
            kind,
            tmp_path / "city" / name,
            engine=engine,
            data_dir=tmp_path,
            source="sim",
            pseudonym_key="test-key-" + "x" * 32,
        )
    engine.dispose()
    env = {"HAIZHOU_DATABASE_URL": sqlite_url, "HAIZHOU_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    model = tmp_path / "store.model"
    result = runner.invoke(
        app,
        [
            "train",
            "--from-store",
            "--category",
            "入室盗窃",
            "--learner",
            "logistic",
            "--max-distance-m",
            "3000",
            "--max-gap-days",
            "120",
            "--model-out",
            str(model),
            "--json",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_linked_pairs"] > 0
    meta = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
    assert "same_entry_method" in meta["features"] and "text_sim" in meta["features"]
    result = runner.invoke(
        app,
        [
            "link",
            "--from-store",
            "--category",
            "入室盗窃",
            "--model",
            str(model),
            "--series-out",
            str(tmp_path / "s.csv"),
            "--json",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_crimes"] == summary["n_crimes"]
