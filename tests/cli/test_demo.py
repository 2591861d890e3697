"""`haizhou demo` end to end on a tiny city: sim → importers → store → accounts (no server)."""

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.security.roles import Role


def _run(tmp_path, *extra):
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(tmp_path), "demo", "--scale", "0.02", "--days", "60", "--no-serve", "--json", *extra],
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
        unplaced = conn.scalar(sa.text("SELECT count(*) FROM incidents WHERE jurisdiction_code IS NULL"))
        clear_phone = conn.scalar(
            sa.text("SELECT count(*) FROM incidents WHERE caller_masked NOT LIKE '%*%'")
        )
    assert n_incidents == imports["incidents"]["accepted"]
    assert unplaced == 0
    assert clear_phone == 0  # callers are only ever stored masked

    second = _run(tmp_path)
    assert all(v["accepted"] == 0 for v in second["imports"].values())
    assert second["imports"]["incidents"]["skipped_duplicates"] == n_incidents
    saved = json.loads((tmp_path / "demo-accounts.json").read_text(encoding="utf-8"))
    assert {a["username"] for a in saved} == {a["username"] for a in first["accounts"]}
    assert (tmp_path / "demo-accounts.json").stat().st_mode & 0o077 == 0
