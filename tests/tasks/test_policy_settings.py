"""The instruction policy read from the settings (``instruction_policy``), merged over defaults."""

from __future__ import annotations

import pytest

from haizhou.errors import HaizhouError
from haizhou.settings import Settings
from haizhou.tasks.policy import Decision, InstructionPolicy, policy_from_mapping


def test_empty_setting_is_the_default_policy() -> None:
    assert policy_from_mapping(Settings().instruction_policy) == InstructionPolicy()
    assert policy_from_mapping(None) == InstructionPolicy()


def test_entries_merge_over_the_defaults() -> None:
    policy = policy_from_mapping(
        {
            "rules": {"*": {"blue": "ignore"}, "repeat_calls": {"red": "approval"}},
            "feedback_within_h": {"yellow": 36},
        }
    )
    assert policy.decide(kind="hotspot", level="blue") is Decision.IGNORE
    assert policy.decide(kind="hotspot", level="red") is Decision.AUTO  # default kept
    assert policy.decide(kind="repeat_calls", level="red") is Decision.APPROVAL
    assert policy.decide(kind="repeat_calls", level="orange") is Decision.AUTO  # from "*"
    hours = {level.value: h for level, h in policy.feedback_within_h.items()}
    assert hours == {"red": 24, "orange": 48, "yellow": 36, "blue": 168}


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"rules": {"*": {"yellow": "sometimes"}}}, "instruction_policy.rules"),
        ({"sign_within_h": {"red": 0}}, "instruction_policy.sign_within_h"),
        ({"deadline": 3}, "instruction_policy.deadline"),
    ],
)
def test_an_invalid_entry_is_named(values: dict, names: str) -> None:
    with pytest.raises(HaizhouError, match=names.replace(".", r"\.")):
        policy_from_mapping(values)


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAIZHOU_INSTRUCTION_POLICY", '{"review_within_h": {"red": 12}}')
    policy = policy_from_mapping(Settings().instruction_policy)
    assert {lv.value: h for lv, h in policy.review_within_h.items()}["red"] == 12
