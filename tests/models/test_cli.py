"""``haizhou models`` and ``haizhou plugins check`` through the command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from haizhou.cli import models as models_cli
from haizhou.cli.main import app as main_app
from haizhou.cli.main import root as main_root

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A = "320706001"


def haizhou_app() -> typer.Typer:
    """The real root command once `models` is wired in; until then a copy of its root."""
    if "models" in {group.name for group in main_app.registered_groups}:
        return main_app
    root = typer.Typer(pretty_exceptions_enable=False)
    root.callback()(main_root)
    root.add_typer(models_cli.app, name="models")
    root.add_typer(models_cli.plugins_app, name="plugins")
    return root


@pytest.fixture
def run(tmp_path: Path, store):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    app = haizhou_app()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        root = ["--data-dir", str(tmp_path), "--database-url", store.url]
        return runner.invoke(app, [*root, *args], env={"HAIZHOU_DATABASE_URL": None})

    return invoke


def test_list_and_show_json(run) -> None:  # type: ignore[no-untyped-def]
    listed = run("models", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {m["id"]: m for m in json.loads(listed.stdout)}
    assert rows["incidents.daily_volume"]["schedule"] == "daily"
    assert rows["rules.burglary_surge"]["source"] == "rule"
    shown = run("models", "show", "incidents.daily_volume", "--json")
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.stdout)
    assert info["title_zh"] == "各辖区日警情量异常"
    assert info["card"]["data_read"] == ["incidents", "jurisdictions"]
    assert info["params_schema"]["properties"]["min_count"]["default"] == 5


def test_user_rule_folder_is_listed_and_bad_rules_warned(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "mine.yaml").write_text(
        "id: rules.mine\nversion: 1.0.0\ntitle_zh: 我的规则\ntitle_en: Mine\nlevels: {yellow: 2}\n",
        encoding="utf-8",
    )
    (folder / "bad.yaml").write_text("id: rules.bad\n", encoding="utf-8")
    listed = run("models", "list", "--json")
    assert listed.exit_code == 0
    assert "rules.mine" in {m["id"] for m in json.loads(listed.stdout)}
    assert "Warning:" in listed.stderr and "bad.yaml" in listed.stderr


def test_run_with_params_and_window(run, store, add_incidents) -> None:  # type: ignore[no-untyped-def]
    day = datetime(2026, 3, 4, tzinfo=SHANGHAI)
    with store.factory() as session:
        add_incidents(session, [(day.replace(hour=10), STATION_A, "theft")] * 3)
    result = run(
        "models",
        "run",
        "incidents.daily_volume",
        "--params",
        "min_count=3",
        "-p",
        '{"weeks": 2}',
        "--start",
        "2026-03-04",
        "--end",
        "2026-03-05",
        "--json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "ok" and out["n_findings"] == 1
    assert out["params"]["min_count"] == 3 and out["params"]["weeks"] == 2
    assert out["window_start"] == "2026-03-04T00:00:00+08:00"
    assert out["findings"][0]["level"] == "yellow"
    assert out["findings"][0]["jurisdiction_code"] == STATION_A
    assert out["findings"][0]["evidence"]["observed"] == 3
    runs = run("models", "runs", "--json")
    assert [r["model_id"] for r in json.loads(runs.stdout)] == ["incidents.daily_volume"]


def test_bad_params_and_unknown_model_are_one_line_errors(run) -> None:  # type: ignore[no-untyped-def]
    bad = run("models", "run", "incidents.daily_volume", "--params", "weeks=0")
    assert bad.exit_code == 1
    assert "invalid parameters for model incidents.daily_volume: 'weeks'" in bad.stderr
    assert "Traceback" not in bad.output
    not_kv = run("models", "run", "incidents.daily_volume", "--params", "weeks")
    assert not_kv.exit_code == 1 and "expects a JSON object or key=value" in not_kv.stderr
    unknown = run("models", "show", "rules.burglary")
    assert unknown.exit_code == 1 and "Did you mean rules.burglary_surge" in unknown.stderr
    half = run("models", "run", "incidents.daily_volume", "--start", "2026-03-01")
    assert half.exit_code == 1 and "give both --start and --end" in half.stderr


def test_schedule_once_runs_due_models(run) -> None:  # type: ignore[no-untyped-def]
    result = run("models", "schedule", "--once", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    records = [line for line in lines if "model_id" in line]
    ids = {r["model_id"] for r in records}
    assert {"incidents.daily_volume", "rules.burglary_surge", "rules.fraud_year_over_year"} <= ids
    assert all(r["status"] == "ok" and r["trigger"] == "schedule" for r in records)
    # After the runs, the findings were swept into instructions by policy (the last line).
    assert set(lines[-1]["sweep"]) == {"findings", "unrouted_findings", "escalated"}
    again = run("models", "schedule", "--once", "--json")
    assert again.exit_code == 0
    (only,) = [json.loads(line) for line in again.stdout.splitlines()]  # nothing due: no runs
    assert only["sweep"]["escalated"] == [] and not any(
        only["sweep"]["findings"].get(k) for k in ("issued", "updated")
    )
    quiet = run("models", "schedule", "--once", "--json", "--no-issue")
    assert quiet.exit_code == 0 and quiet.stdout == ""
    neither = run("models", "schedule")
    assert neither.exit_code == 1 and "exactly one of --once or --loop" in neither.stderr


def test_plugins_check(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tests_dir = str(Path(__file__).resolve().parent)
    ok = run("plugins", "check", "--tests-dir", tests_dir, "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"ok": True, "problems": []}
    empty = tmp_path / "no_tests"
    empty.mkdir()
    missing = run("plugins", "check", "--tests-dir", str(empty), "--json")
    assert missing.exit_code == 1
    problems = json.loads(missing.stdout)["problems"]
    assert problems and {p["code"] for p in problems} == {"missing-tests"}


@given(
    pairs=st.dictionaries(
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
        st.one_of(st.integers(), st.booleans(), st.text(alphabet="abc中文 ", min_size=1)),
        max_size=5,
    )
)
def test_parse_params_key_value_round_trip(pairs: dict[str, object]) -> None:
    args = [f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in pairs.items()]
    assert models_cli.parse_params(args) == pairs
    assert models_cli.parse_params([json.dumps(pairs, ensure_ascii=False)]) == pairs
