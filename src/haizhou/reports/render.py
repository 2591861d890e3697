"""Rendering the reports (报告渲染): HTML with Jinja2, PDF with WeasyPrint.

The same template gives both: the HTML is a single self-contained file (figures embedded as
SVG ``data:`` URIs), and the PDF is that HTML laid out by WeasyPrint (BSD), which shapes Chinese
text through Pango/HarfBuzz with the system's CJK font and embeds a subset of it. WeasyPrint
was chosen over reportlab because reportlab cannot embed the CFF-outline OpenType fonts every
Linux distribution ships for Chinese (Noto Sans CJK, Source Han), so it would need a TrueType
CJK font copied into the repository; WeasyPrint only needs Debian's ``libpango-1.0-0``, which
most machines already have, and reuses the HTML template.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from sqlalchemy.orm import Session

from haizhou import __version__
from haizhou.errors import HaizhouError
from haizhou.geo.h3cells import cell_boundaries_geojson
from haizhou.reports import figures as figs
from haizhou.reports.data import (
    DailyInspection,
    HexagonLayer,
    MonthlyAssessment,
    WeeklyBulletin,
    daily_inspection_data,
    monthly_assessment_data,
    weekly_bulletin_data,
)
from haizhou.reports.fonts import find_cjk_font
from haizhou.reports.i18n import check_lang, text

__all__ = [
    "FORMATS",
    "KINDS",
    "PdfUnavailable",
    "RenderedReport",
    "build_report",
    "gather",
    "make_figures",
    "render_html",
    "render_pdf",
]

log = logging.getLogger(__name__)

KINDS = ("daily", "weekly", "monthly")
"""Report kinds: 日巡查, 周通报, 月研判."""

FORMATS = ("html", "pdf")
"""Output formats."""

Report = DailyInspection | WeeklyBulletin | MonthlyAssessment

_TEMPLATES = Path(__file__).with_name("templates")

_PATTERN_COLOURS = {
    "new_hot_spot": "#fdd0a2",
    "consecutive_hot_spot": "#fdae6b",
    "intensifying_hot_spot": "#d7301f",
    "persistent_hot_spot": "#f16913",
    "diminishing_hot_spot": "#fee391",
    "sporadic_hot_spot": "#fec44f",
    "oscillating_hot_spot": "#cc4c02",
    "historical_hot_spot": "#d9d9d9",
}


class PdfUnavailable(HaizhouError):
    """PDF output needs WeasyPrint and Pango, and one of them is missing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedReport:
    """A finished report (报告成品).

    Attributes
    ----------
    kind, fmt, lang : str
        What it is, ``html`` or ``pdf``, ``zh`` or ``en``.
    content : bytes
        The file's bytes (UTF-8 HTML or PDF).
    data : DailyInspection or WeeklyBulletin or MonthlyAssessment
        The numbers it shows.
    warnings : tuple of str
        Problems the reader should know about (e.g. no CJK font).
    """

    kind: str
    fmt: str
    lang: str
    content: bytes
    data: Report
    warnings: tuple[str, ...] = ()


