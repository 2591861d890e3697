"""The import pipeline on both databases: values, idempotency, conflicts, datums, ORM round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import h3
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from haizhou.errors import InputError
from haizhou.geo.transform import CoordTransformer
from haizhou.store.tables import (
    CaseRow,
    ImportBatchRow,
    IncidentRow,
    JurisdictionRow,
    QuarantineRow,
)

INCIDENTS = (
    "警情编号,报警时间,警情类别,经度,纬度,报警电话,报警内容\n"
    "X1,2024-05-01 08:00:00,盗窃,119.17,34.59,13812345678,家中被盗\n"
    "X2,2024-05-01T09:30:00+08:00,纠纷,119.19,34.585,,\n"
    "X3,2024-05-01 10:00,诈骗,119.195,34.599,13812345678,回拨 13998765432\n"
)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_import_stores_normalised_rows_and_reads_back_through_the_orm(
    store, files, tmp_path
) -> None:
    store.run("jurisdictions", files / "jurisdictions.geojson")
    summary = store.run("incidents", _write(tmp_path, "calls.csv", INCIDENTS), source="110")
    assert (summary.accepted, summary.quarantined, summary.skipped_duplicates) == (3, 0, 0)
    with Session(store.engine) as session:
        rows = session.scalars(select(IncidentRow).order_by(IncidentRow.source_id)).all()
        batch = session.get(ImportBatchRow, summary.batch_id)
    assert [r.source_id for r in rows] == ["X1", "X2", "X3"]
    assert rows[0].reported_at == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert rows[1].reported_at == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert [r.jurisdiction_code for r in rows] == ["320706001", "320706002", "320706002"]
    for r in rows:
        assert r.h3_r9 == h3.str_to_int(h3.latlng_to_cell(r.lat, r.lon, 9))
        assert r.h3_r8 == h3.str_to_int(h3.latlng_to_cell(r.lat, r.lon, 8))
        assert r.h3_r7 == h3.str_to_int(h3.latlng_to_cell(r.lat, r.lon, 7))
        assert r.batch_id == summary.batch_id and r.source == "110" and len(r.content_hash) == 32
    # the same phone gives the same pseudonym; the clear number is nowhere
    assert rows[0].caller_pseudonym == rows[2].caller_pseudonym is not None
    assert rows[1].caller_pseudonym is None and rows[1].caller_masked is None
    assert rows[2].summary == "回拨 139****5432"
    assert batch is not None and batch.status == "done"
    assert (batch.accepted, batch.quarantined, batch.skipped_duplicates) == (3, 0, 0)
    assert batch.finished_at is not None and batch.finished_at.tzinfo is not None


def test_second_import_adds_nothing_and_conflicts_are_quarantined(store, files, tmp_path) -> None:
    store.run("jurisdictions", files / "jurisdictions.geojson")
    path = _write(tmp_path, "calls.csv", INCIDENTS + "X4,bad time,盗窃,119.17,34.59,,\n")
    first = store.run("incidents", path, source="110")
    assert (first.accepted, first.quarantined) == (3, 1)
    before = (
        store.rows("SELECT count(*) FROM incidents")[0][0],
        store.rows("SELECT count(*) FROM quarantine")[0][0],
    )
    second = store.run("incidents", path, source="110")
    assert (second.accepted, second.skipped_duplicates, second.quarantined) == (0, 3, 1)
    after = (
        store.rows("SELECT count(*) FROM incidents")[0][0],
        store.rows("SELECT count(*) FROM quarantine")[0][0],
    )
    assert after == before == (3, 1)
    # same id, other content: quarantined, the stored row untouched
    changed = _write(tmp_path, "calls2.csv", INCIDENTS.replace("家中被盗", "车内被盗"))
    third = store.run("incidents", changed, source="110")
    assert (third.accepted, third.skipped_duplicates, third.quarantined) == (0, 2, 1)
    assert store.quarantine(third.quarantine_file) == [
        (
            2,
            "警情编号",
            "id already loaded with different content; give a new id or a different --source",
        )
    ]
    assert store.rows("SELECT summary FROM incidents WHERE source_id = 'X1'") == [("家中被盗",)]
    # another source may reuse the ids (and any name is safe as a source)
    fourth = store.run("incidents", changed, source="o'hare; --")
    assert fourth.accepted == 3
    assert store.run("incidents", changed, source="o'hare; --").skipped_duplicates == 3
    assert store.rows("SELECT DISTINCT batch_id IS NOT NULL FROM incidents") == [(True,)]


def test_gcj02_and_bd09_input_is_stored_as_wgs84_within_a_metre(store, files, tmp_path) -> None:
    store.run("jurisdictions", files / "jurisdictions.geojson")
    truth_lon, truth_lat = np.array([119.171, 119.188]), np.array([34.591, 34.583])
    for datum in ("gcj02", "bd09"):
        lon, lat = CoordTransformer.from_datums("wgs84", datum).transform(truth_lon, truth_lat)
        text = "incident_id,reported_at,category,lon,lat\n" + "".join(
            f"{datum}{i},2024-05-01 08:00,盗窃,{x:.9f},{y:.9f}\n"
            for i, (x, y) in enumerate(zip(lon, lat, strict=True))
        )
        summary = store.run("incidents", _write(tmp_path, f"{datum}.csv", text), crs=datum)
        assert summary.accepted == 2
        got = store.rows(
            f"SELECT lon, lat FROM incidents WHERE source = '{datum}' ORDER BY source_id"
        )
        for (x, y), tx, ty in zip(got, truth_lon, truth_lat, strict=True):
            dx = (x - tx) * 111_320 * np.cos(np.radians(ty))
            dy = (y - ty) * 110_540
            assert np.hypot(dx, dy) < 1.0
        # uncorrected, the GCJ offset (hundreds of metres) would have been stored
        assert abs(lon[0] - truth_lon[0]) * 111_320 * np.cos(np.radians(34.59)) > 100


def test_no_jurisdictions_means_a_clear_error_unless_area_check_is_off(store, tmp_path) -> None:
    path = _write(tmp_path, "calls.csv", INCIDENTS)
    with pytest.raises(InputError, match="import them first"):
        store.run("incidents", path)
    assert store.rows("SELECT count(*) FROM import_batches") == [(0,)]
    summary = store.run("incidents", path, area_check=False)
    assert summary.accepted == 3
    assert store.rows("SELECT DISTINCT jurisdiction_code FROM incidents") == [(None,)]


def test_jurisdictions_reimport_and_conflict(store, files, tmp_path) -> None:
    first = store.run("jurisdictions", files / "jurisdictions.geojson")
    again = store.run("jurisdictions", files / "jurisdictions.geojson")
    assert (first.accepted, again.accepted, again.skipped_duplicates) == (2, 0, 2)
    text = (
        (files / "jurisdictions.geojson")
        .read_text(encoding="utf-8")
        .replace("新海辖区", "新海街道")
    )
    changed = store.run("jurisdictions", _write(tmp_path, "j2.geojson", text))
    assert (changed.accepted, changed.quarantined, changed.skipped_duplicates) == (0, 1, 1)
    with Session(store.engine) as session:
        rows = session.scalars(select(JurisdictionRow).order_by(JurisdictionRow.code)).all()
        q = session.scalars(select(QuarantineRow)).all()
    assert [r.name for r in rows] == ["新海辖区", "朐阳辖区"]
    assert rows[0].geometry["type"] == "Polygon"
    assert (rows[0].min_lon, rows[0].min_lat, rows[0].max_lon, rows[0].max_lat) == pytest.approx(
        (119.16, 34.58, 119.18, 34.60)
    )
    assert rows[0].parent_code == "320706" and rows[0].station == "新海派出所"
    assert [(x.row_number, x.column) for x in q] == [(1, "编号")]


CASES = (
    "案件编号,警情编号,案件类别,发案时间起,发案时间止,经度,纬度,作案手段,损失金额,案件状态,破案时间,嫌疑人身份证号,简要案情\n"
    "K1,X1,盗窃,2024-05-01 01:00,2024-05-01 06:00,119.17,34.59,撬锁,1200,破案,2024-05-10 12:00,11010519491231002X;110105194912310021,嫌疑人电话13812345678\n"
    "K2,,盗窃,2024-05-02 01:00,,119.19,34.59,翻窗,,立案,,,\n"
    "K3,,盗窃,2024-05-03 05:00,2024-05-03 01:00,119.19,34.59,,abc,侦查中,,,\n"
)


def test_cases_convert_windows_status_and_suspects(store, files, tmp_path) -> None:
    store.run("jurisdictions", files / "jurisdictions.geojson")
    summary = store.run("cases", _write(tmp_path, "cases.csv", CASES, "gbk"))
    assert (summary.accepted, summary.quarantined) == (2, 1)
    assert store.quarantine(summary.quarantine_file) == [
        (4, "发案时间止", "occurrence window ends before it starts (发案时间止 < 发案时间起)"),
        (4, "损失金额", "not a number"),
        (4, "案件状态", "unknown status; use filed/solved (立案/破案)"),
    ]
    with Session(store.engine) as session:
        k1, k2 = session.scalars(select(CaseRow).order_by(CaseRow.source_id)).all()
    assert k1.occurred_from == datetime(2024, 4, 30, 17, tzinfo=UTC)
    assert k1.occurred_to == datetime(2024, 4, 30, 22, tzinfo=UTC)
    assert k1.status == "solved" and k1.solved_at == datetime(2024, 5, 10, 4, tzinfo=UTC)
    assert k1.mo_entry_method == "撬锁" and k1.loss_amount == 1200.0
    assert k1.incident_source_id == "X1"
    assert len(k1.suspect_pseudonyms) == 2 and all(p.startswith("p") for p in k1.suspect_pseudonyms)
    assert k1.narrative == "嫌疑人电话138****5678"
    assert (
        k2.status == "filed"
        and k2.occurred_to == k2.occurred_from
        and k2.suspect_pseudonyms is None
    )


def test_sensors_and_persons(store, files, tmp_path) -> None:
    store.run("jurisdictions", files / "jurisdictions.geojson")
    sensors = (
        "点位编号,点位类型,经度,纬度,感知半径,朝向,状态\n"
        "S1,视频监控,119.17,34.59,80,90,在用\n"
        "S2,卡口,119.19,34.59,,,\n"
        "S3,飞艇,119.19,34.59,50,400,坏了\n"
    )
    s = store.run("sensors", _write(tmp_path, "sensors.csv", sensors))
    assert (s.accepted, s.quarantined) == (2, 1)
    assert store.quarantine(s.quarantine_file) == [
        (
            4,
            "点位类型",
            "unknown sensor kind; use one of ['adsb', 'camera', 'plate_reader', 'radar', 'remote_id', 'rf', 'wifi_probe']",
        ),
        (4, "朝向", "out of range [0, 360]"),
        (4, "状态", "unknown status; use active/fault/retired (在用/故障/停用)"),
    ]
    assert store.rows(
        "SELECT source_id, kind, range_m, heading_deg, status, jurisdiction_code FROM sensors ORDER BY source_id"
    ) == [
        ("S1", "camera", 80.0, 90.0, "active", "320706001"),
        ("S2", "plate_reader", None, None, "active", "320706002"),
    ]
    persons = (
        "身份证号,登记类型,居住地经度,居住地纬度,居住地址,年龄段\n"
        "11010519491231002X,户籍,119.17,34.59,海连路1号,60+\n"
        "110105194912310021,暂住,,,,30-39\n"
        "110105194912310030,流浪,119.17,,,\n"
    )
    p = store.run("persons", _write(tmp_path, "persons.csv", persons))
    assert (p.accepted, p.quarantined) == (2, 1)
    got = store.rows(
        "SELECT source_id, pseudonym, masked_id, registration, jurisdiction_code FROM persons ORDER BY masked_id"
    )
    assert [r[2] for r in got] == ["110***********0021", "110***********002X"]
    assert all(r[0] == r[1] and r[0].startswith("p") for r in got)
    assert [r[3] for r in got] == ["temporary", "permanent"]
    assert [r[4] for r in got] == [None, "320706001"]
    text = repr(store.rows("SELECT * FROM persons")) + repr(store.rows("SELECT * FROM quarantine"))
    assert "11010519491231002X" not in text and "110105194912310030" not in text


def test_gcj02_polygons_are_stored_in_wgs84(sqlite_store, files) -> None:
    import json

    doc = json.loads((files / "jurisdictions.geojson").read_text(encoding="utf-8"))
    to_gcj = CoordTransformer.from_datums("wgs84", "gcj02")
    for feature in doc["features"]:
        ring = np.array(feature["geometry"]["coordinates"][0])
        lon, lat = to_gcj.transform(ring[:, 0], ring[:, 1])
        feature["geometry"]["coordinates"] = [np.column_stack([lon, lat]).tolist()]
    path = sqlite_store.data_dir.parent / "gcj.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert sqlite_store.run("jurisdictions", path, crs="gcj02").accepted == 2
    (bbox,) = sqlite_store.rows(
        "SELECT min_lon, min_lat, max_lon, max_lat FROM jurisdictions WHERE code = '320706001'"
    )
    assert bbox == pytest.approx((119.16, 34.58, 119.18, 34.60), abs=1e-7)  # < 1 cm


def test_excel_incidents_with_serial_times(sqlite_store, files, tmp_path) -> None:
    import openpyxl

    sqlite_store.run("jurisdictions", files / "jurisdictions.geojson")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["警情编号", "报警时间", "警情类别", "经度", "纬度"])
    sheet.append(["E1", 45352.5, "盗窃", 119.17, 34.59])
    sheet.append(["E2", datetime(2024, 3, 1, 12, 0), "盗窃", 119.19, 34.59])
    sheet.append(["E3", "明天", "盗窃", 119.19, 34.59])
    path = tmp_path / "calls.xlsx"
    book.save(path)
    summary = sqlite_store.run("incidents", path)
    assert (summary.accepted, summary.quarantined) == (2, 1)
    assert [r for r, _, _ in sqlite_store.quarantine(summary.quarantine_file)] == [4]
    got = sqlite_store.rows("SELECT reported_at FROM incidents ORDER BY source_id")
    assert [str(r[0])[:19] for r in got] == ["2024-03-01 04:00:00", "2024-03-01 04:00:00"]
