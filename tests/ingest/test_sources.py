"""Each source reads its format into the same string columns and row numbers."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from haizhou.errors import InputError
from haizhou.ingest.sources import ReadOptions, all_sources, source_for
from haizhou.ingest.sources.geopackage import gpkg_to_geojson

SQUARE = [[119.16, 34.58], [119.18, 34.58], [119.18, 34.60], [119.16, 34.60], [119.16, 34.58]]


def _collect(path: Path, **options) -> tuple[dict[str, list], list[int]]:
    module = source_for(path)
    columns: dict[str, list] = {}
    rows: list[int] = []
    for chunk in module.read(path, options=ReadOptions(**options)):
        for name, array in chunk.columns.items():
            columns.setdefault(name, []).extend(array.to_pylist())
        rows.extend(chunk.rows.tolist())
    return columns, rows


def test_every_source_declares_a_spec_and_unique_suffixes() -> None:
    seen: set[str] = set()
    for module in all_sources():
        spec = module.SOURCE
        assert spec.name and spec.description and spec.suffixes
        assert not seen & set(spec.suffixes)
        seen |= set(spec.suffixes)
        assert callable(module.read)


def test_unknown_suffix_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no importer reads '\.docx'.*\.csv"):
        source_for(tmp_path / "calls.docx")


def test_excel_sheet_rows_and_types(tmp_path: Path) -> None:
    from datetime import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "警情"
    sheet.append(["警情编号", "报警时间", "经度", "数量"])
    sheet.append(["A1", datetime(2024, 3, 1, 8, 15), 119.17, 3])
    sheet.append([None, None, None, None])
    sheet.append(["A2", "2024/3/1 9:05", 119.19, 2.5])
    other = book.create_sheet("其他")
    other.append(["x"])
    other.append(["y"])
    path = tmp_path / "calls.xlsx"
    book.save(path)
    columns, rows = _collect(path)
    assert rows == [2, 4]  # the empty sheet row 3 is skipped, numbering kept
    assert columns["警情编号"] == ["A1", "A2"]
    assert columns["报警时间"] == ["2024-03-01 08:15:00", "2024/3/1 9:05"]
    assert columns["经度"] == ["119.17", "119.19"]
    assert columns["数量"] == ["3", "2.5"]
    assert _collect(path, sheet="其他")[0] == {"x": ["y"]}
    assert _collect(path, sheet="1")[0] == {"x": ["y"]}
    with pytest.raises(InputError, match="no sheet named"):
        _collect(path, sheet="缺")


def test_parquet_typed_columns_become_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "incident_id": ["P1", "P2", None],
            "reported_at": pa.array([0, 3_600_000_000, None], type=pa.timestamp("us", tz="UTC")),
            "lon": [119.17, 119.5, float("nan")],
            "n": pa.array([1, 2, 3], type=pa.int64()),
        }
    )
    path = tmp_path / "calls.parquet"
    pq.write_table(table, path, row_group_size=2)
    columns, rows = _collect(path, chunk_rows=2)
    assert rows == [2, 3, 4]
    assert columns["incident_id"] == ["P1", "P2", None]
    assert columns["reported_at"] == [
        "1970-01-01T00:00:00.000000+0000",
        "1970-01-01T01:00:00.000000+0000",
        None,
    ]
    assert columns["lon"] == ["119.17", "119.5", None]
    assert columns["n"] == ["1", "2", "3"]


def test_geojson_points_give_lon_lat(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"sensor_id": "S1", "tags": ["a"]},
                "geometry": {"type": "Point", "coordinates": [119.17, 34.59]},
            },
            {"type": "Feature", "properties": {"sensor_id": "S2"}, "geometry": None},
        ],
    }
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    columns, rows = _collect(path)
    assert rows == [1, 2]
    assert columns["lon"] == ["119.17", None] and columns["lat"] == ["34.59", None]
    assert columns["tags"] == ['["a"]', None]
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "Topology"}', encoding="utf-8")
    with pytest.raises(InputError, match="FeatureCollection"):
        _collect(bad)


def _gpkg_blob(geom: shapely.Geometry) -> bytes:
    minx, miny, maxx, maxy = geom.bounds
    flags = 0b00000011  # little-endian, envelope code 1 (xy)
    return (
        b"GP"
        + bytes([0, flags])
        + struct.pack("<i4d", 4326, minx, maxx, miny, maxy)
        + shapely.to_wkb(geom)
    )


def _write_gpkg(
    path: Path, layers: dict[str, list[tuple[str, str, shapely.Geometry | None]]]
) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, srs_id INTEGER)"
    )
    conn.execute(
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT, srs_id INTEGER, z INTEGER, m INTEGER)"
    )
    for layer, features in layers.items():
        conn.execute("INSERT INTO gpkg_contents VALUES (?, 'features', ?, 4326)", (layer, layer))
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POLYGON', 4326, 0, 0)", (layer,)
        )
        conn.execute(
            f'CREATE TABLE "{layer}" (fid INTEGER PRIMARY KEY, geom BLOB, 编号 TEXT, 名称 TEXT)'
        )
        for code, name, geom in features:
            conn.execute(
                f'INSERT INTO "{layer}" (geom, 编号, 名称) VALUES (?, ?, ?)',
                (None if geom is None else _gpkg_blob(geom), code, name),
            )
    conn.commit()
    conn.close()


def test_geopackage_layer_is_read_without_gdal(tmp_path: Path) -> None:
    square = shapely.Polygon(SQUARE)
    path = tmp_path / "j.gpkg"
    _write_gpkg(
        path, {"stations": [("320706001", "新海", square), ("320706009", "空", None)], "other": []}
    )
    with pytest.raises(InputError, match="several layers"):
        _collect(path)
    columns, rows = _collect(path, layer="stations")
    assert rows == [1, 2]
    assert columns["编号"] == ["320706001", "320706009"]
    assert shapely.from_geojson(columns["geometry"][0]).equals(square)
    assert columns["geometry"][1] is None
    assert gpkg_to_geojson(_gpkg_blob(square))["type"] == "Polygon"


def test_jurisdictions_from_geopackage_and_from_csv_with_wkt(sqlite_store, tmp_path: Path) -> None:
    square = shapely.Polygon(SQUARE)
    gpkg = tmp_path / "j.gpkg"
    _write_gpkg(gpkg, {"stations": [("320706001", "新海", square)]})
    summary = sqlite_store.run("jurisdictions", gpkg)
    assert summary.accepted == 1
    east = shapely.affinity.translate(square, xoff=0.02)
    csv_path = tmp_path / "j.csv"
    csv_path.write_text(
        f'编号,名称,派出所,wkt\n320706002,朐阳,朐阳派出所,"{east.wkt}"\n320706003,坏,坏,POINT (1 2)\n320706004,坏,坏,"POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"\n',
        encoding="utf-8",
    )
    summary = sqlite_store.run("jurisdictions", csv_path)
    assert (summary.accepted, summary.quarantined) == (1, 2)
    reasons = [why for _, _, why in sqlite_store.quarantine(summary.quarantine_file)]
    assert reasons[0] == "geometry must be a Polygon or MultiPolygon, got Point"
    assert reasons[1].startswith("invalid polygon (Self-intersection")
    got = sqlite_store.rows("SELECT code, station FROM jurisdictions ORDER BY code")
    assert got == [("320706001", "新海"), ("320706002", "朐阳派出所")]


def test_csv_chunks_respect_row_numbers_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    body = "".join(f'{i},"line {i}\nsecond, with comma",x\n' for i in range(500))
    path.write_text("a,b,c\n" + body, encoding="utf-8")
    columns, rows = _collect(path, chunk_rows=37)
    assert rows == list(range(2, 502))
    assert columns["a"] == [str(i) for i in range(500)]
    assert columns["b"][7] == "line 7\nsecond, with comma"


def test_csv_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        _collect(path)


def test_csv_forced_encoding_rejects_undecodable_cells(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("a,b\n1,好\n2,ok\n".encode("gbk"))
    module = source_for(path)
    chunks = list(module.read(path, options=ReadOptions(encoding="utf-8")))
    assert [c.rows.tolist() for c in chunks] == [[3]]
    (problem,) = chunks[0].problems
    assert (problem.row, problem.column) == (2, "b")
    assert "cannot be decoded as utf-8" in problem.reason
    # detected, the same file reads fine
    columns, rows = _collect(path)
    assert columns["b"] == ["好", "ok"] and rows == [2, 3]


def test_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("编号,名称\n1,新海\n", encoding="utf-16")
    columns, rows = _collect(path)
    assert columns == {"编号": ["1"], "名称": ["新海"]} and rows == [2]


def test_chunk_rows_are_int64(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    chunk = next(source_for(path).read(path, options=ReadOptions()))
    assert chunk.rows.dtype == np.int64
