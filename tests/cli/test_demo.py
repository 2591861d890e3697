"""`haizhou demo` end to end on a tiny city: sim → importers → store → accounts (no server)."""

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.security.roles import Role

ANALYTICS_MODELS = (
    "hotspots.gistar",
    "hotspots.emerging",
    "repeats.address",
    "repeats.caller",
    "warnings.trend",
    "nearrepeat.burglary",
    "forecast.daily",
)


def _run(tmp_path, *extra):
    result = CliRunner().invoke(
        app,
        [
            "--data-dir",
            str(tmp_path),
            "demo",
            "--scale",
            "0.05",
            "--days",
            "200",
            "--no-serve",
            "--json",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_demo_builds_store_and_accounts_then_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.delenv("HAIZHOU_DATABASE_URL", raising=False)
    first = _run(tmp_path)
    imports = first["imports"]
    assert imports["jurisdictions"]["accepted"] == 12
    assert imports["incidents"]["accepted"] > 100
    assert all(v["quarantined"] == 0 for v in imports.values())
    assert {a["role"] for a in first["accounts"]} == {r.value for r in Role}

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'haizhou.db'}")
    with engine.connect() as conn:
        n_incidents = conn.scalar(sa.text("SELECT count(*) FROM incidents"))
        unplaced = conn.scalar(
            sa.text("SELECT count(*) FROM incidents WHERE jurisdiction_code IS NULL")
        )
        clear_phone = conn.scalar(
            sa.text("SELECT count(*) FROM incidents WHERE caller_masked NOT LIKE '%*%'")
        )
    assert n_incidents == imports["incidents"]["accepted"]
    assert unplaced == 0
    assert clear_phone == 0  # callers are only ever stored masked

    # every built-in model ran on the city, and the analytics models left findings in the store
    runs = {m["model"]: m for m in first["models"]}
    assert {"incidents.daily_volume", *ANALYTICS_MODELS} <= set(runs)  # every built-in model
    assert all(runs[m]["status"] == "ok" for m in ANALYTICS_MODELS), runs
    with engine.connect() as conn:
        stored = dict(
            conn.execute(sa.text("SELECT model_id, count(*) FROM findings GROUP BY model_id")).all()
        )
        unrouted = dict(
            conn.execute(
                sa.text(
                    "SELECT model_id, count(*) FROM findings WHERE jurisdiction_code IS NULL "
                    "GROUP BY model_id"
                )
            ).all()
        )
    for model_id in ANALYTICS_MODELS:
        assert runs[model_id]["n_findings"] > 0, model_id
        assert stored.get(model_id) == runs[model_id]["n_findings"], model_id
    assert not set(unrouted) & set(ANALYTICS_MODELS)  # each finding went to a jurisdiction

    second = _run(tmp_path)
    assert all(v["accepted"] == 0 for v in second["imports"].values())
    assert {m["status"] for m in second["models"]} == {"skipped"}  # no duplicate findings
    with engine.connect() as conn:
        again = dict(
            conn.execute(sa.text("SELECT model_id, count(*) FROM findings GROUP BY model_id")).all()
        )
    assert again == stored
    assert second["imports"]["incidents"]["skipped_duplicates"] == n_incidents
    saved = json.loads((tmp_path / "demo-accounts.json").read_text(encoding="utf-8"))
    assert {a["username"] for a in saved} == {a["username"] for a in first["accounts"]}
    assert (tmp_path / "demo-accounts.json").stat().st_mode & 0o077 == 0
