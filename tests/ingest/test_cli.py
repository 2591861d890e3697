"""``haizhou import``: JSON summary, mapping flags and YAML, friendly errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haizhou.cli.main import app

KEY = "haizhou-test-key-0123456789abcdef"


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HAIZHOU_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("HAIZHOU_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "import", *args])
        return result.exit_code, result.stdout, result.stderr

    return run


def test_import_with_json_summary_mapping_and_yaml(invoke, files: Path, tmp_path: Path) -> None:
    code, out, err = invoke("jurisdictions", str(files / "jurisdictions.geojson"), "--json")
    assert code == 0, err
    assert json.loads(out)["accepted"] == 2
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "接报编号,接报时间,类型,X坐标,Y坐标,备注\nM1,2024-05-01 08:00,盗窃,119.17,34.59,电话13812345678\nM2,bad,盗窃,119.17,34.59,\n",
        encoding="gbk",
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n  incident_id: 接报编号\n  reported_at: 接报时间\n", encoding="utf-8"
    )
    code, out, err = invoke(
        "incidents",
        str(calls),
        "--mapping",
        str(mapping),
        "--map",
        "lon=X坐标",
        "--map",
        "lat=Y坐标",
        "--map",
        "category=类型",
        "--json",
        "--source",
        "hz110",
    )
    assert code == 0, err
    summary = json.loads(out)
    assert {k: summary[k] for k in ("accepted", "quarantined", "skipped_duplicates", "source")} == {
        "accepted": 1,
        "quarantined": 1,
        "skipped_duplicates": 0,
        "source": "hz110",
    }
    assert Path(summary["quarantine_file"]).parent == tmp_path / "data" / "quarantine"
    assert summary["encoding"] == "gb18030"
    code, out, err = invoke(
        "incidents",
        str(calls),
        "--mapping",
        str(mapping),
        "--map",
        "lon=X坐标",
        "--map",
        "lat=Y坐标",
        "--map",
        "category=类型",
        "--json",
        "--source",
        "hz110",
    )
    again = json.loads(out)
    assert (again["accepted"], again["skipped_duplicates"], again["quarantined"]) == (0, 1, 1)


def test_human_summary_and_errors_without_traceback(invoke, files: Path, tmp_path: Path) -> None:
    code, _, err = invoke("incidents", str(files / "good_utf8.csv"))
    assert code == 1
    assert "import them first" in err and "Traceback" not in err
    code, _, err = invoke("jurisdictions", str(files / "jurisdictions.geojson"))
    assert code == 0 and "2 accepted" in err
    code, _, err = invoke("incidents", str(files / "missing_column.csv"))
    assert code == 1 and "reported_at" in err and "Traceback" not in err
    code, _, err = invoke("incidents", str(files / "good_utf8.csv"), "--map", "nonsense")
    assert code == 1 and "canonical=header" in err
    code, _, err = invoke("incidents", str(tmp_path / "nope.csv"))
    assert code == 1 and "does not exist" in err
    code, _, err = invoke("incidents", str(files / "bad_dates.csv"))
    assert code == 0 and "3 quarantined" in err and "quarantine" in err
