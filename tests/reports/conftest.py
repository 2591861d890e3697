"""A tiny demo city store shared by the report tests (built once per test session)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.domain import Level
from haizhou.store.engine import make_engine
from haizhou.tasks.service import create_manual

# The city starts 2024-01-01; 420 days reach into February 2025, so March 2025 would have
# no data: the report dates below lie inside the simulated span.
CITY_DAYS = 420
REPORT_DAY = "2025-01-15"  # a Wednesday; its month has a year-over-year base (Jan 2024)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(data dir, SQLAlchemy URL) of a demo city at scale 0.02 with two instructions."""
    data_dir = tmp_path_factory.mktemp("report-city")
    result = CliRunner().invoke(
        app,
        [
            "--data-dir",
            str(data_dir),
            "--database-url",
            f"sqlite:///{data_dir / 'haizhou.db'}",
            "demo",
            "--scale",
            "0.02",
            "--days",
            str(CITY_DAYS),
            "--no-serve",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["imports"]["incidents"]["accepted"] > 500
    url = f"sqlite:///{data_dir / 'haizhou.db'}"
    engine = make_engine(url)
    with Session(engine) as session:
        # One instruction issued long before the report day (overdue by then), one after it
        # (so not open yet at the day's end... but still listed as open: lateness is judged
        # at the day's end).
        create_manual(
            session=session,
            title="核查新浦辖区盗窃高发",
            level=Level.ORANGE,
            now=datetime(2025, 1, 2, 1, tzinfo=UTC),
            actor="test",
            actor_role="admin",
            jurisdiction_code="320706-01",
        )
        create_manual(
            session=session,
            title="Check the night market",
            level=Level.BLUE,
            now=datetime(2025, 1, 15, 3, tzinfo=UTC),
            actor="test",
            actor_role="admin",
            jurisdiction_code="320706-02",
        )
        session.commit()
    engine.dispose()
    return data_dir, url
