"""``haizhou instructions`` and ``haizhou kpis`` with CliRunner on a temporary SQLite store."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.tasks._helpers import BUREAU, A, make_finding, station_box, store_finding
from typer.testing import CliRunner

from haizhou.cli.tasks import app, kpis_app
from haizhou.store import migrate
from haizhou.store.engine import make_engine
from haizhou.store.tables import JurisdictionRow

runner = CliRunner()


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], int]:
    """A migrated SQLite store with one station and one red finding; the CLI's context."""
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
        finding_id = store_finding(session, make_finding(level="red"))
    engine.dispose()
    return {"database_url": url}, finding_id


def run(obj: dict[str, str], *args: str, target=app) -> tuple[int, str, str]:
    result = runner.invoke(target, list(args), obj=dict(obj))
    return result.exit_code, result.stdout, result.stderr


def test_the_whole_loop_from_the_command_line(cli_store: tuple[dict[str, str], int]) -> None:
    obj, finding_id = cli_store
    code, out, _ = run(obj, "issue", "--from-finding", str(finding_id), "--json")
    assert code == 0
    issued = json.loads(out)
    assert issued["outcome"] == "issued"
    ins = issued["instruction"]
    assert (ins["status"], ins["jurisdiction_code"], ins["level"]) == ("issued", A, "red")
    ident = str(ins["id"])

    code, out, _ = run(obj, "sign", ident, "--assignee", "team 1", "--json")
    assert code == 0 and json.loads(out)["status"] == "signed"

    code, _, err = run(obj, "sign", ident)
    assert code == 1
    assert "cannot sign an instruction that is signed" in err and "Traceback" not in err

    code, out, _ = run(
        obj,
        "feedback",
        ident,
        "--verified",
        "true",
        "--text",
        "Found it",
        "--attach",
        "p.jpg",
        "--json",
    )
    fed = json.loads(out)
    assert code == 0 and fed["status"] == "fed_back"
    assert fed["feedback"] == {"verified": True, "text": "Found it", "attachments": ["p.jpg"]}

    code, _, err = run(obj, "review", ident, "--return")
    assert code == 1 and "say why" in err
    code, out, _ = run(obj, "review", ident, "--accept", "--json")
    assert code == 0 and json.loads(out)["status"] == "closed"

    code, out, _ = run(obj, "show", ident, "--json")
    actions = [e["action"] for e in json.loads(out)["history"]]
    assert actions == ["issue", "sign", "feed_back", "accept"]

    code, out, _ = run(obj, "precision", "--json")
    assert json.loads(out) == [
        {
            "model_id": "hotspot_kde",
            "verified_true": 1,
            "verified_false": 0,
            "unverified": 0,
            "precision": 1.0,
            "low": pytest.approx(0.2065, abs=1e-4),
            "high": 1.0,
        }
    ]
    code, out, _ = run(obj, "list", "--status", "closed", "--json")
    assert [r["id"] for r in json.loads(out)] == [int(ident)]


def test_escalate_and_list_overdue_with_a_given_clock(
    cli_store: tuple[dict[str, str], int],
) -> None:
    obj, finding_id = cli_store
    code, out, _ = run(obj, "issue", "--from-finding", str(finding_id), "--json")
    issued_at = json.loads(out)["instruction"]["issued_at"]
    ident = json.loads(out)["instruction"]["id"]
    # Thirty-one minutes after issue a red instruction is late for signing.
    late = (datetime.fromisoformat(issued_at) + timedelta(minutes=31)).isoformat()
    code, out, _ = run(obj, "escalate", "--now", late, "--json")
    assert code == 0
    notes = json.loads(out)
    assert [(n["instruction_id"], n["recipient_unit"], n["step"]) for n in notes] == [
        (ident, BUREAU, "sign")
    ]
    code, out, _ = run(obj, "escalate", "--now", late, "--json")
    assert json.loads(out) == []
    code, out, _ = run(obj, "list", "--overdue", "--now", late, "--json")
    assert [(r["id"], r["overdue_step"], r["escalation_level"]) for r in json.loads(out)] == [
        (ident, "sign", 1)
    ]
    code, out, _ = run(obj, "notifications", "--json")
    assert len(json.loads(out)) == 1


def test_bad_input_is_one_line(cli_store: tuple[dict[str, str], int]) -> None:
    obj, _ = cli_store
    code, _, err = run(obj, "feedback", "1", "--verified", "maybe", "--text", "x")
    assert code == 1 and "use true, false or unknown" in err
    code, _, err = run(obj, "sign", "999")
    assert code == 1 and "instruction 999 does not exist" in err
    code, _, err = run(obj, "list", "--status", "done")
    assert code == 1 and "is not a status" in err
    code, _, err = run(obj, "escalate", "--now", "yesterday")
    assert code == 1 and "--now 'yesterday' is not a date" in err


def test_kpis_command_json(cli_store: tuple[dict[str, str], int]) -> None:
    obj, _ = cli_store
    code, out, err = run(
        obj, "--period", "month", "--date", "2026-03-15", "--json", target=kpis_app
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["start"] == "2026-03-01T00:00:00+08:00"
    assert report["end"] == "2026-04-01T00:00:00+08:00"
    assert report["incidents"] == [
        {"category": "all", "current": 0, "previous": 0, "last_year": 0, "pop": None, "yoy": None}
    ]
    assert report["clearance_rate_cohort"] == {"numerator": 0, "denominator": 0, "rate": None}
    code, _, err = run(obj, "--period", "fortnight", target=kpis_app)
    assert code == 1 and "period must be one of" in err
