"""The monthly assessment's sensing, population-verification and fraud section (issue 9).

Numbers are checked against plain SQL on the demo city; the population figures against a
separate small store with findings and feedback made here; the PDF is rendered and read back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tests.reports.conftest import REPORT_DAY

from haizhou.domain import Finding, Level
from haizhou.reports.render import build_report
from haizhou.reports.sensing import sensing_section
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.repositories.findings import add_findings
from haizhou.tasks import service
from haizhou.tasks.service import FeedbackIn

pytestmark = pytest.mark.slow  # uses the demo city of tests/reports/conftest.py

DAY = date.fromisoformat(REPORT_DAY)


def _build(url: str, fmt: str = "html"):  # type: ignore[no-untyped-def]
    engine = sa.create_engine(url)
    with Session(engine) as session:
        report = build_report("monthly", session=session, scope=None, date=DAY, fmt=fmt, lang="zh")
    engine.dispose()
    return report


def test_fraud_figures_equal_independent_counts(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, url = demo_store
    report = _build(url)
    s = report.data.sensing
    assert s is not None
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        cases = pd.read_sql(
            sa.text(
                "SELECT occurred_from, attributes FROM cases WHERE category IN ('诈骗', 'fraud')"
            ),
            conn,
        )
        sensors = conn.execute(sa.text("SELECT count(*) FROM sensors WHERE status = 'active'"))
        n_sensors = sensors.scalar_one()
    engine.dispose()
    t = pd.to_datetime(cases["occurred_from"], utc=True)
    end = pd.Timestamp("2025-02-01T00:00:00+08:00")
    in_year = cases[(t >= end - pd.Timedelta(days=365)) & (t < end)]
    assert s.fraud_cases == len(in_year) > 0
    bands = in_year["attributes"].map(
        lambda a: (json.loads(a) if isinstance(a, str) else a or {}).get("victim_age_band")
    )
    assert int(s.fraud_age["cases"].sum()) == int(bands.notna().sum())
    assert sum(s.sensors_by_kind.values()) == n_sensors
    assert 0.0 <= s.covered_share <= 1.0
    unseen = s.blind_spots["uncovered_weighted"].tolist()
    assert unseen == sorted(unseen, reverse=True)
    html = report.content.decode("utf-8")
    for section in ("sensing", "population", "fraud"):
        assert f'<section id="{section}"' in html
    # no hold-out is recorded in the demo: the report says the effect is not estimated
    assert "未记录随机留置对照组" in html


def test_population_counts_and_verified_precision(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'h.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    findings = [
        Finding(
            kind=kind,
            title="核查",
            level=Level.YELLOW,
            geometry={"type": "Point", "coordinates": [119.2, 34.6]},
            window_start=start,
            window_end=start + timedelta(days=1),
            explanation="e",
            suggested_action="a",
            model_id="population.verification",
            model_version="1.0.0",
            evidence={"person_pseudonyms": [f"p{i}"]},
        )
        for i, kind in enumerate(["unregistered_resident"] * 3 + ["registration_stale"])
    ]
    with make_sessionmaker(engine)() as session:
        ids = add_findings(
            session=session, findings=findings, jurisdiction_codes=["A"] * 4, created_at=start
        )
        for fid, verified in zip(ids, [True, True, False, None], strict=True):
            ins = service.issue_from_finding(
                session=session, finding_id=fid, now=start, fallback_code="A"
            ).instruction
            service.approve(
                session=session, instruction_id=ins.id, now=start, actor="a", actor_role="analyst"
            )
            role = {"actor": "o", "actor_role": "station_officer"}
            service.sign(session=session, instruction_id=ins.id, now=start, **role)
            service.feed_back(
                session=session,
                instruction_id=ins.id,
                feedback=FeedbackIn(verified=verified, text="核查"),
                now=start,
                **role,
            )
        session.commit()
        s = sensing_section(
            session=session,
            scope=None,
            start=start,
            end=datetime(2025, 2, 1, tzinfo=UTC),
            incidents=pd.DataFrame(columns=["lon", "lat", "category", "jurisdiction_code"]),
            jurisdictions=(),
        )
    engine.dispose()
    assert dict(zip(s.population["decision"], s.population["findings"], strict=True)) == {
        "unregistered_resident": 3,
        "registration_stale": 1,
    }
    p = s.population_precision
    assert p is not None and (p.verified_true, p.verified_false, p.unverified) == (2, 1, 1)
    assert p.precision == pytest.approx(2 / 3)
    assert s.covered_share is None and s.fraud_cases == 0


def test_monthly_pdf_renders_the_section(demo_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tools = [shutil.which(t) for t in ("pdftoppm", "pdftotext")]
    if None in tools:
        pytest.skip("poppler-utils not installed")
    report = _build(demo_store[1], fmt="pdf")
    pdf = tmp_path / "monthly.pdf"
    pdf.write_bytes(report.content)
    subprocess.run([tools[0], "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    assert list(tmp_path.glob("p-*.png"))
    text = subprocess.run(
        [tools[1], str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for title in ("感知覆盖与盲区", "流动人口核查", "电信网络诈骗防范"):
        assert title in text
    assert re.search(r"近12个月诈骗案件", text)
