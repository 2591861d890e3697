"""The hold-out recorded by fraud.dissuasion + recorded outcomes → uplift in the monthly report."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from haizhou.domain import Finding, Level
from haizhou.reports.render import build_report
from haizhou.reports.sensing import stored_uplift
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.repositories.findings import add_findings
from haizhou.store.tables.fraud import FraudWarningRow

START = datetime(2025, 1, 10, tzinfo=UTC)


def _finding(kind: str, ids: list[int]) -> Finding:
    return Finding(
        kind=kind,
        title="劝阻",
        level=Level.BLUE,
        geometry={"type": "Point", "coordinates": [119.2, 34.6]},
        window_start=START,
        window_end=START + timedelta(days=1),
        explanation="e",
        suggested_action="a",
        model_id="fraud.dissuasion",
        model_version="1.0.0",
        evidence={"warning_ids": ids, "jurisdiction_code": "A"},
    )


def _store(url: str, victims_treated: int, victims_held: int, outcomes: bool = True) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = [
            FraudWarningRow(
                source="sim",
                source_id=f"FW{i}",
                person_pseudonym=f"p{i}",
                kind="fraud_contact",
                warned_at=START,
                jurisdiction_code="A",
                content_hash="h",
            )
            for i in range(400)
        ]
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
        add_findings(
            session=session,
            findings=[
                _finding("fraud_dissuasion_talk", ids[:300]),
                _finding("fraud_dissuasion_holdout", ids[300:]),
            ],
            jurisdiction_codes=["A", "A"],
            created_at=START,
        )
        session.commit()
    engine.dispose()
    if outcomes:
        victim = np.zeros(400, int)
        victim[:victims_treated] = 1
        victim[300 : 300 + victims_held] = 1
        f = Path(url.removeprefix("sqlite:///")).with_name("outcomes.csv")
        pd.DataFrame({"warning_id": [f"FW{i}" for i in range(400)], "victimised": victim}).to_csv(
            f, index=False
        )
        from haizhou.cli.main import app

        r = CliRunner().invoke(
            app, ["fraud", "outcomes", str(f), "--json"], env={"HAIZHOU_DATABASE_URL": url}
        )
        assert r.exit_code == 0, r.output
        assert '"recorded": 400' in r.output


def _uplift(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        u = stored_uplift(session, None, START - timedelta(days=1), START + timedelta(days=1))
    engine.dispose()
    return u


def test_uplift_from_the_recorded_holdout_and_outcomes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _store(url, victims_treated=3, victims_held=15)
    u = _uplift(url)
    assert u is not None and (u["n_treated"], u["n_control"]) == (300, 100)
    assert u["rate_treated"] == pytest.approx(0.01) and u["rate_control"] == pytest.approx(0.15)
    assert u["ci_high"] < 0 and u["with_outcome"] == 400


def test_no_outcomes_no_uplift(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _store(url, 0, 0, outcomes=False)
    assert _uplift(url) is None


def test_monthly_pdf_shows_the_uplift(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _store(url, victims_treated=3, victims_held=15)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        html = build_report(
            "monthly", session=session, scope=None, date=date(2025, 2, 1), fmt="html", lang="en"
        ).content.decode("utf-8")
        assert 'id="dissuasion-uplift"' in html and "Held out (not contacted)" in html
        assert "15.0%" in html and "1.0%" in html
        if shutil.which("pdftoppm") is None:
            pytest.skip("pdftoppm not installed")
        pdf = build_report(
            "monthly", session=session, scope=None, date=date(2025, 2, 1), fmt="pdf", lang="zh"
        ).content
    engine.dispose()
    (tmp_path / "m.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(tmp_path / "m.pdf"), str(tmp_path / "page")],
        check=True,
    )
    assert list(tmp_path.glob("page*.png"))
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "m.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "随机留置" in text


def test_hit_rate_by_age_band_from_dissuasion_feedback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fraud.dissuasion's findings carry the age band; officers' feedback gives the hit rate."""
    from haizhou.reports.sensing import sensing_section
    from haizhou.tasks import service
    from haizhou.tasks.service import FeedbackIn

    url = f"sqlite:///{tmp_path / 'h.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    plan = [("70+", True), ("70+", True), ("70+", False), ("18-29", False), ("18-29", None)]
    findings = [
        Finding(
            kind="fraud_dissuasion",
            title="电话劝阻",
            level=Level.RED,
            geometry={"type": "Point", "coordinates": [119.2, 34.6]},
            window_start=START,
            window_end=START + timedelta(days=1),
            explanation="e",
            suggested_action="a",
            model_id="fraud.dissuasion",
            model_version="1.0.0",
            evidence={"person_pseudonyms": [f"p{i}"], "age_band": band},
        )
        for i, (band, _) in enumerate(plan)
    ]
    with make_sessionmaker(engine)() as session:
        ids = add_findings(
            session=session, findings=findings, jurisdiction_codes=["A"] * 5, created_at=START
        )
        role = {"actor": "o", "actor_role": "station_officer"}
        for fid, (_, verified) in zip(ids, plan, strict=True):
            ins = service.issue_from_finding(
                session=session, finding_id=fid, now=START, fallback_code="A"
            ).instruction
            assert ins is not None and ins.status.value == "issued"
            service.approve(
                session=session, instruction_id=ins.id, now=START, actor="a", actor_role="analyst"
            )
            service.sign(session=session, instruction_id=ins.id, now=START, **role)
            service.feed_back(
                session=session,
                instruction_id=ins.id,
                feedback=FeedbackIn(verified=verified, text="已电话劝阻"),
                now=START,
                **role,
            )
        session.commit()
        s = sensing_section(
            session=session,
            scope=None,
            start=START,
            end=datetime(2025, 2, 1, tzinfo=UTC),
            incidents=pd.DataFrame(columns=["lon", "lat", "category", "jurisdiction_code"]),
            jurisdictions=(),
        )
    engine.dispose()
    d = s.dissuasion.set_index("age_band")
    assert d.loc["70+", "fed_back"] == 3 and d.loc["70+", "hit_rate"] == pytest.approx(2 / 3)
    assert d.loc["18-29", "fed_back"] == 1 and d.loc["18-29", "hit_rate"] == 0


def test_outcomes_update_and_unknown_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from haizhou.cli.main import app

    url = f"sqlite:///{tmp_path / 'h.db'}"
    _store(url, victims_treated=0, victims_held=0)
    f = tmp_path / "o2.csv"
    pd.DataFrame({"warning_id": ["FW0", "nope"], "victimised": [1, 0]}).to_csv(f, index=False)
    r = CliRunner().invoke(
        app, ["fraud", "outcomes", str(f), "--json"], env={"HAIZHOU_DATABASE_URL": url}
    )
    assert r.exit_code == 0, r.output
    assert '"updated": 1' in r.output and '"unknown_warning_ids": 1' in r.output
    u = _uplift(url)
    assert u is not None and u["rate_treated"] == pytest.approx(1 / 300)
