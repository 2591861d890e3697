"""Instructions in the store, on SQLite and PostgreSQL: issue, dedup, lifecycle, escalation."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.tasks._helpers import BUREAU, T0, X0, A, B, C, box, make_finding, point, store_finding

from haizhou.domain import InstructionStatus as S
from haizhou.domain import Level
from haizhou.errors import HaizhouError
from haizhou.store.tables.tasks import InstructionEventRow, InstructionRow, NotificationRow
from haizhou.tasks import service
from haizhou.tasks.lifecycle import ActionNotPermitted, IllegalTransition
from haizhou.tasks.policy import InstructionPolicy
from haizhou.tasks.service import FeedbackIn, InstructionNotFound

OFFICER = {"actor": "li", "actor_role": "station_officer"}
ANALYST = {"actor": "zhang", "actor_role": "analyst"}


def issue(session: Session, **finding_kwargs) -> service.IssueResult:
    finding_id = store_finding(session, make_finding(**finding_kwargs))
    result = service.issue_from_finding(session=session, finding_id=finding_id, now=T0)
    session.commit()
    return result


def history(session: Session, instruction_id: int) -> list[tuple[str, str | None, str]]:
    events = service.instruction_history(session=session, scope=None, instruction_id=instruction_id)
    return [(e.action, e.from_status, e.to_status) for e in events]


def count(session: Session, row: type) -> int:
    return session.scalar(select(func.count()).select_from(row)) or 0


def test_red_finding_is_issued_routed_with_deadlines(store: Session) -> None:
    result = issue(store, level="red")
    assert result.outcome == "issued"
    ins = result.instruction
    assert ins is not None
    assert (ins.status, ins.approval, ins.jurisdiction_code) == (S.ISSUED, "auto", A)
    assert ins.sign_due_at == T0 + timedelta(minutes=30)
    assert ins.feedback_due_at == T0 + timedelta(hours=24)
    assert history(store, ins.id) == [("issue", None, "issued")]


def test_polygon_finding_gets_lead_and_assisting(store: Session) -> None:
    geometry = box(X0[B] - 0.005, 34.595, X0[C] + 0.0075, 34.605)
    ins = issue(store, geometry=geometry, key="area-1").instruction
    assert ins is not None
    assert ins.jurisdiction_code == B and ins.assisting_codes == (C, A)
    # An assisting unit sees it but may not sign it; an unrelated scope cannot see it.
    assert [r.id for r in service.list_instructions(session=store, scope=[A])] == [ins.id]
    with pytest.raises(HaizhouError, match="only the lead unit signs"):
        service.sign(session=store, instruction_id=ins.id, now=T0, scope=[A], **OFFICER)
    with pytest.raises(InstructionNotFound):
        service.sign(session=store, instruction_id=ins.id, now=T0, scope=["999"], **OFFICER)


def test_outside_every_jurisdiction_needs_a_fallback(store: Session) -> None:
    finding_id = store_finding(store, make_finding(geometry=point(121.0, 31.0)))
    with pytest.raises(HaizhouError, match="outside every jurisdiction"):
        service.issue_from_finding(session=store, finding_id=finding_id, now=T0)
    result = service.issue_from_finding(
        session=store, finding_id=finding_id, now=T0, fallback_code=BUREAU
    )
    assert result.instruction is not None and result.instruction.jurisdiction_code == BUREAU


def test_yellow_waits_for_approval_then_is_issued(store: Session) -> None:
    result = issue(store, level="yellow")
    assert result.outcome == "pending"
    ins = result.instruction
    assert ins is not None and ins.sign_due_at is None and ins.issued_at is None
    assert service.list_instructions(session=store, scope=None) == []
    with pytest.raises(HaizhouError, match="awaiting an analyst's approval"):
        service.sign(session=store, instruction_id=ins.id, now=T0, **OFFICER)
    with pytest.raises(HaizhouError, match="may not approve"):
        service.approve(session=store, instruction_id=ins.id, now=T0, **OFFICER)
    later = T0 + timedelta(hours=3)
    approved = service.approve(session=store, instruction_id=ins.id, now=later, **ANALYST)
    assert approved.approval == "approved"
    assert approved.sign_due_at == later + timedelta(hours=24)
    assert [a for a, _, _ in history(store, ins.id)] == ["propose", "approve"]


def test_reject_closes_without_issuing(store: Session) -> None:
    ins = issue(store, level="blue").instruction
    assert ins is not None
    rejected = service.reject(
        session=store, instruction_id=ins.id, now=T0, reason="already known", **ANALYST
    )
    assert (rejected.status, rejected.approval) == (S.CLOSED, "rejected")
    assert history(store, ins.id)[-1] == ("reject", "issued", "closed")


def test_full_lifecycle_with_a_return_keeps_every_step(store: Session) -> None:
    ins = issue(store).instruction
    assert ins is not None
    t = T0
    step = timedelta(minutes=10)
    service.sign(
        session=store, instruction_id=ins.id, now=(t := t + step), assignee="team 2", **OFFICER
    )
    service.start(session=store, instruction_id=ins.id, now=(t := t + step), **OFFICER)
    first = FeedbackIn(verified=True, text="Two suspects seen", attachments=["photo-1.jpg"])
    fed = service.feed_back(
        session=store, instruction_id=ins.id, feedback=first, now=(t := t + step), **OFFICER
    )
    assert fed.review_due_at == t + timedelta(hours=24)
    with pytest.raises(HaizhouError, match="say why"):
        service.review(session=store, instruction_id=ins.id, accept=False, now=t, **ANALYST)
    returned = service.review(
        session=store,
        instruction_id=ins.id,
        accept=False,
        note="need patrol log",
        now=(t := t + step),
        **ANALYST,
    )
    assert returned.status is S.RETURNED and returned.returned_count == 1
    assert returned.feedback_due_at == t + timedelta(hours=24)
    second = FeedbackIn(verified=True, text="Patrol log attached", attachments=["log.pdf"])
    service.feed_back(
        session=store, instruction_id=ins.id, feedback=second, now=(t := t + step), **OFFICER
    )
    closed = service.review(
        session=store, instruction_id=ins.id, accept=True, now=(t := t + step), **ANALYST
    )
    store.commit()
    assert closed.status is S.CLOSED and closed.closed_at == t
    assert closed.assignee == "team 2"
    assert closed.feedback_attachments == ("log.pdf",)
    assert history(store, ins.id) == [
        ("issue", None, "issued"),
        ("sign", "issued", "signed"),
        ("start", "signed", "in_progress"),
        ("feed_back", "in_progress", "fed_back"),
        ("return", "fed_back", "returned"),
        ("feed_back", "returned", "fed_back"),
        ("accept", "fed_back", "closed"),
    ]
    events = service.instruction_history(session=store, scope=None, instruction_id=ins.id)
    assert [e.actor for e in events[1:]] == ["li", "li", "li", "zhang", "li", "zhang"]
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_illegal_transition_is_refused_and_leaves_no_trace(store: Session) -> None:
    ins = issue(store).instruction
    assert ins is not None
    service.sign(session=store, instruction_id=ins.id, now=T0, **OFFICER)
    store.commit()
    with pytest.raises(IllegalTransition, match="cannot sign an instruction that is signed"):
        service.sign(session=store, instruction_id=ins.id, now=T0, **OFFICER)
    store.rollback()
    with pytest.raises(IllegalTransition, match="allowed from signed: start, feed_back"):
        service.review(session=store, instruction_id=ins.id, accept=True, now=T0, **ANALYST)
    store.rollback()
    with pytest.raises(ActionNotPermitted):
        service.start(session=store, instruction_id=ins.id, now=T0, actor="x", actor_role="auditor")
    store.rollback()
    assert (
        service.get_instruction(session=store, scope=None, instruction_id=ins.id).status is S.SIGNED
    )
    assert history(store, ins.id) == [("issue", None, "issued"), ("sign", "issued", "signed")]


def test_same_hot_spot_tomorrow_updates_the_open_instruction(store: Session) -> None:
    first = issue(store, level="orange", key="cell-9").instruction
    assert first is not None
    finding_id = store_finding(store, make_finding(level="red", key="cell-9", day=1))
    tomorrow = T0 + timedelta(days=1)
    result = service.issue_from_finding(session=store, finding_id=finding_id, now=tomorrow)
    store.commit()
    assert result.outcome == "updated"
    ins = result.instruction
    assert ins is not None and ins.id == first.id
    assert ins.level is Level.RED and ins.refound_count == 1
    assert ins.evidence == {"count": 6} and ins.finding_id == finding_id
    # The signing deadline (T0 + 2 h) has passed: it is not moved; feedback tightens to red's.
    assert ins.sign_due_at == T0 + timedelta(hours=2)
    assert ins.feedback_due_at == tomorrow + timedelta(hours=24)
    assert count(store, InstructionRow) == 1
    events = service.instruction_history(session=store, scope=None, instruction_id=ins.id)
    assert events[-1].action == "refound" and "orange → red" in (events[-1].note or "")
    # Issuing the same finding again changes nothing.
    again = service.issue_from_finding(session=store, finding_id=finding_id, now=tomorrow)
    assert again.outcome == "unchanged" and count(store, InstructionRow) == 1


def test_other_model_or_closed_instruction_gives_a_new_one(store: Session) -> None:
    first = issue(store, key="k").instruction
    assert first is not None
    other = issue(store, key="k", model_id="repeat_calls").instruction
    assert other is not None and other.id != first.id
    service.sign(session=store, instruction_id=first.id, now=T0, **OFFICER)
    service.feed_back(
        session=store,
        instruction_id=first.id,
        now=T0,
        feedback=FeedbackIn(verified=False, text="no"),
        **OFFICER,
    )
    service.review(session=store, instruction_id=first.id, accept=True, now=T0, **ANALYST)
    store.commit()
    fresh = issue(store, key="k", day=2).instruction
    assert fresh is not None and fresh.id not in {first.id, other.id}
    assert count(store, InstructionRow) == 3


def test_refound_pending_at_auto_level_is_issued(store: Session) -> None:
    pending = issue(store, level="yellow", key="p").instruction
    assert pending is not None and pending.approval == "pending"
    finding_id = store_finding(store, make_finding(level="red", key="p", day=1))
    result = service.issue_from_finding(
        session=store, finding_id=finding_id, now=T0 + timedelta(days=1)
    )
    assert result.instruction is not None
    assert result.instruction.approval == "auto"
    assert result.instruction.sign_due_at == T0 + timedelta(days=1, minutes=30)


def test_ignored_by_policy(store: Session) -> None:
    policy = InstructionPolicy.model_validate({"rules": {"*": {"blue": "ignore"}}})
    finding_id = store_finding(store, make_finding(level="blue"))
    result = service.issue_from_finding(session=store, finding_id=finding_id, now=T0, policy=policy)
    assert (result.outcome, result.instruction) == ("ignored", None)
    assert count(store, InstructionRow) == 0


def test_escalation_fires_once_per_late_step_at_the_right_moment(store: Session) -> None:
    ins = issue(store, level="red").instruction  # sign due T0 + 30 min, feedback T0 + 24 h
    assert ins is not None
    sign_due = T0 + timedelta(minutes=30)
    assert service.escalate_overdue(session=store, now=sign_due) == []
    assert service.list_instructions(session=store, scope=None, overdue=True, now=sign_due) == []
    late = sign_due + timedelta(seconds=1)
    notes = service.escalate_overdue(session=store, now=late)
    store.commit()
    assert len(notes) == 1
    note = notes[0]
    assert (note.instruction_id, note.recipient_unit, note.recipient_role) == (
        ins.id,
        BUREAU,
        "commander",
    )
    assert note.detail["step"] == "sign" and "签收超时" in note.message
    assert [
        r.id for r in service.list_instructions(session=store, scope=None, overdue=True, now=late)
    ] == [ins.id]
    # Running again does not escalate the same step twice.
    assert service.escalate_overdue(session=store, now=late + timedelta(hours=1)) == []
    record = service.get_instruction(session=store, scope=None, instruction_id=ins.id)
    assert (record.status, record.escalation_level, record.escalated_steps) == (
        S.ISSUED,
        1,
        ("sign",),
    )
    # Escalation is a flag, not a state: the station can still sign, and later runs late on feedback.
    service.sign(session=store, instruction_id=ins.id, now=late + timedelta(hours=2), **OFFICER)
    feedback_due = T0 + timedelta(hours=24)
    assert service.escalate_overdue(session=store, now=feedback_due) == []
    second = service.escalate_overdue(session=store, now=feedback_due + timedelta(minutes=1))
    assert len(second) == 1 and second[0].detail == {
        "step": "feedback:0",
        "escalation_level": 2,
        "jurisdiction_code": A,
    }
    assert second[0].recipient_unit is None  # the second escalation goes to the bureau
    assert count(store, NotificationRow) == 2
    actions = [a for a, _, _ in history(store, ins.id)]
    assert actions == ["issue", "escalate", "sign", "escalate"]
    assert history(store, ins.id)[1] == ("escalate", "issued", "issued")


def test_a_returned_round_is_a_new_step_to_escalate(store: Session) -> None:
    ins = issue(store, level="red").instruction
    assert ins is not None
    service.sign(session=store, instruction_id=ins.id, now=T0, **OFFICER)
    service.feed_back(
        session=store,
        instruction_id=ins.id,
        now=T0,
        feedback=FeedbackIn(verified=None, text="?"),
        **OFFICER,
    )
    # Review due T0 + 24 h: late review escalates too.
    late_review = service.escalate_overdue(session=store, now=T0 + timedelta(hours=25))
    assert [n.detail["step"] for n in late_review] == ["review:0"]
    service.review(
        session=store,
        instruction_id=ins.id,
        accept=False,
        note="more",
        now=T0 + timedelta(hours=26),
        **ANALYST,
    )
    notes = service.escalate_overdue(session=store, now=T0 + timedelta(hours=51))
    assert [n.detail["step"] for n in notes] == ["feedback:1"]


def test_model_precision_counts_current_feedback(store: Session) -> None:
    outcomes = {"m1": [True] * 8 + [False] * 2 + [None], "m2": [False]}
    ids = []
    for model_id, verdicts in outcomes.items():
        for i, verdict in enumerate(verdicts):
            ins = issue(store, key=f"{model_id}-{i}", model_id=model_id).instruction
            assert ins is not None
            service.sign(session=store, instruction_id=ins.id, now=T0, **OFFICER)
            service.feed_back(
                session=store,
                instruction_id=ins.id,
                now=T0,
                feedback=FeedbackIn(verified=verdict, text="done"),
                **OFFICER,
            )
            ids.append(ins.id)
    # A returned feedback no longer counts.
    service.review(
        session=store, instruction_id=ids[-1], accept=False, note="check again", now=T0, **ANALYST
    )
    # An instruction still open does not count.
    issue(store, key="m1-open", model_id="m1")
    store.commit()
    rows = {m.model_id: m for m in service.model_precision(session=store)}
    assert set(rows) == {"m1"}
    m1 = rows["m1"]
    assert (m1.verified_true, m1.verified_false, m1.unverified) == (8, 2, 1)
    assert m1.precision == pytest.approx(0.8)
    assert (round(m1.low, 4), round(m1.high, 4)) == (0.4902, 0.9433)
    assert service.model_precision(session=store, reviewed_only=True) == []


def test_create_manual_by_unit_or_geometry(store: Session) -> None:
    with pytest.raises(HaizhouError, match="may not create"):
        service.create_manual(
            session=store, title="x", level="red", now=T0, jurisdiction_code=A, **OFFICER
        )
    with pytest.raises(HaizhouError, match="does not exist"):
        service.create_manual(
            session=store, title="x", level="red", now=T0, jurisdiction_code="nope", **ANALYST
        )
    by_unit = service.create_manual(
        session=store,
        title="School gate patrol",
        level="orange",
        now=T0,
        jurisdiction_code=C,
        **ANALYST,
    )
    assert (by_unit.approval, by_unit.jurisdiction_code, by_unit.sign_due_at) == (
        "manual",
        C,
        T0 + timedelta(hours=2),
    )
    by_geometry = service.create_manual(
        session=store,
        title="Market",
        level="blue",
        now=T0,
        geometry=point(X0[B] + 0.01, 34.6),
        **ANALYST,
    )
    assert by_geometry.jurisdiction_code == B
    assert history(store, by_unit.id) == [("issue", None, "issued")]
    assert count(store, InstructionEventRow) == 2


def test_list_filters(store: Session) -> None:
    a = issue(store, key="1").instruction
    b = issue(store, key="2", level="orange", geometry=point(X0[B] + 0.01, 34.6)).instruction
    assert a is not None and b is not None
    service.sign(session=store, instruction_id=b.id, now=T0, **OFFICER)
    assert [r.id for r in service.list_instructions(session=store, scope=None)] == [a.id, b.id]
    assert [
        r.id for r in service.list_instructions(session=store, scope=None, status="signed")
    ] == [b.id]
    assert [r.id for r in service.list_instructions(session=store, scope=[B])] == [b.id]
    with pytest.raises(ValueError, match="needs now"):
        service.list_instructions(session=store, scope=None, overdue=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from(["sign", "start", "feed_back", "accept", "return", "escalate"]),
            st.integers(0, 48),
        ),
        max_size=12,
    )
)
def test_random_moves_in_the_store_keep_a_complete_history(store: Session, moves) -> None:
    """Whatever is tried, the stored status is the replay of the stored history."""
    ins = service.create_manual(
        session=store, title="random", level="red", now=T0, jurisdiction_code=A, **ANALYST
    )
    store.commit()
    now, done = T0, 0
    for move, hours in moves:
        now += timedelta(hours=hours)
        try:
            if move == "escalate":
                service.escalate_overdue(session=store, now=now)
            elif move in {"accept", "return"}:
                service.review(
                    session=store,
                    instruction_id=ins.id,
                    accept=move == "accept",
                    note="n",
                    now=now,
                    **ANALYST,
                )
            elif move == "feed_back":
                service.feed_back(
                    session=store,
                    instruction_id=ins.id,
                    now=now,
                    feedback=FeedbackIn(verified=True, text="t"),
                    **OFFICER,
                )
            else:
                getattr(service, move)(session=store, instruction_id=ins.id, now=now, **OFFICER)
        except IllegalTransition:
            store.rollback()
            continue
        store.commit()
        done += move != "escalate"
    events = service.instruction_history(session=store, scope=None, instruction_id=ins.id)
    moved = [e for e in events if e.from_status != e.to_status or e.action == "issue"]
    assert moved[0].action == "issue"
    assert len(moved) - 1 == done
    for before, after in itertools.pairwise(events):
        assert after.from_status == before.to_status
        assert after.at >= before.at
    record = service.get_instruction(session=store, scope=None, instruction_id=ins.id)
    assert record.status.value == events[-1].to_status
    assert record.escalation_level == sum(e.action == "escalate" for e in events)
