"""End to end in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

A small synthetic city is imported into a fresh store, ``haizhou serve`` runs it on a free
port, and the browser logs in, switches layers, moves the time slider, opens a finding and
switches the language. Screenshots go to ``test-artifacts/e2e/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
STATIC_INDEX = REPO / "src" / "haizhou" / "api" / "static" / "index.html"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires it (see .ci/run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _build_store(data_dir: Path) -> dict[str, Any]:
    """A small synthetic city, two users and one finding, in a fresh SQLite store."""
    from sqlalchemy import func, select

    from haizhou.domain import Finding, Level
    from haizhou.ingest import import_file
    from haizhou.security.passwords import hash_password
    from haizhou.sim import CityConfig, generate_city, write_city
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.migrate import upgrade
    from haizhou.store.repositories.findings import add_findings
    from haizhou.store.tables import IncidentRow, JurisdictionRow, UserRow

    city = generate_city(CityConfig(scale=0.05, seed=1, start=date(2024, 1, 1), days=120))
    write_city(city, data_dir / "city")
    url = f"sqlite:///{data_dir / 'haizhou.db'}"
    upgrade(url)
    engine = make_engine(url)
    for kind, name in (
        ("jurisdictions", "jurisdictions.geojson"),
        ("sensors", "sensors.csv"),
        ("incidents", "incidents.csv"),
    ):
        import_file(
            kind,
            data_dir / "city" / name,
            engine=engine,
            data_dir=data_dir,
            pseudonym_key="e2e-key-" * 4,
            source="sim",
            progress=False,
        )
    with make_sessionmaker(engine)() as session:
        station = session.scalar(
            select(JurisdictionRow.code)
            .where(JurisdictionRow.parent_code.is_not(None))
            .order_by(JurisdictionRow.code)
        )
        digest = hash_password(PASSWORD)
        for username, role, code in (
            ("analyst1", "analyst", None),
            ("officer1", "station_officer", station),
        ):
            session.add(
                UserRow(
                    username=username,
                    password_hash=digest,
                    role=role,
                    jurisdiction_code=code,
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )
        last = session.scalar(select(func.max(IncidentRow.reported_at)))
        lon, lat, code = session.execute(
            select(IncidentRow.lon, IncidentRow.lat, IncidentRow.jurisdiction_code)
            .order_by(IncidentRow.reported_at.desc())
            .limit(1)
        ).one()
        finding = Finding(
            kind="hotspot",
            title="盗窃高发 Theft hot spot",
            level=Level.RED,
            geometry={"type": "Point", "coordinates": [lon, lat]},
            window_start=last - timedelta(days=14),
            window_end=last,
            explanation="14 天内 9 起盗窃警情，为平时的 3 倍",
            suggested_action="加强夜间巡逻",
            model_id="hotspot_kde",
            model_version="1.0",
            evidence={"incidents": 9, "baseline": 3.0},
        )
        add_findings(session=session, findings=[finding], jurisdiction_codes=[code])
        session.commit()
    engine.dispose()
    return {"finding": (lon, lat)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _require(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    _require(STATIC_INDEX.exists(), "the web app is not built (make web)")
    pytest.importorskip("playwright")
    data_dir = tmp_path_factory.mktemp("e2e")
    facts = _build_store(data_dir)
    port = _free_port()
    env = {**os.environ, "HAIZHOU_DATA_DIR": str(data_dir)}
    env.pop("HAIZHOU_DATABASE_URL", None)
    log = (data_dir / "serve.log").open("w")
    haizhou = Path(sys.executable).parent / "haizhou"
    process = subprocess.Popen(
        [str(haizhou), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"haizhou serve did not start: {(data_dir / 'serve.log').read_text()}")
            time.sleep(0.3)
        yield {"base": base, **facts}
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _total(page: Any) -> int:
    text = page.get_by_test_id("incident-total").inner_text()
    digits = "".join(ch for ch in text.split(":")[-1] if ch.isdigit())
    return int(digits) if digits else -1


def _wait_total(page: Any, previous: int | None = None) -> int:
    page.wait_for_function(
        "(prev) => { const t = document.querySelector('[data-testid=incident-total]');"
        " if (!t) return false; const m = t.textContent.split(':').pop().replace(/\\D/g, '');"
        " return m !== '' && (prev === null || Number(m) !== prev); }",
        arg=previous,
        timeout=15_000,
    )
    return _total(page)


def test_log_in_switch_layers_move_time_open_finding_switch_language(
    server: dict[str, Any], browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(server["base"])

    # Log-in page, in Chinese by default; a wrong password is refused.
    page.get_by_test_id("login-form").wait_for()
    assert "登录" in page.get_by_test_id("login-form").inner_text()
    page.fill("input[name=username]", "analyst1")
    page.fill("input[name=password]", "wrong password!")
    page.get_by_test_id("login-submit").click()
    assert page.get_by_test_id("login-error").inner_text() == "用户名或口令错误"
    _shot(page, "01-login-refused")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()

    # The map: hexagons of the last 30 days, in the analyst's whole scope.
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=20_000)
    first = _wait_total(page)
    assert first > 0
    assert page.get_by_test_id("app-title").inner_text() == "海州 · 数据驱动的公共安全平台"
    page.wait_for_timeout(800)
    _shot(page, "02-map-hexagons")

    # Switch layers: heat on, hexagons off, sensors on.
    page.get_by_test_id("layer-hexagons").uncheck()
    page.get_by_test_id("layer-heat").check()
    page.get_by_test_id("layer-sensors").check()
    page.wait_for_timeout(1500)
    legend = page.get_by_test_id("legend").inner_text()
    assert "警情密度" in legend and "感知点位" in legend
    _shot(page, "03-heat-and-sensors")
    page.get_by_test_id("layer-heat").uncheck()
    page.get_by_test_id("layer-sensors").uncheck()
    page.get_by_test_id("layer-hexagons").check()

    # Move the time slider back 40 days: the label and the count change.
    label_before = page.get_by_test_id("time-label").inner_text()
    slider = page.get_by_test_id("time-end")
    slider.focus()
    for _ in range(40):
        page.keyboard.press("ArrowLeft")
    later = _wait_total(page, first)
    assert page.get_by_test_id("time-label").inner_text() != label_before
    assert later != first
    # Back to the newest window, where the finding lies.
    page.keyboard.press("End")
    _wait_total(page, later)
    page.wait_for_timeout(1000)
    _shot(page, "04-time-moved-back")

    # Open the finding: click where the map draws it.
    lon, lat = server["finding"]
    point = page.evaluate(
        "([lon, lat]) => { const m = document.querySelector('[data-testid=map]').haizhouMap;"
        " m.jumpTo({center: [lon, lat], zoom: 14}); const p = m.project([lon, lat]);"
        " const r = m.getCanvas().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
        [lon, lat],
    )
    page.wait_for_timeout(1500)  # the findings layer reloads for the new view
    page.mouse.click(point[0], point[1])
    panel = page.get_by_test_id("side-panel")
    panel.wait_for(timeout=10_000)
    text = panel.inner_text()
    assert "盗窃高发 Theft hot spot" in text and "加强夜间巡逻" in text and "红色" in text
    _shot(page, "05-finding-panel")

    # Switch to English.
    page.get_by_test_id("lang-switch").click()
    assert page.get_by_test_id("app-title").inner_text() == "Haizhou · data-driven public safety"
    assert "Suggested action" in panel.inner_text() and "Red" in panel.inner_text()
    assert "Layers" in page.get_by_test_id("layer-switcher").inner_text()
    _shot(page, "06-english")

    # Dashboard (ECharts) and log-out.
    page.get_by_test_id("nav-dashboard").click()
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-testid=kpi-total]')?.textContent ?? '')"
    )
    page.wait_for_timeout(800)
    _shot(page, "07-dashboard")
    page.get_by_test_id("logout").click()
    page.get_by_test_id("login-form").wait_for()
    assert page.evaluate("() => document.cookie").count("haizhou_session") == 0
    assert not [e for e in errors if "401" not in e], errors
    context.close()


def test_a_station_officer_sees_only_their_station(server: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server["base"])
    page.fill("input[name=username]", "officer1")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=20_000)
    officer_total = _wait_total(page)
    me = page.evaluate("() => fetch('/api/auth/me').then(r => r.json())")
    assert me["role"] == "station_officer" and me["scope"]
    page.wait_for_timeout(800)
    _shot(page, "08-station-officer")
    # The officer's browser cannot widen its own scope: the server filters every query.
    codes = page.evaluate(
        "() => fetch('/api/map/jurisdictions').then(r => r.json())"
        ".then(fc => fc.features.map(f => f.properties.code))"
    )
    assert set(codes) == set(me["scope"])
    assert officer_total >= 0
    context.close()


def test_chromium_is_debians(browser: Any) -> None:
    assert shutil.which("chromium") or CHROMIUM.exists()
    assert browser.version.split(".")[0].isdigit()
