"""``haizhou population import | profile | purge`` against the store."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store import migrate

runner = CliRunner()
KEY = "haizhou-test-key-0123456789abcdef"
MAC = "02:1F:FD:D6:6F:2D"


def _invoke(tmp_path, *args: str) -> dict:  # type: ignore[type-arg]
    r = runner.invoke(
        app,
        ["--data-dir", str(tmp_path), *args, "--json"],
        env={"HAIZHOU_PSEUDONYM_KEY": KEY, "HAIZHOU_DATABASE_URL": ""},
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_import_profile_purge(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{(tmp_path / 'haizhou.db').resolve()}"
    migrate.upgrade(url)
    path = tmp_path / "s.csv"
    path.write_text(
        "device_or_plate,sensor_id,seen_at\n"
        f"{MAC},S1,2026-03-01 22:10\n{MAC},S2,2026-03-29 22:10\n",
        encoding="utf-8",
    )
    links = tmp_path / "links.csv"
    links.write_text(f"device_or_plate,id_number\n{MAC},320706199205026389\n", encoding="utf-8")
    out = _invoke(tmp_path, "population", "import", "--sightings", str(path), "--links", str(links))
    assert out["sightings"]["written"] == 2 and out["links"] == 1
    token = Pseudonymiser(KEY.encode()).pseudonymise(MAC, IdentifierKind.DEVICE).token
    prof = _invoke(
        tmp_path,
        "population",
        "profile",
        token,
        "--actor",
        "analyst1",
        "--reason",
        "核查指令 12",
        "--days",
        "100000",
    )
    assert prof["sightings"] == 2 and prof["sensors"] == {"S1": 1, "S2": 1}
    purged = _invoke(
        tmp_path, "population", "purge", "--now", "2026-03-31T03:00+08:00", "--retention-days", "7"
    )
    assert (purged["deleted"], purged["kept"]) == (1, 1)
    engine = create_engine(url)
    with engine.connect() as conn:
        actions = conn.execute(
            text("SELECT action, actor, target FROM audit_log ORDER BY id")
        ).all()
        stored = conn.execute(text("SELECT pseudo_id FROM sightings")).scalars().all()
    engine.dispose()
    assert ("population.profile.read", "analyst1", token) in [tuple(a) for a in actions]
    assert "population.sightings.purge" in [a[0] for a in actions]
    assert stored == [token]
