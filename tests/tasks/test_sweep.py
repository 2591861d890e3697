"""issue_findings: new findings become instructions by policy, once, and the sweep is idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.tasks._helpers import BUREAU, T0, A, B, centre, make_finding, point, store_finding

from haizhou.store.tables.tasks import InstructionRow
from haizhou.tasks import service
from haizhou.tasks.policy import policy_from_mapping


def test_new_findings_are_issued_by_policy_once(store: Session) -> None:
    red = store_finding(store, make_finding(level="red", key="hot:a", geometry=centre(A)))
    yellow = store_finding(store, make_finding(level="yellow", key="hot:b", geometry=centre(B)))
    again = store_finding(store, make_finding(level="red", key="hot:a", geometry=centre(A), day=1))
    outside = store_finding(store, make_finding(level="red", key="hot:x", geometry=point(1.0, 1.0)))
    result = service.issue_findings(session=store, now=T0 + timedelta(days=1))
    store.commit()
    assert result.counts == {"issued": 2, "pending": 1, "updated": 1, "unchanged": 0, "ignored": 0}
    assert result.unrouted == ()
    rows = store.execute(select(InstructionRow).order_by(InstructionRow.id)).scalars().all()
    leads = [(r.jurisdiction_code, r.approval, r.refound_count) for r in rows]
    assert leads == [(A, "auto", 1), (B, "pending", 0), (BUREAU, "auto", 0)]  # outside → bureau
    assert rows[0].finding_id == again and rows[2].finding_id == outside
    assert {red, yellow} <= set(range(1, outside + 1))
    # Running it again changes nothing.
    second = service.issue_findings(session=store, now=T0 + timedelta(days=2))
    assert sum(second.counts.values()) == 0
    assert store.execute(select(InstructionRow.id).order_by(InstructionRow.id)).scalars().all() == [
        r.id for r in rows
    ]
    assert rows[0].refound_count == 1


def test_only_the_given_findings_and_the_policy_decides(store: Session) -> None:
    first = store_finding(store, make_finding(level="blue", key="k1"))
    second = store_finding(store, make_finding(level="blue", key="k2"))
    ignore_blue = policy_from_mapping({"rules": {"*": {"blue": "ignore"}}})
    result = service.issue_findings(session=store, now=T0, finding_ids=[second], policy=ignore_blue)
    assert result.counts["ignored"] == 1 and sum(result.counts.values()) == 1
    result = service.issue_findings(session=store, now=T0, finding_ids=[first, second])
    assert result.counts["pending"] == 2


def test_without_a_single_root_an_outside_finding_is_listed(store: Session) -> None:
    from haizhou.store.tables import JurisdictionRow

    store.add(JurisdictionRow(code="other-bureau", name="x", station="x", source="t"))
    store.commit()
    outside = store_finding(store, make_finding(geometry=point(1.0, 1.0)))
    result = service.issue_findings(session=store, now=T0)
    assert result.unrouted == (outside,) and sum(result.counts.values()) == 0
