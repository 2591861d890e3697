"""Reports (报告): daily inspection (日巡查), weekly bulletin (周通报), monthly assessment (月研判).

:mod:`~haizhou.reports.data` gathers the numbers from the store into frozen dataclasses,
:mod:`~haizhou.reports.figures` draws charts and maps, :mod:`~haizhou.reports.render` renders
HTML (Jinja2) and PDF (WeasyPrint), :mod:`~haizhou.reports.i18n` holds the zh-CN and English
texts. ``haizhou report daily|weekly|monthly`` is the command line (see ``docs/reports.md``).
"""

from haizhou.reports.render import (
    FORMATS,
    KINDS,
    PdfUnavailable,
    RenderedReport,
    build_report,
    gather,
    render_html,
    render_pdf,
)

__all__ = [
    "FORMATS",
    "KINDS",
    "PdfUnavailable",
    "RenderedReport",
    "build_report",
    "gather",
    "render_html",
    "render_pdf",
]
