"""``haizhou jobs submit|list|status`` and ``haizhou backup|restore`` from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.cli.worker import parse_job_params
from haizhou.errors import HaizhouError
from haizhou.jobs import QueueConfig
from haizhou.jobs.queue import queue_depth

runner = CliRunner()


def _env(tmp_path: Path, queue: QueueConfig) -> dict[str, str]:
    return {
        "HAIZHOU_DATA_DIR": str(tmp_path),
        "HAIZHOU_DATABASE_URL": f"sqlite:///{tmp_path / 'haizhou.db'}",
        "HAIZHOU_NATS_URL": queue.url,
        "HAIZHOU_JOB_QUEUE": queue.name,
    }


def test_parse_job_params() -> None:
    assert parse_job_params(["model_id=rules.x", "n=3", '{"flag": true}']) == {
        "model_id": "rules.x",
        "n": 3,
        "flag": True,
    }
    with pytest.raises(HaizhouError, match="key=value"):
        parse_job_params(["oops"])


@pytest.mark.nats
def test_submit_list_status(tmp_path: Path, queue: QueueConfig) -> None:
    env = _env(tmp_path, queue)
    result = runner.invoke(app, ["jobs", "submit", "probe", "-p", "sleep_s=0", "--json"], env=env)
    assert result.exit_code == 0, result.output
    job_id = json.loads(result.stdout)["id"]
    listed = runner.invoke(app, ["jobs", "list", "--json"], env=env)
    assert [job["id"] for job in json.loads(listed.stdout)] == [job_id]
    status = json.loads(runner.invoke(app, ["jobs", "status", job_id], env=env).stdout)
    assert status["status"] == "queued" and status["submitted_by"] == "cli"
    assert asyncio.run(queue_depth(queue))["pending"] == 1
    missing = runner.invoke(app, ["jobs", "status", "nope"], env=env)
    assert missing.exit_code == 1 and "no job 'nope'" in missing.output
    bad = runner.invoke(app, ["jobs", "submit", "launch-missiles"], env=env)
    assert bad.exit_code == 1 and "unknown job kind" in bad.output


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    env = {"HAIZHOU_DATA_DIR": str(tmp_path)}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    out = tmp_path / "b.sqlite"
    made = runner.invoke(app, ["backup", "--out", str(out), "--json"], env=env)
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["format"] == "sqlite" and out.stat().st_size > 0
    back = runner.invoke(app, ["restore", str(out), "--yes", "--json"], env=env)
    assert back.exit_code == 0, back.output
    refused = runner.invoke(app, ["restore", str(tmp_path / "none.db"), "--yes"], env=env)
    assert refused.exit_code == 1 and "does not exist" in refused.output
