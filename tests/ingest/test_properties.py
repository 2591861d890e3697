"""Property tests for the parsers: time forms, CSV framing, encodings, mapping, hashing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haizhou.ingest.encoding import detect_encoding
from haizhou.ingest.mapping import ALIASES, normalise_header, resolve_mapping
from haizhou.ingest.pipeline import content_hash
from haizhou.ingest.sources import ReadOptions
from haizhou.ingest.sources import csv as csv_source
from haizhou.ingest.timeparse import parse_times

SHANGHAI = ZoneInfo("Asia/Shanghai")
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


def _forms(local: datetime) -> list[str]:
    d = local
    offset = local.replace(tzinfo=SHANGHAI).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    return [
        d.strftime("%Y-%m-%d %H:%M:%S"),
        d.strftime("%Y/%m/%d %H:%M:%S"),
        f"{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}:{d.second:02d}",
        f"{d.year}年{d.month}月{d.day}日 {d.hour}时{d.minute}分{d.second}秒",
        d.strftime("%Y-%m-%dT%H:%M:%S") + f"+{minutes // 60:02d}:{minutes % 60:02d}",
        d.strftime("%Y%m%d%H%M%S"),
        f"  {d.strftime('%Y-%m-%d %H:%M:%S')} ",
    ]


@given(moments)
@settings(max_examples=150, deadline=None)
def test_every_time_form_gives_the_same_utc_instant(local: datetime) -> None:
    forms = _forms(local)
    times, bad = parse_times(pa.array(forms), "Asia/Shanghai")
    assert not bad.any()
    expected = local.replace(tzinfo=SHANGHAI).astimezone(UTC)
    assert set(times.to_pylist()) == {expected}


@given(moments, st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: m - m % 15))
@settings(max_examples=100, deadline=None)
def test_offsets_are_honoured(moment: datetime, minutes: int) -> None:
    sign = "+" if minutes >= 0 else "-"
    text = (
        moment.strftime("%Y-%m-%dT%H:%M:%S")
        + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    )
    times, bad = parse_times(pa.array([text, text.replace("+00:00", "Z")]), "Asia/Shanghai")
    assert not bad.any()
    assert times[0].as_py() == moment.replace(tzinfo=UTC) - timedelta(minutes=minutes)


@given(st.text(max_size=12))
@settings(max_examples=200, deadline=None)
def test_garbage_is_flagged_never_guessed(text: str) -> None:
    times, bad = parse_times(pa.array([text, None]), "Asia/Shanghai")
    value = times[0].as_py()
    assert bad[1] == False  # noqa: E712 - numpy bool
    assert (value is None) == bool(bad[0]) or text.strip() == ""
    if value is not None:
        assert datetime(1899, 12, 30, tzinfo=UTC) <= value <= datetime(2201, 1, 1, tzinfo=UTC)


def test_excel_serials_and_impossible_dates() -> None:
    times, bad = parse_times(
        pa.array(["45352", "45352.25", "2023-02-29", "2024-02-29", "13/01/2024"]), "UTC"
    )
    assert [t and t.isoformat() for t in times.to_pylist()] == [
        "2024-03-01T00:00:00+00:00",
        "2024-03-01T06:00:00+00:00",
        None,
        "2024-02-29T00:00:00+00:00",
        None,
    ]
    assert bad.tolist() == [False, False, True, False, True]


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=15
)


@given(
    st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=60),
    st.integers(1, 25),
    st.sampled_from(["utf-8", "gb18030"]),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_csv_reader_round_trips_any_cells(
    tmp_path: Path, records: list[list[str]], chunk_rows: int, encoding: str
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(records)
    path = tmp_path / "p.csv"
    try:
        path.write_bytes(buf.getvalue().encode(encoding))
    except UnicodeEncodeError:
        return
    got: dict[str, list] = {"a": [], "b": [], "c": []}
    rows: list[int] = []
    for chunk in csv_source.read(path, options=ReadOptions(chunk_rows=chunk_rows)):
        assert not chunk.problems
        for k in got:
            got[k].extend(chunk.columns[k].to_pylist())
        rows.extend(chunk.rows.tolist())
    # a record of empty cells is kept (and later fails validation): nothing is dropped
    kept = records
    expect = {k: [(r[i].strip() or None) for r in kept] for i, k in enumerate(got)}
    # the reader and Python disagree only on whitespace-only cells that trim to None
    assert {k: [v if v is None else v.strip() for v in vs] for k, vs in got.items()} == {
        k: [v if v is None else v.strip() or None for v in vs] for k, vs in expect.items()
    }
    assert len(rows) == len(kept)


@given(
    st.text(
        alphabet="警情编号报警时间地址派出所海州区新浦路盗窃诈骗纠纷一二三四五六七八九十",
        min_size=4,
        max_size=200,
    )
)
@settings(max_examples=80, deadline=None)
def test_gbk_text_is_detected_as_gb18030_and_utf8_as_utf8(text: str) -> None:
    assert detect_encoding(("编号," + text).encode("gbk")) == "gb18030"
    assert detect_encoding(("编号," + text).encode("utf-8")) == "utf-8"


@given(st.sampled_from(sorted(ALIASES)), st.data())
@settings(max_examples=80, deadline=None)
def test_every_alias_maps_to_its_canonical_column(kind: str, data: st.DataObject) -> None:
    canonical = data.draw(st.sampled_from(sorted(ALIASES[kind])))
    alias = data.draw(st.sampled_from([canonical, *ALIASES[kind][canonical]]))
    decorated = data.draw(
        st.sampled_from([alias, f" {alias} ", alias.upper(), alias.replace("_", " ")])
    )
    mapping = resolve_mapping(kind, [decorated])
    owners = [
        c
        for c, names in ALIASES[kind].items()
        if normalise_header(alias) in {normalise_header(n) for n in (c, *names)}
    ]
    assert mapping.columns.get(owners[0]) == decorated


@given(
    st.lists(
        st.tuples(st.text(max_size=5), st.none() | st.floats(allow_nan=False)),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=80, deadline=None)
def test_content_hash_is_per_row_and_order_independent(
    rows: list[tuple[str, float | None]],
) -> None:
    text = pa.array([r[0] for r in rows], type=pa.string())
    num = np.array([np.nan if r[1] is None else r[1] for r in rows])
    h = content_hash({"t": text, "x": num}, len(rows))
    assert all(len(v) == 32 for v in h)
    rev = content_hash(
        {"t": pa.array([r[0] for r in rows[::-1]], type=pa.string()), "x": num[::-1].copy()},
        len(rows),
    )
    assert list(rev) == list(h[::-1])
    for i in range(len(rows)):
        for j in range(len(rows)):
            same = rows[i][0] == rows[j][0] and (
                rows[i][1] == rows[j][1] or (rows[i][1] is None and rows[j][1] is None)
            )
            if same:
                assert h[i] == h[j]
    # null and empty text differ
    a = content_hash({"t": pa.array([None, ""], type=pa.string())}, 2)
    assert a[0] != a[1]


@given(
    st.lists(
        st.integers(min_value=-2_208_988_800_000_000, max_value=7_258_118_400_000_000),
        min_size=1,
        max_size=50,
    )
)
@settings(max_examples=100, deadline=None)
def test_format_timestamps_matches_datetime(values: list[int]) -> None:
    from haizhou.ingest.timeparse import format_timestamps

    got = format_timestamps(np.array(values, dtype=np.int64)).to_pylist()
    epoch = datetime(1970, 1, 1)
    assert got == [
        (epoch + timedelta(microseconds=v)).strftime("%Y-%m-%d %H:%M:%S.%f") for v in values
    ]
    short = format_timestamps(np.array(values, dtype=np.int64), fraction=False).to_pylist()
    assert short == [
        (epoch + timedelta(microseconds=v)).strftime("%Y-%m-%d %H:%M:%S") for v in values
    ]
