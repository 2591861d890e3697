"""KPIs read from the store equal the hand-computed values (both back ends)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session
from tests.tasks._helpers import A, B, C, case, incident

from haizhou.tasks import service
from haizhou.tasks.kpi_service import kpi_report

SH = ZoneInfo("Asia/Shanghai")
ANALYST = {"actor": "zhang", "actor_role": "analyst"}
OFFICER = {"actor": "li", "actor_role": "station_officer"}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def march(store: Session) -> Session:
    store.add_all(
        [
            incident("i1", sh(2026, 3, 5, 10), A),
            incident("i2", sh(2026, 3, 6, 10), A),
            incident("i3", sh(2026, 3, 7, 10), A, "fraud"),
            incident("i4", sh(2026, 3, 10, 10), B),
            incident("i5", sh(2026, 2, 10, 10), A),  # previous month
            incident("i6", sh(2025, 3, 15, 10), B),  # March last year
            incident("i7", sh(2026, 4, 1, 0), C),  # next month
            case("c1", sh(2026, 3, 2), A, solved=sh(2026, 3, 20), suspects=["s1", "s2"]),
            case("c2", sh(2026, 3, 3), A),
            case("c3", sh(2026, 3, 4), B, solved=sh(2026, 4, 5), suspects=["s9"]),
            case("c4", sh(2026, 2, 1), B, solved=sh(2026, 3, 10), suspects=["s2"]),
        ]
    )
    store.commit()
    # Instructions: A signs on time and feeds back on time; B signs late; C never signs.
    i1 = service.create_manual(
        session=store, title="1", level="red", now=utc(2026, 3, 5), jurisdiction_code=A, **ANALYST
    )
    service.sign(session=store, instruction_id=i1.id, now=utc(2026, 3, 5, 0, 10), **OFFICER)
    service.feed_back(
        session=store,
        instruction_id=i1.id,
        now=utc(2026, 3, 5, 1),
        feedback=service.FeedbackIn(verified=True, text="ok"),
        **OFFICER,
    )
    i2 = service.create_manual(
        session=store,
        title="2",
        level="orange",
        now=utc(2026, 3, 6),
        jurisdiction_code=B,
        **ANALYST,
    )
    service.sign(session=store, instruction_id=i2.id, now=utc(2026, 3, 6, 3), **OFFICER)
    service.create_manual(
        session=store,
        title="3",
        level="yellow",
        now=utc(2026, 3, 7),
        jurisdiction_code=C,
        **ANALYST,
    )
    store.commit()
    return store


def test_kpi_report_by_hand(march: Session) -> None:
    report = kpi_report(session=march, scope=None, at=sh(2026, 3, 15), now=utc(2026, 3, 8, 4))
    assert (report.start, report.end) == (sh(2026, 3, 1), sh(2026, 4, 1))
    incidents = report.incidents.set_index("category")
    assert incidents.loc["theft", ["current", "previous", "last_year"]].tolist() == [3, 1, 1]
    assert incidents.loc["theft", "pop"] == pytest.approx(2.0)
    assert incidents.loc["theft", "yoy"] == pytest.approx(2.0)
    assert incidents.loc["fraud", "current"] == 1 and math.isnan(incidents.loc["fraud", "yoy"])
    assert incidents.loc["all", ["current", "previous", "last_year"]].tolist() == [4, 1, 1]
    cases = report.cases.set_index("category")
    assert cases.loc["burglary", ["current", "previous", "last_year"]].tolist() == [3, 1, 0]
    # Filed in March: c1, c2, c3. Cohort: c1 solved by April -> 1/3. Flow: c1 and c4 -> 2/3.
    assert (report.clearance_cohort.numerator, report.clearance_cohort.denominator) == (1, 3)
    assert (report.clearance_flow.numerator, report.clearance_flow.denominator) == (2, 3)
    assert (report.cases_solved, report.suspects_caught) == (2, 2)
    # Signing: i1 on time, i2 late, i3 undone and past due at now -> 1/3.
    assert (report.on_time_signing.numerator, report.on_time_signing.denominator) == (1, 3)
    # Feedback: i1 on time, i2 past due (03-08 00:00) -> late; i3 not due yet -> 1/2.
    assert (report.on_time_feedback.numerator, report.on_time_feedback.denominator) == (1, 2)
    ranking = report.rankings["incidents"]
    assert list(zip(ranking["unit"], ranking["value"], ranking["rank"], strict=True)) == [
        (A, 3.0, 1),
        (B, 1.0, 2),
        (C, 0.0, 3),
    ]
    clearance = report.rankings["clearance_flow"]
    assert clearance["unit"].tolist() == [B, A, C]
    assert clearance["value"].tolist()[:2] == [1.0, 0.5]
    assert [m.model_id for m in report.model_precision] == []
    as_json = report.to_dict()
    assert as_json["clearance_rate_flow"] == {"numerator": 2, "denominator": 3, "rate": 2 / 3}
    assert as_json["incidents"][0]["yoy"] is None  # fraud: NaN becomes null


def test_scope_limits_every_figure(march: Session) -> None:
    report = kpi_report(session=march, scope=[B], at=sh(2026, 3, 15), now=utc(2026, 3, 8, 4))
    assert report.incidents.set_index("category").loc["all", "current"] == 1
    assert (report.clearance_flow.numerator, report.clearance_flow.denominator) == (1, 1)
    assert report.on_time_signing.denominator == 1
    assert report.rankings["incidents"]["unit"].tolist() == [B]
