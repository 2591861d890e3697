"""The malformed-file test set: each file gives exactly the quarantine written beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from haizhou.errors import InputError

FILES = Path(__file__).resolve().parent / "files"

CASES = {
    # name: (rows read, accepted, skipped duplicates)
    "good_utf8": (3, 3, 0),
    "good_gbk": (3, 3, 0),
    "bom_crlf": (3, 3, 0),
    "mixed_encoding": (3, 3, 0),
    "bad_dates": (5, 2, 0),
    "out_of_area": (4, 1, 0),
    "missing_fields": (4, 1, 0),
    "duplicates": (4, 2, 1),
    "truncated": (4, 3, 0),
    "hidden_identifiers": (1, 1, 0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_quarantine_is_exactly_the_expected_one(area_store, name: str) -> None:
    rows, accepted, skipped = CASES[name]
    summary = area_store.run("incidents", FILES / f"{name}.csv")
    expected = area_store.expected(name)
    assert area_store.quarantine(summary.quarantine_file) == expected
    assert (summary.rows, summary.accepted, summary.skipped_duplicates) == (rows, accepted, skipped)
    assert summary.quarantined == len({r for r, _, _ in expected})
    stored = area_store.rows('SELECT row_number, "column", reason FROM quarantine ORDER BY id')
    assert [(r, c or "", why) for r, c, why in stored] == expected
    (count,) = area_store.rows("SELECT count(*) FROM incidents")[0]
    assert count == accepted


@pytest.mark.parametrize("name", ["good_utf8", "good_gbk", "bom_crlf", "mixed_encoding"])
def test_every_encoding_gives_the_same_records(area_store, name: str) -> None:
    area_store.run("incidents", FILES / f"{name}.csv", source="export")
    got = area_store.rows(
        "SELECT source_id, reported_at, category, subcategory, address, caller_masked, summary "
        "FROM incidents ORDER BY source_id"
    )
    assert [r[0] for r in got] == ["A001", "A002", "A003"]
    assert [r[2] for r in got] == ["盗窃", "纠纷", "诈骗"]
    assert [r[3] for r in got] == ["入室盗窃", None, "电信诈骗"]
    assert [r[4] for r in got] == ["海连路1号", "朝阳路2号", "解放路3号"]
    assert got[0][5] == "138****5678"
    assert got[1][6] == "邻里纠纷，回拨139****5432"
    # 08:15, 09:05 and 10:30 in Asia/Shanghai are 00:15, 01:05 and 02:30 UTC
    assert [str(r[1])[:19] for r in got] == [
        "2024-03-01 00:15:00",
        "2024-03-01 01:05:00",
        "2024-03-01 02:30:00",
    ]


def test_bad_dates_keep_offsets_and_excel_serials(area_store) -> None:
    area_store.run("incidents", FILES / "bad_dates.csv")
    got = dict(area_store.rows("SELECT source_id, reported_at FROM incidents"))
    assert str(got["B004"])[:19] == "2024-03-01 00:00:00"  # +08:00 offset honoured
    assert str(got["B005"])[:19] == "2024-03-01 04:00:00"  # Excel 45352.5 = 2024-03-01 12:00 local


def test_missing_column_is_refused_with_a_clear_error_and_nothing_loaded(area_store) -> None:
    with pytest.raises(InputError) as info:
        area_store.run("incidents", FILES / "missing_column.csv")
    message = str(info.value)
    assert "reported_at" in message and "--map" in message and "missing_column.csv" in message
    assert area_store.rows("SELECT count(*) FROM incidents") == [(0,)]
    assert area_store.rows("SELECT kind, status FROM import_batches WHERE kind = 'incidents'") == [
        ("incidents", "failed")
    ]


def test_hidden_identifiers_never_reach_the_store(area_store) -> None:
    summary = area_store.run("incidents", FILES / "hidden_identifiers.csv")
    assert summary.accepted == 1
    row = area_store.rows(
        "SELECT address, caller_pseudonym, caller_masked, summary, attributes FROM incidents"
    )[0]
    text = " ".join(str(v) for v in row)
    for clear in (
        "13812345678",
        "138 1234 5678",
        "11010519491231002X",
        "139-8765-4321",
        "苏G12345",
    ):
        assert clear not in text
    assert row[2] == "138****5678"
    assert row[1].startswith("p") and len(row[1]) == 33
    assert "110***********002X" in row[3]
    assert "苏G***45" in row[0]
    assert "110***********002X" in row[4] and "139****4321" in row[4]


def test_quarantine_never_holds_identifiers_in_clear(area_store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "incident_id,reported_at,category,lon,lat,caller_phone,summary\n"
        "Q1,not a time,盗窃,119.17,34.59,13812345678,回拨13998765432\n",
        encoding="utf-8",
    )
    summary = area_store.run("incidents", bad)
    assert summary.quarantined == 1
    stored = area_store.rows("SELECT value, raw FROM quarantine")
    text = Path(summary.quarantine_file).read_text(encoding="utf-8-sig") + repr(stored)
    assert "13812345678" not in text and "13998765432" not in text
    assert "139****5432" in text


def test_header_only_and_unterminated_quote(area_store, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("incident_id,reported_at,category,lon,lat\n", encoding="utf-8")
    summary = area_store.run("incidents", empty)
    assert (summary.rows, summary.accepted, summary.quarantined) == (0, 0, 0)
    cut = tmp_path / "cut.csv"
    cut.write_text(
        "incident_id,reported_at,category,lon,lat,summary\n"
        "U1,2024-03-01 08:00,盗窃,119.17,34.59,fine\n"
        'U2,2024-03-01 08:00,盗窃,119.17,34.59,"never closed\n',
        encoding="utf-8",
    )
    summary = area_store.run("incidents", cut)
    assert (summary.rows, summary.accepted, summary.quarantined) == (2, 1, 1)
    ((row, column, reason),) = area_store.quarantine(summary.quarantine_file)
    assert (row, column) == (3, "summary")
    assert "quote" in reason
