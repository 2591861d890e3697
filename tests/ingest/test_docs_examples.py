"""docs/data-formats.md and docs/examples/ stay true: every example imports, every alias is listed."""

from __future__ import annotations

from pathlib import Path

from haizhou.ingest.mapping import ALIASES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_example_file_imports_without_quarantine(sqlite_store) -> None:
    examples = DOCS / "examples"
    expected = [
        ("jurisdictions", "jurisdictions.geojson", 2),
        ("jurisdictions", "jurisdictions_wkt.csv", 0),  # same polygon as 320706001: a duplicate
        ("incidents", "incidents_gbk.csv", 3),
        ("incidents", "incidents.csv", 1),
        ("cases", "cases.csv", 2),
        ("sensors", "sensors.csv", 2),
        ("persons", "persons.csv", 2),
    ]
    for kind, name, accepted in expected:
        summary = sqlite_store.run(kind, examples / name)
        assert (name, summary.accepted, summary.quarantined) == (name, accepted, 0)
    attrs = sqlite_store.rows("SELECT attributes FROM incidents WHERE source_id = 'J20240301001'")
    assert "张三" in attrs[0][0]
    masked = sqlite_store.rows(
        "SELECT caller_masked FROM incidents WHERE source_id = 'J20240301003'"
    )
    assert masked[0][0].startswith("0518") and "85123456" not in masked[0][0]


def test_every_alias_is_documented() -> None:
    text = (DOCS / "data-formats.md").read_text(encoding="utf-8")
    for kind, columns in ALIASES.items():
        assert f"#### {kind}" in text
        for canonical, names in columns.items():
            line = f"| `{canonical}` | {', '.join(names)} |"
            assert line in text, line
