"""Rendering errors say what is missing and what to do."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from haizhou.errors import HaizhouError
from haizhou.reports.render import PdfUnavailable, gather, render_pdf


def test_pdf_without_weasyprint_names_the_fix(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import now raises ImportError
    with pytest.raises(PdfUnavailable, match=r"pip install weasyprint.*libpango.*--format html"):
        render_pdf("<html><body>x</body></html>")


def test_pdf_renders_chinese_html() -> None:
    pytest.importorskip("weasyprint")
    pdf = render_pdf('<html lang="zh-CN"><body><h1>日巡查</h1></body></html>')
    assert pdf.startswith(b"%PDF-")
    pdffonts = shutil.which("pdffonts")
    if pdffonts:  # the CJK font is embedded (the slow PDF tests require pdffonts)
        out = subprocess.run([pdffonts, "-"], input=pdf, capture_output=True, check=True).stdout
        assert b"CJK" in out or b"Hei" in out, out


def test_unknown_kind_and_date_type_are_explained() -> None:
    with pytest.raises(HaizhouError, match="daily, weekly, monthly"):
        gather("yearly", session=None, scope=None, date=None)  # type: ignore[arg-type]
    from datetime import datetime

    from haizhou.reports.data import daily_inspection_data

    with pytest.raises(TypeError, match=r"datetime\.date"):
        daily_inspection_data(session=None, scope=None, date=datetime(2025, 1, 1))  # type: ignore[arg-type]
