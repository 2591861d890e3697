"""Instruction policy: decisions by kind and level, deadlines by level, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from haizhou.domain import Level
from haizhou.tasks.policy import Decision, InstructionPolicy

T = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def test_default_decisions() -> None:
    policy = InstructionPolicy()
    got = {lv.value: policy.decide(kind="anything", level=lv).value for lv in Level}
    assert got == {"red": "auto", "orange": "auto", "yellow": "approval", "blue": "approval"}


def test_kind_rule_wins_over_the_wildcard_and_missing_levels_wait() -> None:
    policy = InstructionPolicy.model_validate(
        {"rules": {"*": {"red": "auto"}, "repeat_calls": {"red": "ignore", "blue": "auto"}}}
    )
    assert policy.decide(kind="repeat_calls", level="red") is Decision.IGNORE
    assert policy.decide(kind="repeat_calls", level="blue") is Decision.AUTO
    assert policy.decide(kind="hotspot", level="red") is Decision.AUTO
    assert policy.decide(kind="hotspot", level="orange") is Decision.APPROVAL  # not listed


def test_findings_naming_people_always_wait_for_a_human() -> None:
    policy = InstructionPolicy()
    assert policy.decide(kind="x", level="red", evidence={"person_pseudonyms": ["ab"]}) is (
        Decision.APPROVAL
    )
    assert policy.decide(kind="x", level="red", evidence={"person_pseudonyms": []}) is Decision.AUTO


@pytest.mark.parametrize(
    ("level", "sign_h", "feedback_h"),
    [("red", 0.5, 24), ("orange", 2, 48), ("yellow", 24, 72), ("blue", 72, 168)],
)
def test_default_deadlines(level: str, sign_h: float, feedback_h: float) -> None:
    d = InstructionPolicy().deadlines(level=level, issued_at=T)
    assert d.sign_due_at - T == timedelta(hours=sign_h)
    assert d.feedback_due_at - T == timedelta(hours=feedback_h)


def test_configured_deadlines_and_review() -> None:
    policy = InstructionPolicy.model_validate(
        {
            "sign_within_h": {"red": 0.25, "orange": 1, "yellow": 12, "blue": 48},
            "review_within_h": {"red": 6, "orange": 12, "yellow": 24, "blue": 24},
        }
    )
    assert policy.deadlines(level="red", issued_at=T).sign_due_at == T + timedelta(minutes=15)
    assert policy.review_due(level="red", fed_back_at=T) == T + timedelta(hours=6)
    assert policy.feedback_due_after_return(level="blue", returned_at=T) == T + timedelta(days=7)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"sign_within_h": {"red": 1}}, "missing orange, yellow, blue"),
        ({"sign_within_h": {"red": 0, "orange": 1, "yellow": 1, "blue": 1}}, "must be > 0"),
        ({"rules": {"*": {"purple": "auto"}}}, "purple"),
        ({"rules": {"*": {"red": "maybe"}}}, "maybe"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_bad_configuration_says_what(data: dict, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        InstructionPolicy.model_validate(data)
