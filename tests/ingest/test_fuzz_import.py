"""Fuzzing the file importers (导入模糊测试): random CSV bytes never crash an import.

Hypothesis builds CSV files from valid and broken values (times, coordinates, ids, phone
numbers, control characters, quotes), encodes them in UTF-8, UTF-8 with BOM, GB18030/GBK,
UTF-16 or Latin-1, with CRLF or LF, sometimes cut short or with random bytes spliced in, and
imports them. The import either finishes, with every row read accounted for (stored,
quarantined or skipped as a duplicate) and exactly the stored ones in the table, or refuses the
file with a :class:`~haizhou.errors.HaizhouError` the CLI shows as one line. Anything else (an
``IndexError`` from a ragged row, a ``UnicodeDecodeError``, an arrow error) is a bug.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from haizhou.errors import HaizhouError
from haizhou.ingest import import_file
from haizhou.store.engine import make_engine
from haizhou.store.tables import metadata

TEST_KEY = "haizhou-test-key-0123456789abcdef"
FILES = Path(__file__).resolve().parent / "files"

HEADERS = {
    "incidents": [
        ("incident_id", "警情编号"),
        ("reported_at", "报警时间"),
        ("category", "警情类别"),
        ("lon", "经度"),
        ("lat", "纬度"),
        ("caller_phone", "报警电话"),
        ("summary", "报警内容"),
    ],
    "sensors": [
        ("sensor_id", "点位编号"),
        ("kind", "点位类型"),
        ("lon", "经度"),
        ("lat", "纬度"),
        ("status", "状态"),
    ],
    "cases": [
        ("case_id", "案件编号"),
        ("category", "案件类别"),
        ("occurred_from", "发案时间"),
        ("lon", "经度"),
        ("lat", "纬度"),
    ],
    "jurisdictions": [("code", "编号"), ("name", "名称"), ("geometry", "geometry")],
}
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "latin-1"]

junk = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
ids = st.one_of(st.from_regex(r"[A-Z][0-9]{1,6}", fullmatch=True), junk, st.just(""))
times = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.datetimes().map(lambda d: f"{d.year}年{d.month}月{d.day}日 {d.hour}时{d.minute}分"),
    st.sampled_from(["2024-02-30 08:00", "24:61", "0000-00-00", "1e309", "NaN", ""]),
    junk,
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(119.16, 119.2).map(lambda v: f"{v:.6f}"),  # inside the test jurisdictions
    st.floats(34.58, 34.6).map(lambda v: f"{v:.6f}"),
    st.sampled_from(["1e999", "-", "119,2", "１１９.２", "0x10", " 119.2 "]),
    junk,
)
texts = st.one_of(
    st.sampled_from(["盗窃", "纠纷", "诈骗", "camera", "摄像头", "正常", "故障"]),
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    junk,
    st.just('"'),
    st.just("a\nb"),
    st.just("\x00\x1b"),
)
geometries = st.one_of(
    st.just("POLYGON((119.16 34.58,119.2 34.58,119.2 34.6,119.16 34.58))"),
    st.just('{"type":"Polygon","coordinates":[[[119.1,34.5],[119.2,34.5],[119.2,34.6]]]}'),
    st.sampled_from(["POINT(1 2)", "POLYGON((", '{"type":"Polygon"}', "[]", "null"]),
    junk,
)
VALUES = {"incident_id": ids, "sensor_id": ids, "case_id": ids, "code": ids, "lon": numbers}
VALUES |= {"lat": numbers, "reported_at": times, "occurred_from": times, "geometry": geometries}


def _field(value: str) -> str:
    if any(c in value for c in ',"\n\r') and value != '"':
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(HEADERS)))
    columns = HEADERS[kind]
    chinese = draw(st.booleans())
    header = [zh if chinese else en for en, zh in columns]
    n = draw(st.integers(0, 12))
    lines = [",".join(header)]
    for _ in range(n):
        cells = [_field(draw(VALUES.get(en, texts))) for en, _ in columns]
        if draw(st.integers(0, 9)) == 0:  # ragged rows
            cells = cells[: draw(st.integers(0, len(cells)))] + draw(st.lists(junk, max_size=2))
        lines.append(",".join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    content = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(ENCODINGS))
    data = content.encode(encoding, errors="replace")
    if draw(st.integers(0, 3)) == 0 and data:  # cut anywhere, even inside a character
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 4)) == 0:  # random bytes spliced in
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return kind, data


_TEMPLATE: list[Path] = []


def _template() -> Path:
    """A store with the two test jurisdictions, made once and copied for every example (so
    that the area check passes and rows reach validation, not a refusal of the file)."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="haizhou-fuzz-template-"))
        atexit.register(shutil.rmtree, folder, True)
        engine = make_engine(f"sqlite:///{folder / 'store.db'}")
        metadata.create_all(engine)
        summary = import_file(
            "jurisdictions",
            FILES / "jurisdictions.geojson",
            engine=engine,
            data_dir=folder / "data",
            pseudonym_key=TEST_KEY,
        )
        assert summary.accepted == 2
        engine.dispose()
        _TEMPLATE.append(folder / "store.db")
    return _TEMPLATE[0]


