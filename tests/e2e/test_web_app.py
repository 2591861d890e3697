"""End to end in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

A small synthetic city is imported into a fresh store, ``haizhou serve`` runs it on a free
port, and the browser logs in, switches layers, moves the time slider, opens a finding and
switches the language. Screenshots go to ``test-artifacts/e2e/`` (git-ignored).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.e2e._support import (
    CHROMIUM,
    PASSWORD,
    add_users,
    api,
    live_server,
    login,
    shot,
    submit_login,
)

pytestmark = pytest.mark.slow


def _build_store(data_dir: Path) -> dict[str, Any]:
    """A small synthetic city, two users and one finding, in a fresh SQLite store."""
    from sqlalchemy import func, select

    from haizhou.domain import Finding, Level
    from haizhou.ingest import import_file
    from haizhou.sim import CityConfig, generate_city, write_city
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.migrate import upgrade
    from haizhou.store.repositories.findings import add_findings
    from haizhou.store.tables import IncidentRow, JurisdictionRow
    from haizhou.tasks.service import create_manual

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
        add_users(
            session, [("analyst1", "analyst", None), ("officer1", "station_officer", station)]
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
        (finding_id,) = add_findings(session=session, findings=[finding], jurisdiction_codes=[code])
        # One instruction for the officer's station, issued through the tasks service at the
        # time of the last incident (so it lies in the map's window and is long overdue now).
        # ... at a recent incident of that station well away from the finding.
        places = [
            (x, y)
            for x, y in session.execute(
                select(IncidentRow.lon, IncidentRow.lat)
                .where(IncidentRow.jurisdiction_code == station)
                .order_by(IncidentRow.reported_at.desc())
                .limit(500)
            )
            if abs(x - lon) + abs(y - lat) > 0.01
        ]
        i_lon, i_lat = places[0]
        # A second one, to be signed from the map's side panel.
        m_lon, m_lat = next(p for p in places if abs(p[0] - i_lon) + abs(p[1] - i_lat) > 0.01)
        # A yellow finding (the policy holds it for approval) to issue an instruction from, away
        # from the other finding and both instructions.
        f_lon, f_lat = next(
            p
            for p in places
            if min(abs(p[0] - x) + abs(p[1] - y) for x, y in ((i_lon, i_lat), (m_lon, m_lat)))
            > 0.01
        )
        (yellow_id,) = add_findings(
            session=session,
            findings=[
                Finding(
                    kind="hotspot",
                    title="电动车被盗增多 E-bike thefts rising",
                    level=Level.YELLOW,
                    geometry={"type": "Point", "coordinates": [f_lon, f_lat]},
                    window_start=last - timedelta(days=14),
                    window_end=last,
                    explanation="14 天内 5 起电动车被盗",
                    suggested_action="走访小区车棚",
                    model_id="hotspot_kde",
                    model_version="1.0",
                    evidence={"incidents": 5, "baseline": 2.0},
                )
            ],
            jurisdiction_codes=[station],
        )
        on_map = create_manual(
            session=session,
            title="路面巡查 Street check",
            level="yellow",
            now=last,
            actor="analyst1",
            actor_role="analyst",
            jurisdiction_code=station,
            geometry={"type": "Point", "coordinates": [m_lon, m_lat]},
        )
        instruction = create_manual(
            session=session,
            title="夜间巡逻核查 Night patrol check",
            level="orange",
            now=last,
            actor="analyst1",
            actor_role="analyst",
            jurisdiction_code=station,
            geometry={"type": "Point", "coordinates": [i_lon, i_lat]},
            explanation="近两周夜间盗窃增多",
            suggested_action="夜间巡逻并走访商户",
        )
        session.commit()
    engine.dispose()
    return {
        "finding": (lon, lat),
        "instruction": {"id": instruction.id, "lon": i_lon, "lat": i_lat},
        "map_instruction": {"id": on_map.id, "lon": m_lon, "lat": m_lat},
        "station": station,
        "finding_id": finding_id,
        "yellow_finding": {"id": yellow_id, "lon": f_lon, "lat": f_lat},
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from live_server(tmp_path_factory, "e2e", _build_store, startup_timeout=60)


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
    shot(page, "01-login-refused")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()

    # The map: hexagons of the last 30 days, in the analyst's whole scope.
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=20_000)
    first = _wait_total(page)
    assert first > 0
    assert page.get_by_test_id("app-title").inner_text() == "海州 · 数据驱动的公共安全平台"
    page.wait_for_timeout(800)
    shot(page, "02-map-hexagons")

    # Switch layers: heat on, hexagons off, sensors on.
    page.get_by_test_id("layer-hexagons").uncheck()
    page.get_by_test_id("layer-heat").check()
    page.get_by_test_id("layer-sensors").check()
    page.wait_for_timeout(1500)
    legend = page.get_by_test_id("legend").inner_text()
    assert "警情密度" in legend and "感知点位" in legend
    shot(page, "03-heat-and-sensors")
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
    shot(page, "04-time-moved-back")

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
    shot(page, "05-finding-panel")

    # Switch to English.
    page.get_by_test_id("lang-switch").click()
    assert page.get_by_test_id("app-title").inner_text() == "Haizhou · data-driven public safety"
    assert "Suggested action" in panel.inner_text() and "Red" in panel.inner_text()
    assert "Layers" in page.get_by_test_id("layer-switcher").inner_text()
    shot(page, "06-english")

    # Dashboard (ECharts) and log-out.
    page.get_by_test_id("nav-dashboard").click()
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-testid=kpi-total]')?.textContent ?? '')"
    )
    page.wait_for_timeout(800)
    shot(page, "07-dashboard")
    page.get_by_test_id("logout").click()
    page.get_by_test_id("login-form").wait_for()
    assert page.evaluate("() => document.cookie").count("haizhou_session") == 0
    assert not [e for e in errors if "401" not in e], errors
    context.close()


def test_a_station_officer_sees_only_their_station(server: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    submit_login(page, server["base"], "officer1")
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=20_000)
    officer_total = _wait_total(page)
    me = page.evaluate("() => fetch('/api/auth/me').then(r => r.json())")
    assert me["role"] == "station_officer" and me["scope"]
    page.wait_for_timeout(800)
    shot(page, "08-station-officer")
    # The officer's browser cannot widen its own scope: the server filters every query.
    codes = page.evaluate(
        "() => fetch('/api/map/jurisdictions').then(r => r.json())"
        ".then(fc => fc.features.map(f => f.properties.code))"
    )
    assert set(codes) == set(me["scope"])
    assert officer_total >= 0
    context.close()


def _login(browser: Any, server: dict[str, Any], username: str, errors: list[str]) -> Any:
    """Logged in (console errors collected too), the map ready."""
    page = login(browser, server["base"], username, errors, console_errors=True)
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=20_000)
    return page


def _map_point(page: Any, lon: float, lat: float, zoom: float = 15) -> list[float]:
    """Centre the map on (lon, lat) and return that point in page pixels."""
    return page.evaluate(
        "([lon, lat, zoom]) => { const m = document.querySelector('[data-testid=map]').haizhouMap;"
        " m.jumpTo({center: [lon, lat], zoom}); const p = m.project([lon, lat]);"
        " const r = m.getCanvas().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
        [lon, lat, zoom],
    )


def test_officer_signs_and_feeds_back_an_instruction_in_the_inbox_and_on_the_map(
    server: dict[str, Any], browser: Any
) -> None:
    errors: list[str] = []
    page = _login(browser, server, "officer1", errors)
    number = server["instruction"]["id"]

    # The inbox: the seeded instruction, waiting to be signed and long overdue.
    page.get_by_test_id("nav-instructions").click()
    row = page.get_by_test_id(f"instr-row-{number}")
    row.wait_for(timeout=10_000)
    assert "待签收" in row.inner_text() and "超期" in row.inner_text()
    # Filters: overdue keeps it, "closed" has none, back to all.
    page.get_by_test_id("instr-filter-overdue").check()
    page.get_by_test_id("instr-filter-status").select_option("closed")
    page.get_by_test_id("instr-empty").wait_for()
    page.get_by_test_id("instr-filter-status").select_option("issued")
    row.wait_for()
    page.get_by_test_id("instr-filter-status").select_option("")
    page.get_by_test_id("instr-filter-overdue").uncheck()
    row.click()
    card = page.get_by_test_id("instruction-card")
    card.wait_for()
    assert "夜间巡逻并走访商户" in card.inner_text()
    shot(page, "09-inbox-issued")

    # Sign: the status and the history change, and the feedback form appears.
    page.get_by_test_id("instr-sign").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=instruction-status]')?.textContent === '已签收'"
    )
    assert page.get_by_test_id("instruction-history").locator("li").count() == 2
    page.get_by_test_id("instr-verified-true").check()
    page.get_by_test_id("instr-feedback-text").fill("已走访 5 家商户，加装监控 2 处")
    page.get_by_test_id("instr-feedback-submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=instruction-status]')?.textContent === '已反馈'"
    )
    assert "属实" in page.get_by_test_id("instruction-feedback").inner_text()
    assert page.get_by_test_id("instruction-history").locator("li").count() == 3
    # The server holds the same state (the UI did not just repaint).
    stored = page.evaluate(f"() => fetch('/api/instructions/{number}').then(r => r.json())")
    assert stored["status"] == "fed_back" and stored["feedback"]["verified"] is True
    assert [h["to_status"] for h in stored["history"]] == ["issued", "signed", "fed_back"]
    # The inbox row follows.
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=instr-row-{number}]')"
        "?.textContent.includes('已反馈')"
    )
    shot(page, "10-inbox-fed-back")

    # The same instruction on the map (instructions layer), with its card in the side panel.
    page.get_by_test_id("nav-map").click()
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=20_000)
    _wait_total(page)
    assert page.get_by_test_id("layer-instructions").is_checked()
    point = _map_point(page, server["instruction"]["lon"], server["instruction"]["lat"])
    page.wait_for_function(
        "() => { const m = document.querySelector('[data-testid=map]').haizhouMap;"
        " return m.querySourceFeatures('instructions').length > 0; }",
        timeout=10_000,
    )
    page.wait_for_timeout(800)
    page.mouse.click(point[0], point[1])
    panel = page.get_by_test_id("side-panel")
    panel.wait_for(timeout=10_000)
    panel.get_by_test_id("instruction-card").wait_for()
    assert "夜间巡逻核查" in panel.inner_text() and "已反馈" in panel.inner_text()
    shot(page, "11-instruction-on-map")

    # The side panel has the inbox's actions: sign the second instruction on the map; the
    # layer reloads with its new status.
    page.get_by_test_id("panel-close").click()
    other = server["map_instruction"]
    point = _map_point(page, other["lon"], other["lat"])
    page.wait_for_timeout(1500)
    page.mouse.click(point[0], point[1])
    panel.get_by_test_id("instruction-card").wait_for(timeout=10_000)
    assert "路面巡查" in panel.inner_text()
    panel.get_by_test_id("instr-sign").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=instruction-status]')?.textContent === '已签收'"
    )
    page.wait_for_function(
        "(id) => document.querySelector('[data-testid=map]').haizhouMap"
        ".querySourceFeatures('instructions').some("
        "f => f.properties.id === id && f.properties.status === 'signed')",
        arg=other["id"],
        timeout=10_000,
    )
    shot(page, "11b-signed-on-map")
    page.context.close()

    # The analyst reviews it from the inbox and closes it.
    page = _login(browser, server, "analyst1", errors)
    page.get_by_test_id("nav-instructions").click()
    page.get_by_test_id(f"instr-row-{number}").click()
    page.get_by_test_id("instr-review-note").fill("处置到位")
    page.get_by_test_id("instr-accept").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=instruction-status]')?.textContent === '已办结'"
    )
    page.get_by_test_id("lang-switch").click()
    assert page.get_by_test_id("instruction-status").inner_text() == "Closed"
    assert "History" in page.get_by_test_id("instructions-page").inner_text()
    shot(page, "12-inbox-closed-english")
    page.get_by_test_id("lang-switch").click()
    page.context.close()
    assert not [e for e in errors if "401" not in e], errors


def test_scenario_view_and_polygon_query(server: dict[str, Any], browser: Any) -> None:
    from haizhou.sim.catalog import SCHOOL_NAMES

    errors: list[str] = []
    page = _login(browser, server, "analyst1", errors)
    _wait_total(page)

    # The large-event view: the map jumps to the sports centre and shows its zones and counts.
    page.get_by_test_id("scenario-select").select_option("stadium")
    counts = page.get_by_test_id("scenario-counts")
    counts.wait_for(timeout=10_000)
    day = counts.inner_text().split()[-1]
    expected = page.evaluate(f"() => fetch('/api/scenarios/stadium?day={day}').then(r => r.json())")
    shown = {
        key: int(page.get_by_test_id(f"scenario-{key}").inner_text())
        for key in ("incidents", "instructions", "sensors", "findings")
    }
    assert shown == {
        "incidents": expected["counts"]["incidents_today"],
        "instructions": expected["counts"]["open_instructions"],
        "sensors": expected["counts"]["sensors"],
        "findings": expected["counts"]["findings"],
    }
    assert shown["sensors"] > 0  # the simulator puts its airspace sensors round the stadium
    roles = {f["properties"]["role"] for f in expected["zones"]["features"]}
    assert roles == {"core", "control"}
    # The view's layers: sensors on, hexagons off; the map centred on the stadium.
    assert page.get_by_test_id("layer-sensors").is_checked()
    assert not page.get_by_test_id("layer-hexagons").is_checked()
    centre = page.evaluate(
        "() => document.querySelector('[data-testid=map]').haizhouMap.getCenter().toArray()"
    )
    assert centre == [pytest.approx(v, abs=1e-4) for v in expected["centre"]]
    page.wait_for_timeout(1500)
    shot(page, "13-scenario-stadium")

    # School safety: one zone per school.
    page.get_by_test_id("scenario-select").select_option("schools")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=scenario-counts]')?.textContent.includes('200')"
    )
    schools = page.evaluate("() => fetch('/api/scenarios/schools').then(r => r.json())")
    assert len(schools["zones"]["features"]) == len(SCHOOL_NAMES)
    assert {f["properties"]["kind"] for f in schools["zones"]["features"]} == {"school"}
    page.wait_for_timeout(1200)
    shot(page, "14-scenario-schools")
    page.get_by_test_id("scenario-select").select_option("")
    page.get_by_test_id("layer-hexagons").check()

    # Draw a polygon round the finding and query inside it.
    lon, lat = server["finding"]
    centre_px = _map_point(page, lon, lat, zoom=13)
    page.wait_for_timeout(800)
    page.get_by_test_id("draw-start").click()
    x, y = centre_px
    for dx, dy in ((-150, -120), (150, -120), (170, 110), (-140, 130)):
        page.mouse.click(x + dx, y + dy)
        page.wait_for_timeout(150)
    page.get_by_test_id("draw-finish").click()
    panel = page.get_by_test_id("query-panel")
    panel.wait_for(timeout=15_000)
    count_text = page.get_by_test_id("query-count").inner_text()
    shown_count = int("".join(ch for ch in count_text.split(":")[-1] if ch.isdigit()))
    assert shown_count > 0
    assert "盗窃高发" in panel.inner_text()  # the finding lies inside
    page.wait_for_timeout(500)
    shot(page, "15-polygon-query")
    page.context.close()
    assert not [e for e in errors if "401" not in e], errors


def test_models_and_reports_pages(server: dict[str, Any], browser: Any) -> None:
    errors: list[str] = []
    page = _login(browser, server, "analyst1", errors)

    # Models: the list from the server, a model card and the run form for an analyst.
    models = page.evaluate("() => fetch('/api/models').then(r => r.json())")
    assert models
    page.get_by_test_id("nav-models").click()
    page.get_by_test_id("models-table").wait_for(timeout=10_000)
    assert page.get_by_test_id("models-table").locator("tbody tr").count() == len(models)
    first = models[0]
    page.get_by_test_id(f"model-row-{first['id']}").click()
    detail = page.get_by_test_id("model-detail")
    detail.wait_for(timeout=10_000)
    assert first["title_zh"] in detail.inner_text()
    assert page.get_by_test_id("model-run-form").is_visible()
    shot(page, "16-models")

    # Reports: generate the daily report of the last day with data, in English HTML.
    day = page.evaluate(
        "() => fetch('/api/map/config').then(r => r.json()).then(c => c.time_extent.end.slice(0, 10))"
    )
    page.get_by_test_id("nav-reports").click()
    page.get_by_test_id("report-form").wait_for()
    page.get_by_test_id("report-kind").select_option("daily")
    page.get_by_test_id("report-date").fill(day)
    page.get_by_test_id("report-lang").select_option("en")
    page.get_by_test_id("report-format").select_option("html")
    page.get_by_test_id("report-generate").click()
    page.get_by_test_id("report-message").wait_for(timeout=120_000)
    assert "日报" in page.get_by_test_id("report-message").inner_text(), page.get_by_test_id(
        "report-message"
    ).inner_text()
    page.get_by_test_id("reports-table").wait_for(timeout=10_000)
    reports = page.evaluate("() => fetch('/api/reports').then(r => r.json())")
    made = [r for r in reports["items"] if r["date"] == day and r["lang"] == "en"]
    assert made and made[0]["format"] == "html"
    link = page.get_by_test_id(f"report-download-{made[0]['id']}")
    href = link.get_attribute("href")
    status = page.evaluate("(u) => fetch(u).then(r => r.status)", href)
    assert status == 200
    shot(page, "17-reports")
    page.context.close()
    assert not [e for e in errors if "401" not in e], errors


def test_chromium_is_debians(browser: Any) -> None:
    assert shutil.which("chromium") or CHROMIUM.exists()
    assert browser.version.split(".")[0].isdigit()


def _digits(text: str) -> int:
    return int("".join(ch for ch in text if ch.isdigit()))


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def test_dashboard_shows_the_kpis_of_the_api(server: dict[str, Any], browser: Any) -> None:
    errors: list[str] = []
    page = _login(browser, server, "analyst1", errors)
    page.get_by_test_id("nav-dashboard").click()
    for period, compare in (("month", "yoy"), ("week", "pop")):
        page.get_by_test_id("kpi-period").select_option(period)
        page.get_by_test_id("kpi-compare").select_option(compare)
        day = page.get_by_test_id("kpi-date").input_value()
        assert len(day) == 10
        expected = api(page, f"/api/kpis?start={day}T00:00:00&period={period}&compare={compare}")
        assert expected["period"] == period
        total = next(r for r in expected["incidents_by_category"] if r["category"] == "all")
        cases = next(r for r in expected["cases"] if r["category"] == "all")
        assert total["current"] > 0  # the default day is the newest data's, not today
        page.wait_for_function(
            "(n) => document.querySelector('[data-testid=kpi-total]')?.textContent"
            ".replace(/\\D/g, '') === String(n)",
            arg=total["current"],
            timeout=15_000,
        )
        assert _digits(page.get_by_test_id("kpi-cases-value").inner_text()) == cases["current"]
        assert _digits(page.get_by_test_id("kpi-solved-value").inner_text()) == expected["solved"]
        assert (
            _digits(page.get_by_test_id("kpi-suspects-value").inner_text()) == expected["suspects"]
        )
        flow = expected["clearance_rate"]["flow"]
        assert page.get_by_test_id("kpi-clearance-value").inner_text() == _percent(flow["rate"])
        sign = expected["instructions"]["on_time_sign_rate"]
        assert page.get_by_test_id("kpi-sign-rate-value").inner_text() == _percent(sign["rate"])
        assert f"{sign['numerator']} / {sign['denominator']}" in (
            page.get_by_test_id("kpi-sign-rate").inner_text()
        )
        # One table row per category and per ranked station, with the API's counts.
        rows = page.get_by_test_id("kpi-categories").locator("tbody tr")
        assert rows.count() == len(expected["incidents_by_category"])
        for row in expected["incidents_by_category"]:
            cells = page.get_by_test_id(f"kpi-cat-{row['category']}").locator("td")
            assert _digits(cells.nth(1).inner_text()) == row["current"]
            assert _digits(cells.nth(3).inner_text()) == row["last_year"]
        ranked = page.get_by_test_id("kpi-rankings").locator("tbody tr")
        assert ranked.count() == len(expected["rankings"])
        for row in expected["rankings"][:3]:
            cells = page.get_by_test_id(f"kpi-rank-{row['jurisdiction_code']}").locator("td")
            assert _digits(cells.nth(1).inner_text()) == row["incidents"]
        page.wait_for_timeout(800)  # the ECharts animations
        shot(page, f"16-dashboard-{period}-{compare}")
    page.context.close()
    assert not [e for e in errors if "401" not in e], errors


def test_supervision_create_and_add_notes(server: dict[str, Any], browser: Any) -> None:
    errors: list[str] = []
    page = _login(browser, server, "analyst1", errors)
    page.get_by_test_id("nav-supervision").click()
    page.get_by_test_id("supervision-page").wait_for()
    page.get_by_test_id("sup-new").click()
    deadline = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT10:00")
    due = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT10:00")
    page.get_by_test_id("sup-new-title").fill("“3·15”入室盗窃案 Burglary case")
    page.get_by_test_id("sup-new-level").select_option("red")
    page.get_by_test_id("sup-new-lead").fill("王副局长")
    page.get_by_test_id("sup-new-specialist").fill("刑警大队")
    page.get_by_test_id("sup-new-station").select_option(server["station"])
    page.get_by_test_id("sup-new-deadline").fill(deadline)
    page.get_by_test_id("sup-new-milestone").fill("调取周边监控")
    page.get_by_test_id("sup-new-milestone-due").fill(due)
    page.get_by_test_id("sup-new-submit").click()
    detail = page.get_by_test_id("sup-detail")
    detail.wait_for(timeout=10_000)
    tiers = page.get_by_test_id("sup-tiers").inner_text()
    assert "王副局长" in tiers and "刑警大队" in tiers and server["station"] in tiers
    listing = api(page, "/api/supervision")
    case = next(c for c in listing["items"] if c["title"].startswith("“3·15”"))
    page.get_by_test_id(f"sup-row-{case['id']}").wait_for()
    # The deadline was entered in the bureau's zone (Asia/Shanghai, UTC+8): 10:00 there.
    assert case["deadline"].startswith(deadline[:10] + "T02:00")
    assert [m["title"] for m in case["milestones"]] == ["调取周边监控"]

    # A progress note as the specialist unit.
    page.get_by_test_id("sup-note-tier").select_option("specialist")
    page.get_by_test_id("sup-note-text").fill("已调取监控 12 路，锁定嫌疑车辆")
    page.get_by_test_id("sup-note-submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=sup-notes]')?.textContent.includes('锁定嫌疑车辆')"
    )
    stored = api(page, f"/api/supervision/{case['id']}")
    assert [(n["tier"], n["author"]) for n in stored["notes"]] == [("specialist", "analyst1")]
    page.get_by_test_id("sup-stats").wait_for()
    shot(page, "17-supervision-analyst")
    page.context.close()

    # The station officer sees the case of their station and writes as the station tier.
    page = _login(browser, server, "officer1", errors)
    page.get_by_test_id("nav-supervision").click()
    page.get_by_test_id(f"sup-row-{case['id']}").click()
    assert page.get_by_test_id("sup-note-tier").is_disabled()
    assert page.get_by_test_id("sup-new").count() == 0  # only managers supervise
    page.get_by_test_id("sup-note-text").fill("已走访被盗户")
    page.get_by_test_id("sup-note-submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=sup-notes]')?.textContent.includes('走访被盗户')"
    )
    stored = api(page, f"/api/supervision/{case['id']}")
    assert [n["tier"] for n in stored["notes"]] == ["specialist", "station"]
    assert page.get_by_test_id("sup-close-form").count() == 0  # closing is for managers
    shot(page, "18-supervision-officer")
    page.context.close()

    # The analyst closes it (销号) with a note; the list shows it closed.
    page = _login(browser, server, "analyst1", errors)
    page.get_by_test_id("nav-supervision").click()
    page.get_by_test_id(f"sup-row-{case['id']}").click()
    page.get_by_test_id("sup-close-note").fill("已破案")
    page.get_by_test_id("sup-close").click()
    page.wait_for_function(
        "(id) => document.querySelector(`[data-testid=sup-row-${id}]`)?.textContent"
        ".includes('已销号')",
        arg=case["id"],
    )
    stored = api(page, f"/api/supervision/{case['id']}")
    assert stored["status"] == "closed" and stored["closing_note"] == "已破案"
    assert page.get_by_test_id("sup-note-form").count() == 0  # a closed case takes no notes
    page.context.close()
    assert not [e for e in errors if "401" not in e], errors


def test_analyst_issues_instructions_from_a_finding_and_a_map_point(
    server: dict[str, Any], browser: Any
) -> None:
    errors: list[str] = []
    page = _login(browser, server, "analyst1", errors)
    _wait_total(page)
    yellow = server["yellow_finding"]
    point = _map_point(page, yellow["lon"], yellow["lat"], zoom=14)
    page.wait_for_function(
        "(id) => document.querySelector('[data-testid=map]').haizhouMap"
        ".querySourceFeatures('findings').some(f => f.properties.id === id)",
        arg=yellow["id"],
        timeout=10_000,
    )
    page.wait_for_timeout(800)
    page.mouse.click(point[0], point[1])
    panel = page.get_by_test_id("side-panel")
    panel.wait_for(timeout=10_000)
    assert "电动车被盗增多" in panel.inner_text()
    page.get_by_test_id("finding-issue").click()
    created = page.get_by_test_id("instr-created")
    created.wait_for(timeout=10_000)
    assert "待分析员审批" in created.inner_text()  # yellow: the policy holds it for approval
    shot(page, "19-instruction-from-finding")
    listing = api(page, "/api/instructions?pending=true&limit=500")
    pending = [i for i in listing["items"] if i["finding_id"] == yellow["id"]]
    assert len(pending) == 1 and pending[0]["approval"] == "pending"
    number = pending[0]["id"]

    # By hand, from a point picked on the map.
    page.get_by_test_id("panel-close").click()
    page.get_by_test_id("point-pick").click()
    x, y = _map_point(page, yellow["lon"] + 0.003, yellow["lat"], zoom=14)
    page.mouse.click(x, y)
    page.get_by_test_id("point-form").wait_for()
    assert page.get_by_test_id("side-panel").count() == 0  # the pick did not open the panel
    page.get_by_test_id("point-title").fill("人工指令：商圈巡查 Mall patrol")
    page.get_by_test_id("point-level").select_option("orange")
    page.get_by_test_id("point-text").fill("晚高峰加派巡逻")
    page.get_by_test_id("point-submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=instr-created]')?.textContent.includes('商圈巡查')"
    )
    assert "已下发指令" in page.get_by_test_id("instr-created").inner_text()
    shot(page, "20-instruction-from-point")
    listing = api(page, "/api/instructions?limit=500")
    hand = [i for i in listing["items"] if i["title"].startswith("人工指令")]
    assert len(hand) == 1 and hand[0]["level"] == "orange" and hand[0]["status"] == "issued"
    assert abs(hand[0]["lon"] - (yellow["lon"] + 0.003)) < 1e-3
    assert abs(hand[0]["lat"] - yellow["lat"]) < 1e-3

    # The approval queue in the inbox: approve the pending one; it is issued.
    page.get_by_test_id("nav-instructions").click()
    page.get_by_test_id("instr-approval").click()
    page.get_by_test_id(f"approval-row-{number}").wait_for(timeout=10_000)
    shot(page, "21-approval-queue")
    page.get_by_test_id(f"approve-{number}").click()
    page.get_by_test_id(f"approval-row-{number}").wait_for(state="detached", timeout=10_000)
    stored = api(page, f"/api/instructions/{number}")
    assert stored["approval"] == "approved" and stored["status"] == "issued"
    page.get_by_test_id(f"instr-row-{number}").wait_for(timeout=10_000)
    page.context.close()
    assert not [e for e in errors if "401" not in e], errors
