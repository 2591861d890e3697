"""Every report text exists in zh and en, and every key the templates use is defined."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from haizhou.reports import i18n
from haizhou.reports.i18n import LANGUAGES, STRINGS, text

TEMPLATES = Path(i18n.__file__).with_name("templates")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_key_has_both_languages_and_they_differ() -> None:
    assert len(STRINGS) > 100
    for key, entry in STRINGS.items():
        assert set(entry) == set(LANGUAGES), key
        assert entry["zh"].strip() and entry["en"].strip(), key
        assert entry["zh"] != entry["en"], key
        assert _HAN.search(entry["zh"]), f"{key}: zh text has no Chinese: {entry['zh']!r}"
        assert not _HAN.search(entry["en"]), f"{key}: en text has Chinese: {entry['en']!r}"


def test_every_key_used_by_templates_and_code_exists() -> None:
    used: set[str] = set()
    for path in TEMPLATES.glob("*.j2"):
        used |= set(re.findall(r"""t\(\s*['"]([a-z_.]+)['"]\s*\)""", path.read_text("utf-8")))
        used |= set(
            re.findall(r"""\(\s*'([a-z_]+\.[a-z_.]+)'\s*,\s*r\.""", path.read_text("utf-8"))
        )
    code = (TEMPLATES.parent / "render.py").read_text("utf-8") + (
        TEMPLATES.parent / "data.py"
    ).read_text("utf-8")
    used |= set(re.findall(r"""(?:t\(|used_for=)\s*"([a-z_]+\.[a-z_.]+)\"""", code))
    assert len(used) > 60  # the scan itself works
    missing = sorted(used - set(STRINGS))
    assert missing == []


def test_dynamic_key_families_are_complete() -> None:
    from haizhou.analytics.emerging import EmergingPattern
    from haizhou.domain import InstructionStatus, Level

    for level in Level:
        assert f"level.{level.value}" in STRINGS
    for status in InstructionStatus:
        assert f"status.{status.value}" in STRINGS
    for pattern in EmergingPattern:
        if pattern is not EmergingPattern.NO_PATTERN:
            assert f"pattern.{pattern.value}" in STRINGS


def test_text_picks_language_and_explains_errors() -> None:
    assert text("title.monthly") == "月研判报告"
    assert text("title.monthly", "en") == "Monthly assessment"
    with pytest.raises(KeyError, match=r"i18n\.py"):
        text("no.such.key")
    with pytest.raises(ValueError, match="zh, en"):
        text("title.daily", "fr")