def _import(kind: str, data: bytes) -> int:
    """Import ``data`` as a ``kind`` CSV into a copy of the template; returns rows stored."""
    with tempfile.TemporaryDirectory(prefix="haizhou-fuzz-") as folder:
        work = Path(folder)
        path = work / "input.csv"
        path.write_bytes(data)
        shutil.copyfile(_template(), work / "store.db")
        engine = make_engine(f"sqlite:///{work / 'store.db'}")
        before = 2 if kind == "jurisdictions" else 0
        try:
            try:
                summary = import_file(
                    kind, path, engine=engine, data_dir=work / "data", pseudonym_key=TEST_KEY
                )
            except HaizhouError as exc:
                assert str(exc).strip(), "an error without a message"
                assert "no jurisdictions are loaded" not in str(exc)
                return 0
            assert summary.rows == (
                summary.accepted + summary.quarantined + summary.skipped_duplicates
            ), summary
            with engine.connect() as conn:
                stored = conn.execute(text(f"SELECT count(*) FROM {kind}")).scalar_one()
            assert stored - before <= summary.accepted  # a jurisdiction may replace one
            assert kind == "jurisdictions" or stored == summary.accepted
            return stored - before
        finally:
            engine.dispose()


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(csv_files())
def test_random_csv_bytes_import_or_fail_with_a_clear_error(sample: tuple[str, bytes]) -> None:
    _import(*sample)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(sorted(HEADERS)))
def test_arbitrary_bytes_never_crash(data: bytes, kind: str) -> None:
    _import(kind, data)


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        (b"", 0),
        (b"\xef\xbb\xbf", 0),
        (b"\xff\xfe", 0),
        (b'incident_id,reported_at,category,lon,lat\n"A1,2024-01-01', 0),
        (b"incident_id,reported_at,category,lon,lat\rA1,x,y,1,2\r", 0),  # found: old Mac ends
        (b'incident_id,reported_at\r,",2000-01-01\r\n', 0),  # found: CR inside the header row
        (
            b"incident_id,incident_id,reported_at,category,lon,lat\n"
            b"A,A,2024-01-01 08:00,x,119.2,34.6\n",
            1,
        ),
        (
            "incident_id,reported_at,category,lon,lat\nA1,2024-01-01 08:00,盗窃,119.2,34.6\n".encode(
                "utf-16"
            )[:-1],
            0,  # the only row lost its last byte: quarantined, not a crash
        ),
    ],
    ids=[
        "empty",
        "bom-only",
        "utf16-bom-only",
        "open-quote",
        "cr-line-ends",
        "cr-in-header",
        "duplicate-header",
        "utf16-cut",
    ],
)
def test_known_edge_files(data: bytes, stored: int) -> None:
    """Each file is refused with a message or imported; never a crash (checked in _import)."""
    assert _import("incidents", data) == stored


@pytest.mark.parametrize("kind", ["incidents", "jurisdictions"])
@pytest.mark.parametrize("cut", [1, 3])
def test_utf16_file_cut_inside_a_character_quarantines_the_cell(kind: str, cut: int) -> None:
    """Found by this fuzzing: a UTF-16 file cut mid-character raised UnicodeDecodeError."""
    rows = {
        "incidents": "incident_id,reported_at,category,lon,lat\n"
        "A1,2024-01-01 08:00,盗窃,119.17,34.59\nA2,2024-01-01 09:00,盗窃,119.17,34.59\n",
        "jurisdictions": 'code,name,geometry\nX1,one,"POLYGON((119.16 34.58,119.2 34.58,'
        '119.2 34.6,119.16 34.58))"\nX2,two,bad\n',
    }[kind]
    assert _import(kind, rows.encode("utf-16")) == (2 if kind == "incidents" else 1)
    # the last record lost bytes: its damaged cell is quarantined, the first row stored
    assert _import(kind, rows.encode("utf-16")[:-cut]) == 1


def test_the_fuzz_reaches_validation() -> None:
    """The set-up is not vacuous: a good file is stored, a bad row quarantined."""
    good = (
        "incident_id,reported_at,category,lon,lat\n"
        "G1,2024-01-01 08:00,盗窃,119.17,34.59\nG2,not a time,盗窃,119.17,34.59\n"
    )
    for encoding in ENCODINGS[:-1]:  # not Latin-1: it has no Chinese characters
        assert _import("incidents", good.encode(encoding)) == 1, encoding
