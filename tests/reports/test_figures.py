"""Charts and maps: SVG output with the expected shapes, colours and labels."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from haizhou.cli.report import due_reports
from haizhou.geo.h3cells import cell_boundaries_geojson, cells_from_lonlat
from haizhou.reports.figures import Outline, bar_chart, line_chart, map_figure
from haizhou.reports.render import _num, _pct, _rate


def _square(lon0: float, lat0: float, side: float) -> dict:
    ring = [
        [lon0, lat0],
        [lon0 + side, lat0],
        [lon0 + side, lat0 + side],
        [lon0, lat0 + side],
        [lon0, lat0],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def test_line_and_bar_charts_are_svg_with_one_mark_per_value() -> None:
    chart = line_chart(["a", "b", "c"], {"x": [1, 2, 3], "y": [3, 2, float("nan")]}, title="t")
    assert chart.svg.lstrip().startswith("<?xml") and "<svg" in chart.svg
    assert chart.kind == "chart" and chart.data_uri.startswith("data:image/svg+xml;base64,")
    bars = bar_chart(["新浦", "海州", "新海"], [5, 3, 0], title="排名", reference=[4, 4, 1])
    # svg.fonttype = path: text is drawn, never left to a font the viewer may lack
    assert "<text" not in bars.svg
    assert bars.svg.count('id="patch_') >= 3 + 1  # three bars plus the axes background


def test_map_draws_outlines_and_one_polygon_per_hexagon() -> None:
    outlines = [
        Outline(code="A", label="新浦辖区", geometry=_square(119.18, 34.58, 0.04)),
        Outline(code="B", label="海州辖区", geometry=_square(119.22, 34.58, 0.04)),
    ]
    lon = np.array([119.19, 119.2, 119.23, 119.25])
    lat = np.array([34.59, 34.6, 34.59, 34.61])
    cells = np.unique(cells_from_lonlat(lon, lat, 8))
    geoms = cell_boundaries_geojson(cells)
    figure = map_figure(
        outlines,
        title="图",
        hexagons=(geoms, np.arange(1, cells.size + 1)),
        colour_label="数",
        integer_colours=True,
    )
    assert figure.kind == "map"
    # one filled path per hexagon in the PolyCollection, 6 corners each
    group = re.search(r'<g id="PolyCollection_1">(.*?)</g>', figure.svg, re.S)
    assert group is not None
    paths = re.findall(r'<path d="M([^"]+)z\s*"[^>]*style="fill: #([0-9a-f]{6})', group.group(1))
    assert len(paths) == cells.size
    assert all(d.count("L") == 6 for d, _ in paths)
    assert len({colour for _, colour in paths}) == cells.size  # values 1..4 map to 4 colours
    blank = map_figure(outlines, title="图")
    assert len(blank.svg) < len(figure.svg)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_due_reports_cover_each_period_exactly_once(today: date) -> None:
    due = dict(due_reports(today))
    yesterday = today - timedelta(days=1)
    assert due["daily"] == yesterday
    assert ("weekly" in due) == (today.weekday() == 0)
    assert ("monthly" in due) == (today.day == 1)
    if "weekly" in due:
        assert due["weekly"].weekday() == 6  # the Sunday closing the week reported
    if "monthly" in due:
        assert due["monthly"].month != today.month


@given(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32)))
def test_number_formats_never_fail_and_mark_missing(value: float | None) -> None:
    for fmt in (_pct, _rate, _num):
        out = fmt(value)
        if value is None or not np.isfinite(value):
            assert out == "—"
        else:
            assert out != "—" and any(c.isdigit() for c in out)
    if value is not None and np.isfinite(value) and abs(value) < 1e6:
        assert _pct(value).endswith("%")
        assert float(_rate(value, 3).rstrip("%").replace(",", "")) == round(100 * value, 3) or (
            abs(float(_rate(value, 3).rstrip("%")) - 100 * value) <= 0.0005 + 1e-9 * abs(value)
        )
