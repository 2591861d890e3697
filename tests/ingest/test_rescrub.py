"""``haizhou db rescrub``: identifiers left in clear by older imports are masked, once."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.ingest import kinds
from haizhou.ingest.rescrub import FREE_TEXT, rescrub_store
from haizhou.security.pseudonym import Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine
from haizhou.store.tables import AuditRow, IncidentRow, JurisdictionRow, PersonRow

KEY = "haizhou-test-key-0123456789abcdef"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
# What imports before the wider filter left in clear: a dashed landline, full-width digits, a plate
LANDLINE = "报警人电话0518-8512-3456"
FULL_WIDTH = "联系１３８１２３４５６７８"
PLATE = "嫌疑车辆苏G12345驶离"
CLEAN = "门锁被撬，室内物品被翻动"


def _store(folder: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{folder / 'haizhou.db'}"
    migrate.upgrade(url)
    return url, make_engine(url)


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(IncidentRow),
            [
                {
                    "source": "old",
                    "source_id": f"I{i}",
                    "reported_at": T0,
                    "category": "theft",
                    "lon": 119.2,
                    "lat": 34.6,
                    "h3_r7": 1,
                    "h3_r8": 2,
                    "h3_r9": 3,
                    "content_hash": f"h{i}",
                    "summary": summary,
                    "address": address,
                    "attributes": attributes,
                }
                for i, (summary, address, attributes) in enumerate(
                    [
                        (LANDLINE, "海州区新浦路1号", {"备注": FULL_WIDTH, "n": 3}),
                        (CLEAN, None, None),
                        (PLATE, "新浦路1号 电话13812345678", {"备注": CLEAN}),
                    ]
                )
            ],
        )
        conn.execute(
            insert(PersonRow),
            [
                {
                    "source": "old",
                    "source_id": "P1",
                    "pseudonym": "p" * 64,
                    "masked_id": "3207**********1234",
                    "registration": "floating",
                    "content_hash": "p1",
                    "residence_address": "幸福小区3栋 电话0518 85123456",
                }
            ],
        )
        conn.execute(
            insert(JurisdictionRow),
            [
                {
                    "code": "320706001",
                    "name": "新浦派出所",
                    "station": "新浦派出所",
                    "source": "old",
                    "content_hash": "j1",
                    "note": json.dumps({"值班电话": "0518-8512-3456"}, ensure_ascii=False),
                }
            ],
        )


def _found(text: Any, ps: Pseudonymiser) -> list[Any]:
    """Identifiers today's scrubbing still finds in ``text`` (any JSON value)."""
    return ps.scrub_text(json.dumps(text, ensure_ascii=False))[1] if text is not None else []


def test_rescrub_masks_what_older_imports_left_and_changes_nothing_twice(tmp_path: Path) -> None:
    _url, engine = _store(tmp_path)
    _seed(engine)
    ps = Pseudonymiser(KEY.encode())
    with engine.connect() as conn:
        before = conn.execute(
            select(IncidentRow.summary, IncidentRow.address, IncidentRow.attributes)
        ).all()
    assert sum(len(_found(list(row), ps)) for row in before) >= 4  # the seeds hold identifiers

    dry = rescrub_store(engine, ps, dry_run=True, batch=2)
    assert dry.changed == {
        "incidents.summary": 2,
        "incidents.address": 1,
        "incidents.attributes": 1,
        "persons.residence_address": 1,
        "jurisdictions.note": 1,
    }
    assert dry.rows["incidents"] == 3
    with engine.connect() as conn:  # a dry run writes nothing
        assert (
            conn.execute(
                select(IncidentRow.summary, IncidentRow.address, IncidentRow.attributes)
            ).all()
            == before
        )

    done = rescrub_store(engine, ps, batch=2)  # batches smaller than the table: paging works
    assert done.changed == dry.changed
    with engine.connect() as conn:
        incidents = conn.execute(
            select(IncidentRow.summary, IncidentRow.address, IncidentRow.attributes).order_by(
                IncidentRow.id
            )
        ).all()
        person = conn.execute(select(PersonRow.residence_address)).scalar_one()
        note = conn.execute(select(JurisdictionRow.note)).scalar_one()
    for value in [*(list(r) for r in incidents), person, note]:
        assert _found(value, ps) == []
    assert "8512" not in incidents[0].summary and incidents[0].summary.startswith("报警人电话")
    assert incidents[0].attributes["n"] == 3  # other values kept as they were
    assert incidents[1] == before[1]  # nothing to mask: untouched
    assert incidents[2].summary != PLATE and incidents[2].summary.endswith("驶离")

    again = rescrub_store(engine, ps)
    assert again.total_changed == 0
    engine.dispose()


def test_rescrub_rejects_an_unknown_table(tmp_path: Path) -> None:
    _url, engine = _store(tmp_path)
    with pytest.raises(ValueError, match="unknown table"):
        rescrub_store(engine, Pseudonymiser(KEY.encode()), tables=["users"])
    engine.dispose()


def _scrubbed_columns(convert: Any) -> set[str]:
    """Output columns a converter fills through ``scrub(...)`` or ``attributes_json(...)``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(convert)))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Name)
                    and value.func.id in {"scrub", "attributes_json"}
                ):
                    out.add(key.value)
    return out


def test_free_text_columns_are_the_ones_the_importer_scrubs() -> None:
    expected = {
        spec.table: _scrubbed_columns(spec.convert)
        for spec in kinds.KINDS.values()
        if _scrubbed_columns(spec.convert)
    }
    assert {t: set(c) for t, c in FREE_TEXT.items()} == expected


def test_cli_rescrub_writes_and_audits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAIZHOU_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("HAIZHOU_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    _url, engine = _store(data)
    _seed(engine)
    runner = CliRunner()
    base = ["--data-dir", str(data), "db", "rescrub"]
    dry = runner.invoke(app, [*base, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["total_changed"] == 6
    result = runner.invoke(app, [*base, "--table", "incidents", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["changed"] == {
        "incidents.summary": 2,
        "incidents.address": 1,
        "incidents.attributes": 1,
    }
    with engine.connect() as conn:
        entries = conn.execute(select(AuditRow.action, AuditRow.detail)).all()
    assert [e.action for e in entries] == ["privacy.rescrub"]  # the dry run records nothing
    assert entries[0].detail["total_changed"] == 4
    engine.dispose()
