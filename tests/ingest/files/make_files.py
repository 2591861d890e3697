"""Writes the malformed-file test set in this folder (run it to regenerate; the files are
committed so the tests never depend on this script).

Every ``<name>.csv`` that should import has ``<name>.expected.csv`` beside it: the exact
quarantine (row, column, reason) the importer must produce.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Two adjacent stations of 0.02° × 0.02° around Haizhou, Lianyungang (WGS-84).
JURISDICTIONS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "编号": "320706001",
                "名称": "新海辖区",
                "派出所": "新海派出所",
                "上级编号": "320706",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [119.16, 34.58],
                        [119.18, 34.58],
                        [119.18, 34.60],
                        [119.16, 34.60],
                        [119.16, 34.58],
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "properties": {
                "编号": "320706002",
                "名称": "朐阳辖区",
                "派出所": "朐阳派出所",
                "上级编号": "320706",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [119.18, 34.58],
                        [119.20, 34.58],
                        [119.20, 34.60],
                        [119.18, 34.60],
                        [119.18, 34.58],
                    ]
                ],
            },
        },
    ],
}

HEADER_ZH = [
    "警情编号",
    "报警时间",
    "警情类别",
    "警情细类",
    "经度",
    "纬度",
    "地址",
    "报警电话",
    "报警内容",
    "处警结果",
]
HEADER_EN = [
    "incident_id",
    "reported_at",
    "category",
    "subcategory",
    "lon",
    "lat",
    "address",
    "caller_phone",
    "summary",
    "disposition",
]

GOOD = [
    [
        "A001",
        "2024-03-01 08:15:00",
        "盗窃",
        "入室盗窃",
        "119.170",
        "34.590",
        "海连路1号",
        "13812345678",
        "报警人称家中被盗",
        "已处置",
    ],
    [
        "A002",
        "2024/3/1 9:05",
        "纠纷",
        "",
        "119.190",
        "34.590",
        "朝阳路2号",
        "",
        "邻里纠纷，回拨13998765432",
        "已调解",
    ],
    [
        "A003",
        "2024年3月1日 10时30分",
        "诈骗",
        "电信诈骗",
        "119.175",
        "34.585",
        "解放路3号",
        "021-62345678",
        "",
        "",
    ],
]


def _csv(rows: list[list[str]], header: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _expected(name: str, rows: list[tuple[int, str, str]]) -> None:
    with (HERE / f"{name}.expected.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["row", "column", "reason"])
        writer.writerows(rows)


OUTSIDE = "point outside the bureau's area (the union of the loaded jurisdictions); check the coordinates and --crs"
BAD_TIME = "unparseable time; use e.g. 2024-01-02 03:04:05, 2024/1/2 3:04, 2024年1月2日 3时4分 or ISO 8601 with offset"
MISSING = "missing required field"


def main() -> None:
    (HERE / "jurisdictions.geojson").write_text(
        json.dumps(JURISDICTIONS, ensure_ascii=False, indent=1), encoding="utf-8"
    )

    # 1. clean UTF-8, English headers
    (HERE / "good_utf8.csv").write_text(_csv(GOOD, HEADER_EN), encoding="utf-8")
    _expected("good_utf8", [])

    # 2. GBK with Chinese headers (a typical police export)
    (HERE / "good_gbk.csv").write_bytes(_csv(GOOD, HEADER_ZH).encode("gbk"))
    _expected("good_gbk", [])

    # 3. UTF-8 with a BOM, Chinese headers, CRLF line ends
    text = _csv(GOOD, HEADER_ZH).replace("\n", "\r\n")
    (HERE / "bom_crlf.csv").write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    _expected("bom_crlf", [])

    # 4. mixed encodings: UTF-8 header and first row, GBK second row, UTF-8 third
    lines = _csv(GOOD, HEADER_ZH).splitlines(keepends=True)
    data = lines[0].encode() + lines[1].encode() + lines[2].encode("gbk") + lines[3].encode()
    (HERE / "mixed_encoding.csv").write_bytes(data)
    _expected("mixed_encoding", [])

    # 5. bad dates
    rows = [
        ["B001", "2024-02-30 08:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["B002", "昨天晚上", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["B003", "2024-03-01 25:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["B004", "2024-03-01T08:00:00+08:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["B005", "45352.5", "盗窃", "", "119.17", "34.59", "", "", "", ""],
    ]
    (HERE / "bad_dates.csv").write_text(_csv(rows, HEADER_EN), encoding="utf-8")
    _expected(
        "bad_dates",
        [(2, "reported_at", BAD_TIME), (3, "reported_at", BAD_TIME), (4, "reported_at", BAD_TIME)],
    )

    # 6. points outside the area, a non-number and a swapped pair
    rows = [
        ["C001", "2024-03-01 08:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["C002", "2024-03-01 08:00", "盗窃", "", "118.50", "34.59", "", "", "", ""],
        ["C003", "2024-03-01 08:00", "盗窃", "", "东经119度", "34.59", "", "", "", ""],
        ["C004", "2024-03-01 08:00", "盗窃", "", "34.59", "119.17", "", "", "", ""],
    ]
    (HERE / "out_of_area.csv").write_text(_csv(rows, HEADER_EN), encoding="utf-8")
    _expected(
        "out_of_area",
        [
            (3, "lon,lat", OUTSIDE),
            (4, "lon", "longitude is not a number"),
            (
                5,
                "lon,lat",
                "coordinates out of range (lon −180..180, lat −90..90); are they swapped or projected?",
            ),
        ],
    )

    # 7. missing required values (the columns exist)
    rows = [
        ["", "2024-03-01 08:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["D002", "", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["D003", "2024-03-01 08:00", "  ", "", "", "34.59", "", "", "", ""],
        ["D004", "2024-03-01 08:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
    ]
    (HERE / "missing_fields.csv").write_text(_csv(rows, HEADER_EN), encoding="utf-8")
    _expected(
        "missing_fields",
        [
            (2, "incident_id", MISSING),
            (3, "reported_at", MISSING),
            (4, "category", MISSING),
            (4, "lon", MISSING),
        ],
    )

    # 8. a required column is absent: the import refuses with a clear error, loads nothing
    (HERE / "missing_column.csv").write_text(
        _csv([r[:1] + r[2:] for r in GOOD], HEADER_EN[:1] + HEADER_EN[2:]), encoding="utf-8"
    )

    # 9. duplicates inside the file: identical (skipped) and conflicting (quarantined)
    rows = [
        ["E001", "2024-03-01 08:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["E001", "2024-03-01 08:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["E001", "2024-03-01 09:00", "盗窃", "", "119.17", "34.59", "", "", "", ""],
        ["E002", "2024-03-01 08:00", "纠纷", "", "119.19", "34.59", "", "", "", ""],
    ]
    (HERE / "duplicates.csv").write_text(_csv(rows, HEADER_EN), encoding="utf-8")
    _expected(
        "duplicates",
        [(4, "incident_id", "id repeated in the file with different content (first at row 2)")],
    )

    # 10. truncated last line (no newline, cut mid-record) and an unterminated quote
    text = _csv(GOOD, HEADER_EN) + "F001,2024-03-01 08:00,盗窃,,119.1"
    (HERE / "truncated.csv").write_text(text, encoding="utf-8")
    _expected(
        "truncated",
        [
            (
                5,
                "",
                "record truncated or incomplete: 5 fields, expected 10 (check quoting and the end of the file)",
            )
        ],
    )

    # 11. identifiers hidden in an unmapped column and in free text
    header = [*HEADER_EN, "联系人身份证", "备注"]
    rows = [
        [
            "G001",
            "2024-03-01 08:00",
            "求助",
            "",
            "119.17",
            "34.59",
            "海连路1号 车主苏G12345",
            "138 1234 5678",
            "当事人身份证11010519491231002X",
            "",
            "11010519491231002X",
            "电话+86 139-8765-4321",
        ],
    ]
    (HERE / "hidden_identifiers.csv").write_text(_csv(rows, header), encoding="utf-8")
    _expected("hidden_identifiers", [])


if __name__ == "__main__":
    main()
