"""``haizhou supervision`` and ``haizhou instructions policy`` with CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.tasks._helpers import BUREAU, A, make_finding, station_box, store_finding
from typer.testing import CliRunner

from haizhou.cli.tasks import app, supervision_app
from haizhou.store import migrate
from haizhou.store.engine import make_engine
from haizhou.store.tables import JurisdictionRow

runner = CliRunner()


@pytest.fixture
def obj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HAIZHOU_DATA_DIR", str(tmp_path))
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(JurisdictionRow(code=BUREAU, name="分局", station="分局", source="t"))
        session.add(
            JurisdictionRow(
                code=A,
                name="A",
                station="A",
                parent_code=BUREAU,
                geometry=station_box(A),
                source="t",
            )
        )
        session.commit()
    engine.dispose()
    return {"database_url": url}


def run(obj: dict[str, str], *args: str, target=supervision_app) -> tuple[int, str]:
    result = runner.invoke(target, list(args), obj=dict(obj))
    return result.exit_code, result.stdout + result.stderr


def test_add_note_list_late_stats_close(obj: dict[str, str]) -> None:
    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    code, out = run(
        obj,
        "add",
        "--title", "入室盗窃系列案",
        "--lead", "李副局长",
        "--specialist", "刑警大队",
        "--station", A,
        "--deadline", soon,
        "--level", "red",
        "--milestone", "2020-01-01=调取监控=specialist",
        "--milestone", f"{soon}=走访群众",
        "--json",
    )  # fmt: skip
    assert code == 0, out
    case = json.loads(out)
    assert [m["tier"] for m in case["milestones"]] == ["specialist", "station"]
    ident = str(case["id"])

    code, out = run(obj, "note", ident, "--text", "已走访", "--tier", "station", "--json")
    assert code == 0 and json.loads(out)["tier"] == "station"
    code, out = run(obj, "list", "--late", "--json")  # the 2020 milestone is late
    assert [c["id"] for c in json.loads(out)] == [case["id"]]
    code, out = run(obj, "list", "--late", "--now", "2000-01-01", "--json")
    assert json.loads(out) == []
    code, out = run(obj, "list")
    assert code == 0 and "1 supervised case(s)" in out
    code, out = run(obj, "stats", "--json")
    red = next(r for r in json.loads(out)["by_level"] if r["level"] == "red")
    assert (red["total"], red["open"], red["late_milestones"]) == (1, 1, 1)
    code, out = run(obj, "close", ident, "--note", "已破案", "--json")
    assert code == 0 and json.loads(out)["status"] == "closed"
    code, out = run(obj, "close", ident, "--note", "again")
    assert code == 1 and "already closed" in out


def test_bad_input_is_one_clear_line(obj: dict[str, str]) -> None:
    code, out = run(obj, "note", "99", "--text", "x")
    assert code == 1 and "does not exist" in out
    code, out = run(obj, "note", "1", "--text", "x", "--tier", "boss")
    assert code == 1 and "--tier" in out
    code, out = run(
        obj, "add", "--title", "t", "--lead", "l", "--specialist", "s", "--station", A,
        "--deadline", "2030-01-01", "--milestone", "nonsense",
    )  # fmt: skip
    assert code == 1 and "DUE=TITLE" in out


def test_policy_from_the_config_file(
    obj: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run(obj, "policy", "--json", target=app)
    assert code == 0
    defaults = json.loads(out)
    assert (
        defaults["rules"]["*"]["yellow"] == "approval" and defaults["sign_within_h"]["red"] == 0.5
    )
    config = tmp_path / "haizhou.toml"
    config.write_text(
        '[haizhou.instruction_policy]\nrules = {"*" = {yellow = "auto"}}\n'
        "sign_within_h = {red = 0.25}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HAIZHOU_CONFIG", str(config))
    code, out = run(obj, "policy", "--json", target=app)
    custom = json.loads(out)
    assert custom["rules"]["*"] == {
        "red": "auto",
        "orange": "auto",
        "yellow": "auto",
        "blue": "approval",
    }
    assert custom["sign_within_h"] == {"red": 0.25, "orange": 2, "yellow": 24, "blue": 72}
    # The configured policy decides: a yellow finding is issued at once, signed within 24 h.
    engine = make_engine(obj["database_url"])
    with Session(engine) as session:
        finding_id = store_finding(session, make_finding(level="yellow"))
    engine.dispose()
    code, out = run(obj, "issue", "--from-finding", str(finding_id), "--json", target=app)
    assert code == 0, out
    assert json.loads(out)["outcome"] == "issued"
    config.write_text(
        "[haizhou.instruction_policy]\nsign_within_h = {red = -1}\n", encoding="utf-8"
    )
    code, out = run(obj, "policy", target=app)
    assert code == 1 and "instruction_policy.sign_within_h" in out


def test_sweep_issues_new_findings_once_and_escalates(obj: dict[str, str]) -> None:
    engine = make_engine(obj["database_url"])
    with Session(engine) as session:
        store_finding(session, make_finding(level="red"))
    engine.dispose()
    now = "2026-03-02T09:00:00+08:00"  # T0 + 1 h: the red finding's sign deadline is 30 min
    code, out = run(obj, "sweep", "--now", now, "--json", target=app)
    assert code == 0, out
    first = json.loads(out)
    assert first["findings"]["issued"] == 1 and first["escalated"] == []
    code, out = run(obj, "sweep", "--now", "2026-03-02T10:00:00+08:00", "--json", target=app)
    second = json.loads(out)
    assert sum(second["findings"].values()) == 0 and len(second["escalated"]) == 1
