"""The three reports on a tiny demo city: sections, numbers equal to independent queries, PDF
pages rendered to images with non-blank figures, Chinese text, privacy, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tests.conftest import IN_CI
from tests.reports.conftest import REPORT_DAY
from typer.testing import CliRunner

from haizhou.reports.render import build_report, render_html

pytestmark = pytest.mark.slow  # builds a demo city once (~7 s of CPU) and renders PDFs

ZONE = ZoneInfo("Asia/Shanghai")
DAY = date.fromisoformat(REPORT_DAY)


def _incidents(url: str) -> pd.DataFrame:
    """Every incident, read with plain SQL (independent of the repositories)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text("SELECT reported_at, jurisdiction_code, category FROM incidents"), conn
        )
    engine.dispose()
    frame["local"] = pd.to_datetime(frame["reported_at"], utc=True).dt.tz_convert(ZONE)
    return frame


def _between(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    lo = pd.Timestamp(datetime(start.year, start.month, start.day, tzinfo=ZONE))
    hi = pd.Timestamp(datetime(end.year, end.month, end.day, tzinfo=ZONE))
    return frame[(frame["local"] >= lo) & (frame["local"] < hi)]


def _build(url: str, kind: str, fmt: str = "html", lang: str = "zh"):
    engine = sa.create_engine(url)
    with Session(engine) as session:
        report = build_report(kind, session=session, scope=None, date=DAY, fmt=fmt, lang=lang)
    engine.dispose()
    return report


def _cell(html: str, table_id: str, label: str) -> list[str]:
    """The cells of the row of table ``table_id`` whose first cell is ``label``."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table is not None, f"no table {table_id}"
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in {table_id}")


# --- HTML: sections and numbers ----------------------------------------------------------------


def test_daily_inspection_numbers_equal_independent_counts(demo_store) -> None:
    _, url = demo_store
    report = _build(url, "daily")
    data = report.data
    incidents = _incidents(url)
    today = _between(incidents, DAY, date(2025, 1, 16))
    assert data.total == len(today) > 0
    base_days = [date.fromordinal(DAY.toordinal() - 7 * k) for k in range(1, 5)]
    base = sum(len(_between(incidents, d, date.fromordinal(d.toordinal() + 1))) for d in base_days)
    assert data.baseline_total == pytest.approx(base / 4)

    html = report.content.decode("utf-8")
    for section in ("summary", "baseline", "map", "warnings", "instructions", "models", "privacy"):
        assert f'<section id="{section}"' in html
    assert "日巡查报告" in html and "隐私说明" in html
    names = {j.code: j.name for j in data.jurisdictions}
    expected = today["jurisdiction_code"].value_counts()
    assert expected.sum() == data.total
    for code, n in expected.items():
        row = _cell(html, "by-jurisdiction", names[code])
        assert int(row[1]) == n
    for category, n in today["category"].value_counts().items():
        assert int(_cell(html, "by-category", category)[1]) == n
    # the 28-day series ends with the day itself
    assert int(data.daily_counts["count"].iloc[-1]) == len(today)
    # both instructions are open; the one issued on 2 January is late by the day's end
    assert len(data.open_instructions) == 2
    assert [i.title for i in data.overdue_instructions] == ["核查新浦辖区盗窃高发"]
    assert "核查新浦辖区盗窃高发" in html
    assert "incidents.daily_volume" in html and "analytics.warnings.trend_warnings" in html


def test_weekly_bulletin_ranking_and_masked_repeat_callers(demo_store) -> None:
    _, url = demo_store
    report = _build(url, "weekly", lang="en")
    data = report.data
    assert data.header.start.date() == date(2025, 1, 13)  # Monday of the week holding the day
    week = _between(_incidents(url), date(2025, 1, 13), date(2025, 1, 20))
    counts = week["jurisdiction_code"].value_counts()
    ranking = data.ranking.set_index("jurisdiction_code")
    assert ranking["count"].sum() == len(week)
    for code, n in counts.items():
        assert ranking.loc[code, "count"] == n
    assert list(data.ranking["count"]) == sorted(data.ranking["count"], reverse=True)
    assert data.ranking["rank"].iloc[0] == 1

    html = report.content.decode("utf-8")
    assert "Weekly bulletin" in html and 'lang="en"' in html
    for section in ("summary", "ranking", "hotspots", "repeat-callers", "performance", "privacy"):
        assert f'<section id="{section}"' in html
    top = data.ranking.iloc[0]
    assert _cell(html, "ranking-table", "1")[1:3] == [top["name"], str(top["count"])]
    # callers are shown masked only; no pseudonym reaches the report
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pseudonyms = [
            p
            for (p,) in conn.execute(
                sa.text(
                    "SELECT DISTINCT caller_pseudonym FROM incidents WHERE caller_pseudonym IS NOT NULL"
                )
            )
        ]
    engine.dispose()
    assert pseudonyms and not any(p in html for p in pseudonyms)
    assert all("*" in m for m in data.repeat_callers["caller_masked"])
    assert "caller" not in data.repeat_callers.columns


def test_monthly_assessment_trends_yoy_and_sections(demo_store) -> None:
    _, url = demo_store
    report = _build(url, "monthly")
    data = report.data
    incidents = _incidents(url)
    jan25 = _between(incidents, date(2025, 1, 1), date(2025, 2, 1))
    jan24 = _between(incidents, date(2024, 1, 1), date(2024, 2, 1))
    dec24 = _between(incidents, date(2024, 12, 1), date(2025, 1, 1))
    last = data.monthly_counts.iloc[-1]
    assert (last["label"], last["this_year"], last["last_year"]) == (
        "2025-01",
        len(jan25),
        len(jan24),
    )
    total = data.kpis.incidents.iloc[-1]
    assert (total["current"], total["previous"], total["last_year"]) == (
        len(jan25),
        len(dec24),
        len(jan24),
    )
    assert total["yoy"] == pytest.approx((len(jan25) - len(jan24)) / len(jan24))

    html = report.content.decode("utf-8")
    for section in (
        "summary",
        "trends",
        "yoy",
        "cases",
        "emerging",
        "forecast",
        "series",
        "models",
        "privacy",
    ):
        assert f'<section id="{section}"' in html
    assert _cell(html, "categories", "合计")[1] == str(len(jan25))
    # emerging hot spots: counts per pattern add up to the hexagons listed
    assert sum(v for k, v in data.emerging_summary.items() if "hot_spot" in k) == len(data.emerging)
    assert data.forecast is not None
    assert data.forecast.concentration["share"].sum() == pytest.approx(1.0)
    assert np.nanmax(data.forecast.image) > 0
    # no linkage results are stored in the demo: the section says so instead of inventing
    assert data.series.empty and "本期无已入库的串并分析结果" in html
    for model in data.models:
        assert model.model_id in html


def test_scope_limits_every_number(demo_store) -> None:
    _, url = demo_store
    engine = sa.create_engine(url)
    with Session(engine) as session:
        report = build_report("daily", session=session, scope=["320706-01"], date=DAY)
    engine.dispose()
    data = report.data
    today = _between(_incidents(url), DAY, date(2025, 1, 16))
    assert data.total == int((today["jurisdiction_code"] == "320706-01").sum())
    assert [j.code for j in data.jurisdictions] == ["320706-01"]
    assert {i.jurisdiction_code for i in data.open_instructions} == {"320706-01"}


# --- PDF: pages, figures and Chinese -----------------------------------------------------------


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} (Debian poppler-utils) is not installed"
        if IN_CI:
            pytest.fail(f"{message}; CI installs it in .ci/run")
        pytest.skip(f"{message}; install poppler-utils to run this test (CI runs it)")
    return path


def figure_is_drawn(pixels: np.ndarray) -> bool:
    """A figure region holds a drawing: enough non-white pixels and several grey levels."""
    grey = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    inked = float((grey < 235).mean())
    return inked > 0.02 and float(grey.std()) > 12.0 and np.unique(grey // 16).size >= 4


def test_blank_region_check_can_fail() -> None:
    blank = np.full((200, 300, 3), 255, dtype=np.uint8)
    assert not figure_is_drawn(blank)
    lines = blank.copy()
    lines[::20, :, :] = 0
    lines[:, ::25, :] = (200, 80, 30)
    lines[50:120, 60:200, :] = (120, 160, 220)
    assert figure_is_drawn(lines)


def _caption_boxes(pdf: Path, captions: list[str]) -> dict[str, tuple[int, float, float]]:
    """Page (1-based) and y-top of each caption text, from pdftotext's bounding boxes.

    The last occurrence wins: a caption sits below its figure, after any heading of that name.
    """
    out = subprocess.run(
        [_need("pdftotext"), "-bbox-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, tuple[int, float, float]] = {}
    for number, page in enumerate(out.split("<page ")[1:], start=1):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        for line in re.findall(
            r'<line xMin="[\d.]+" yMin="([\d.]+)"[^>]*>(.*?)</line>', page, re.S
        ):
            words = "".join(re.findall(r">([^<]*)</word>", line[1]))
            for caption in captions:
                if words == caption:
                    found[caption] = (number, float(line[0]), height)
    return found


@pytest.mark.parametrize(
    ("kind", "captions"),
    [
        ("daily", ["近28天每日警情", "各辖区警情", "辖区边界与H3六边形警情计数"]),
        ("weekly", ["派出所排名", "辖区边界与H3六边形警情计数"]),
        ("monthly", ["月度警情", "辖区边界与新兴热点（H3六边形）", "辖区边界与下月风险热力"]),
    ],
)
def test_pdf_pages_figures_and_chinese_text(demo_store, tmp_path, kind, captions) -> None:
    from PIL import Image

    pdftoppm = _need("pdftoppm")
    report = _build(demo_store[1], kind, fmt="pdf")
    assert report.content.startswith(b"%PDF-")
    pdf = tmp_path / f"{kind}.pdf"
    pdf.write_bytes(report.content)

    dpi = 60
    subprocess.run([pdftoppm, "-r", str(dpi), "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    info = subprocess.run([_need("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert len(pngs) == pages >= 3

    # The Chinese text is real text in an embedded CJK font (no tofu boxes).
    text = subprocess.run(
        [_need("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    title = {"daily": "日巡查报告", "weekly": "周通报", "monthly": "月研判报告"}[kind]
    assert title in text and "隐私说明" in text
    fonts = subprocess.run(
        [_need("pdffonts"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"CJK|Hei|Han", fonts), fonts

    # Each figure: the region just above its caption is a drawing, not blank paper.
    boxes = _caption_boxes(pdf, captions)
    assert set(boxes) == set(captions), boxes
    for caption, (page, y_top, height) in boxes.items():
        image = np.asarray(Image.open(pngs[page - 1]).convert("RGB"))
        scale = image.shape[0] / height
        bottom = int(y_top * scale) - 2
        top = max(0, bottom - int(110 * scale))  # 110 pt above the caption
        region = image[top:bottom, int(0.1 * image.shape[1]) : int(0.9 * image.shape[1])]
        assert figure_is_drawn(region), f"{kind}: figure '{caption}' on page {page} is blank"


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_builds_report_and_explains_bad_input(demo_store, tmp_path, monkeypatch) -> None:
    from haizhou.cli.report import app

    data_dir, url = demo_store
    monkeypatch.setenv("HAIZHOU_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HAIZHOU_DATABASE_URL", url)
    out = tmp_path / "daily.html"
    result = CliRunner().invoke(
        app,
        [
            "daily",
            "--date",
            REPORT_DAY,
            "--format",
            "html",
            "--lang",
            "en",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["path"] == str(out) and summary["bytes"] == out.stat().st_size
    assert summary["start"].startswith("2025-01-15T00:00:00+08:00")
    assert "Daily inspection" in out.read_text("utf-8")

    bad = CliRunner().invoke(app, ["daily", "--date", "15/01/2025"])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
    bad = CliRunner().invoke(app, ["monthly", "--date", REPORT_DAY, "--format", "docx"])
    assert bad.exit_code == 1 and "pdf" in bad.output and "html" in bad.output


def test_render_html_is_deterministic(demo_store) -> None:
    report = _build(demo_store[1], "weekly")
    assert render_html(report.data, lang="zh") == render_html(report.data, lang="zh")


def test_missing_cjk_font_is_said_not_hidden(demo_store, monkeypatch) -> None:
    from haizhou.reports import figures, render

    report = _build(demo_store[1], "daily")
    monkeypatch.setattr(render, "find_cjk_font", lambda: None)
    monkeypatch.setattr(figures, "find_cjk_font", lambda: None)
    html = render_html(report.data, lang="zh")
    assert 'id="cjk-warning"' in html and "fonts-noto-cjk" in html
    engine = sa.create_engine(demo_store[1])
    with Session(engine) as session:
        again = build_report("daily", session=session, scope=None, date=DAY, lang="en")
    engine.dispose()
    assert again.warnings and "CJK" in again.warnings[0]
    assert 'id="cjk-warning"' not in report.content.decode("utf-8")  # font present: no banner


def test_cli_scheduled_builds_what_is_due(demo_store, tmp_path, monkeypatch) -> None:
    from haizhou.cli.report import app

    data_dir, url = demo_store
    monkeypatch.setenv("HAIZHOU_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HAIZHOU_DATABASE_URL", url)
    result = CliRunner().invoke(
        app,
        [
            "scheduled",
            "--today",
            "2025-01-13",
            "--format",
            "html",
            "--out-dir",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout.strip().splitlines()[-1])["reports"]
    # a Monday: yesterday's daily inspection and last week's bulletin, no monthly
    assert [(d["kind"], d["start"][:10]) for d in done] == [
        ("daily", "2025-01-12"),
        ("weekly", "2025-01-06"),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "daily-2025-01-12-zh.html",
        "weekly-2025-01-12-zh.html",
    ]