def gather(
    kind: str,
    *,
    session: Session,
    scope: Collection[str] | None,
    date: Date,
    zone: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Report:
    """The data of a report of ``kind`` (``daily``, ``weekly`` or ``monthly``)."""
    functions: dict[str, Callable[..., Report]] = {
        "daily": daily_inspection_data,
        "weekly": weekly_bulletin_data,
        "monthly": monthly_assessment_data,
    }
    if kind not in functions:
        raise HaizhouError(f"report kind must be one of {', '.join(KINDS)}; got {kind!r}")
    return functions[kind](session=session, scope=scope, date=date, zone=zone, now=now)


# --- figures ---------------------------------------------------------------------------------


def _outlines(report: Report) -> list[figs.Outline]:
    return [
        figs.Outline(code=j.code, label=j.name, geometry=j.geometry)
        for j in report.jurisdictions
        if j.geometry
    ]


def _hex(layer: HexagonLayer) -> tuple[list[dict[str, Any]], list[float]]:
    return cell_boundaries_geojson(layer.cells), layer.values.tolist()


def make_figures(report: Report, lang: str) -> dict[str, figs.Figure]:
    """Every chart and map of ``report``, labelled in ``lang``, by name."""
    t = _translator(lang)
    out: dict[str, figs.Figure] = {}
    if isinstance(report, DailyInspection):
        counts = report.daily_counts
        out["daily_counts"] = figs.line_chart(
            [f"{d:%m-%d}" for d in counts["day"]],
            {t("col.count"): counts["count"].tolist()},
            title=t("lbl.daily_counts"),
        )
        table = report.by_jurisdiction
        out["by_jurisdiction"] = figs.bar_chart(
            [str(n or c) for n, c in zip(table["name"], table["jurisdiction_code"], strict=True)],
            table["observed"].tolist(),
            reference=table["baseline"].tolist(),
            title=t("sec.by_jurisdiction"),
            value_label=t("col.observed"),
            reference_label=t("col.baseline"),
        )
        out["map"] = figs.map_figure(
            _outlines(report),
            title=t("lbl.map_hex"),
            hexagons=_hex(report.hexagons),
            colour_label=t("col.count"),
            integer_colours=True,
        )
    elif isinstance(report, WeeklyBulletin):
        ranking = report.ranking
        out["ranking"] = figs.bar_chart(
            ranking["name"].tolist(),
            ranking["count"].tolist(),
            reference=ranking["previous"].tolist(),
            title=t("sec.ranking"),
            value_label=t("col.current"),
            reference_label=t("col.previous"),
        )
        out["map"] = figs.map_figure(
            _outlines(report),
            title=t("lbl.map_hex"),
            hexagons=_hex(report.hexagons),
            colour_label=t("col.count"),
            integer_colours=True,
        )
    else:
        monthly = report.monthly_counts
        last_year = [v if v > 0 else math.nan for v in monthly["last_year"].tolist()]
        out["trend"] = figs.line_chart(
            monthly["label"].tolist(),
            {t("lbl.this_year"): monthly["this_year"].tolist(), t("lbl.last_year"): last_year},
            title=t("lbl.monthly_counts"),
        )
        emerging = report.emerging
        out["emerging_map"] = figs.map_figure(
            _outlines(report),
            title=t("lbl.map_emerging"),
            categories=(
                cell_boundaries_geojson(np.asarray(emerging["cell"], dtype=np.int64)),
                [_PATTERN_COLOURS.get(p, "#cccccc") for p in emerging["pattern"]],
            ),
            legend=[
                (t(f"pattern.{p}"), _PATTERN_COLOURS.get(p, "#cccccc"))
                for p in sorted(set(emerging["pattern"]))
            ],
        )
        if report.forecast is not None:
            f = report.forecast
            out["forecast_map"] = figs.map_figure(
                _outlines(report),
                title=t("lbl.map_heat"),
                heat=(f.image, f.extent, f.projection),
                colour_label=t("lbl.risk"),
            )
    return out


# --- HTML and PDF ----------------------------------------------------------------------------


def _translator(lang: str) -> Callable[[str], str]:
    check_lang(lang)
    return lambda key: text(key, lang)


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{100.0 * float(value):+.{digits}f}%"


def _rate(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{100.0 * float(value):.{digits}f}%"


def _num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=_pct, rate=_rate, num=_num)
    return env


def render_html(
    report: Report,
    *,
    lang: str = "zh",
    generated_at: datetime | None = None,
    figures: dict[str, figs.Figure] | None = None,
) -> str:
    """The report as one self-contained HTML page in ``lang`` (``zh`` default, or ``en``).

    Parameters
    ----------
    report
        From :func:`gather` (or one of the ``*_data`` functions).
    lang
        ``zh`` or ``en``.
    generated_at
        Printed in the header; default the period's end (keeps output reproducible).
    figures
        Pre-drawn figures (from :func:`make_figures`); drawn here when omitted.
    """
    t = _translator(lang)
    figures = make_figures(report, lang) if figures is None else figures
    font = find_cjk_font()
    kind = report.header.kind
    template = _environment().get_template(f"{kind}.html.j2")
    return template.render(
        r=report,
        t=t,
        lang=lang,
        figures=figures,
        generated_at=(generated_at or report.header.end).astimezone(report.header.start.tzinfo),
        version=__version__,
        cjk_family=font.family if font else None,
        cjk_missing=font is None,
        title=t(f"title.{kind}"),
    )


def render_pdf(html: str) -> bytes:
    """Lay out report HTML as PDF with WeasyPrint.

    Raises
    ------
    PdfUnavailable
        When WeasyPrint or the Pango library it needs is not installed, saying what to install.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint found no Pango
        raise PdfUnavailable(
            f"PDF reports need WeasyPrint and Pango ({exc}). Install them with "
            "`pip install weasyprint` and `apt-get install libpango-1.0-0 libpangoft2-1.0-0`, "
            "or use --format html."
        ) from exc
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    return weasyprint.HTML(string=html, base_url=str(_TEMPLATES)).write_pdf()


def build_report(
    kind: str,
    *,
    session: Session,
    scope: Collection[str] | None,
    date: Date,
    fmt: str = "html",
    lang: str = "zh",
    zone: str = "Asia/Shanghai",
    now: datetime | None = None,
    generated_at: datetime | None = None,
) -> RenderedReport:
    """Gather, draw and render one report (生成报告).

    Parameters
    ----------
    kind
        ``daily`` (日巡查), ``weekly`` (周通报) or ``monthly`` (月研判).
    session, scope
        An open session; the jurisdiction codes the reader may see (``None`` for all).
    date
        A local day in the period (daily: the day inspected).
    fmt
        ``html`` or ``pdf``.
    lang
        ``zh`` (default) or ``en``.
    zone
        The bureau's IANA zone.
    now
        When lateness is judged; default the end of the period.
    generated_at
        Printed in the header; default the end of the period.
    """
    if fmt not in FORMATS:
        raise HaizhouError(f"report format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    check_lang(lang)
    data = gather(kind, session=session, scope=scope, date=date, zone=zone, now=now)
    html = render_html(data, lang=lang, generated_at=generated_at)
    warnings = () if find_cjk_font() else (text("lbl.cjk_missing", lang),)
    content = render_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    return RenderedReport(
        kind=kind, fmt=fmt, lang=lang, content=content, data=data, warnings=warnings
    )
