"""The web app's sources: every UI key in both languages, and a build that fits the CSP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
STATIC = Path(__file__).resolve().parents[2] / "src" / "haizhou" / "api" / "static"
I18N = WEB / "src" / "i18n"


def _dictionaries() -> dict[str, dict[str, str]]:
    return {
        lang: json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in ("zh-CN", "en")
    }


def test_every_ui_key_is_in_both_languages() -> None:
    dictionaries = _dictionaries()
    zh, en = dictionaries["zh-CN"], dictionaries["en"]
    assert set(zh) == set(en), set(zh) ^ set(en)
    assert all(value.strip() for d in dictionaries.values() for value in d.values())
    # The Chinese dictionary is Chinese (a copied English file would pass the key check).
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert sum(bool(cjk.search(v)) for v in zh.values()) >= 0.9 * len(zh)
    assert not any(cjk.search(v) for k, v in en.items() if k != "lang.switch")


def test_every_key_the_code_uses_exists() -> None:
    keys = set(_dictionaries()["zh-CN"])
    used: set[str] = set()
    for path in (WEB / "src").rglob("*.tsx"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([\w.-]+)["']""", text))
        used |= set(
            re.findall(
                r"""["']((?:panel|level|layer|login|nav|time|legend|dashboard|status|error|app|lang|user|layers)\.[\w.-]+)["']""",
                text,
            )
        )
        # Keys built from a template, e.g. t(`layer.${id}`): every value must have its key.
        for prefix in re.findall(r"`(\w+)\.\$\{", text):
            assert any(k.startswith(prefix + ".") for k in keys), prefix
    layers = re.search(
        r"const LAYERS: LayerId\[\] = \[([^\]]+)\]", (WEB / "src/pages/MapPage.tsx").read_text()
    )
    assert layers is not None
    names = [name.strip().strip('"') for name in layers.group(1).split(",")]
    used |= {f"layer.{name}" for name in names}
    used |= {f"level.{level}" for level in ("red", "orange", "yellow", "blue")}
    missing = sorted(used - keys)
    assert not missing, f"UI keys used in web/src but missing from the dictionaries: {missing}"


def test_built_app_has_no_inline_script_and_its_assets_exist() -> None:
    index = STATIC / "index.html"
    if not index.exists():
        pytest.skip("the web app is not built (make web)")
    html = index.read_text(encoding="utf-8")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all(body.strip() == "" and "src=" in attrs for attrs, body in scripts)
    for ref in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert (STATIC / ref.lstrip("/")).is_file(), ref
