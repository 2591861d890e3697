"""Finding a CJK font for the reports (中文字体检测).

Nothing large is shipped: the reports use a CJK font already on the machine (Debian's
``fonts-noto-cjk`` or ``fonts-wqy-microhei``). When none is found the reports still render and
say so plainly (a warning in the log and a banner in the report), instead of drawing tofu boxes.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CJK_FAMILIES", "CjkFont", "find_cjk_font"]

log = logging.getLogger(__name__)

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
"""Font families tried, in order of preference (simplified Chinese sans-serif first)."""

_PROBE = "日巡查周通报月研判警情派出所"


@dataclass(frozen=True, slots=True, kw_only=True)
class CjkFont:
    """A font that draws Chinese (中文字体).

    Attributes
    ----------
    family : str
        Family name as matplotlib knows it.
    path : pathlib.Path
        The font file.
    """

    family: str
    path: Path


def _covers(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
        charmap = font.get_charmap()
    except Exception:
        return False
    return all(ord(c) in charmap for c in _PROBE)


@functools.cache
def find_cjk_font() -> CjkFont | None:
    """The first installed font of :data:`CJK_FAMILIES` (or any font) that has Chinese glyphs.

    Returns ``None`` (and logs a warning saying what to install) when there is none.
    """
    from matplotlib import font_manager

    _register_fontconfig_cjk(font_manager)
    entries = font_manager.fontManager.ttflist
    by_name: dict[str, str] = {}
    # Regular weight first, so a family's regular face wins over its bold one.
    for entry in sorted(
        entries, key=lambda e: (e.weight not in (400, "normal", "regular"), e.fname)
    ):
        by_name.setdefault(entry.name, entry.fname)
    for family in CJK_FAMILIES:
        path = by_name.get(family)
        if path and _covers(path):
            return CjkFont(family=family, path=Path(path))
    for entry in entries:  # any other font that happens to cover Chinese
        if any(k in entry.name for k in ("CJK", "Hei", "Song", "Kai", "Ming", "Han")) and _covers(
            entry.fname
        ):
            return CjkFont(family=entry.name, path=Path(entry.fname))
    log.warning(
        "No CJK font found: Chinese text in report figures would not render. Install one, "
        "e.g. `apt-get install fonts-noto-cjk` (OFL), then delete matplotlib's font cache."
    )
    return None


def _register_fontconfig_cjk(font_manager: object) -> None:
    """Add the Chinese fonts fontconfig knows to matplotlib's list.

    matplotlib caches its font list once; a CJK font installed after that (the usual case on
    a fresh machine: pip first, apt later) is missing from it until the cache is rebuilt.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return
    known = {entry.fname for entry in font_manager.fontManager.ttflist}  # type: ignore[attr-defined]
    for line in sorted(set(out.splitlines())):
        path = line.strip().rstrip(":")
        if path and path not in known and path.lower().endswith((".ttf", ".otf", ".ttc")):
            try:
                font_manager.fontManager.addfont(path)  # type: ignore[attr-defined]
            except Exception:
                continue
