"""End to end: drone tracks as a switchable layer of the main map (无人机航迹图层), in Chromium.

A fresh SQLite store with the stadium site (``stadium_match_day``), a no-fly square round the
stadium, one police station whose area holds it, the stadium as a place of the offline base
map, a commander, an airspace operator (who feeds) and a station officer; ``haizhou serve`` and ``haizhou airspace run
--no-mqtt`` run as real processes. Remote ID packs of an intruding drone are posted to
``POST /api/airspace/messages``. The commander switches the layer on, sees the track counted
and drawn (path and head, read from MapLibre's rendered features), clicks it, reads the side
panel, switches the layer off (the live socket closes), picks the stadium scenario (the layer
comes back on by itself and the airspace control zones are drawn) and opens the track on the
Airspace page. The station officer gets no toggle and the page asks nothing of the airspace
API. Screenshots go to ``test-artifacts/e2e/map-drones-*.png``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e._support import (
    AIRSPACE_RUNNER,
    LAT0,
    LON0,
    RemoteIdFeeder,
    add_stadium_no_fly_zone,
    add_users,
    api,
    live_server,
    login,
    open_page,
    shot,
    square,
    submit_login,
)

pytestmark = pytest.mark.slow

SERIAL = "1581F5FJD23E2E002"
STATION = "320706-E2E"
MAP = "document.querySelector('[data-testid=map]').haizhouMap"


def _build_store(data_dir: Path) -> None:
    """Site, no-fly zone, one station, the stadium place and the two users."""
    from haizhou.feeds.area import save_scenario_area
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.migrate import upgrade
    from haizhou.store.tables import JurisdictionRow

    url = f"sqlite:///{data_dir / 'haizhou.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        save_scenario_area(session, "stadium_match_day")
        add_stadium_no_fly_zone(session)
        ring = [*square(LON0, LAT0, 0.03), [LON0 - 0.03, LAT0 - 0.03]]
        session.add(
            JurisdictionRow(
                code=STATION,
                name="体育中心派出所辖区",
                station="体育中心派出所",
                parent_code=None,
                geometry={"type": "Polygon", "coordinates": [ring]},
                min_lon=LON0 - 0.03,
                min_lat=LAT0 - 0.03,
                max_lon=LON0 + 0.03,
                max_lat=LAT0 + 0.03,
            )
        )
        add_users(
            session,
            [
                ("commander1", "commander", None),
                ("operator1", "airspace_operator", None),  # feeds the messages (airspace.feed)
                ("officer1", "station_officer", STATION),
            ],
        )
        session.commit()
    engine.dispose()
    # The stadium as a place of the offline base map: the stadium scenario's zones surround it.
    city = data_dir / "city"
    city.mkdir()
    place = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON0, LAT0]},
        "properties": {"poi_id": "poi-stadium", "name": "连云港市体育中心", "kind": "stadium"},
    }
    (city / "pois.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [place]}, ensure_ascii=False),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from live_server(tmp_path_factory, "e2e-map-drones", _build_store, AIRSPACE_RUNNER)


def _shot(page: Any, name: str) -> Path:
    return shot(page, f"map-drones-{name}")


def _login(browser: Any, server: dict[str, Any], username: str, errors: list[str]) -> Any:
    """Logged in, the main map ready."""
    page = login(browser, server["base"], username, errors)
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=30_000)
    return page


def _closing_in_then_hovering(k: int) -> tuple[float, float]:
    """From ~300 m out to 50 m from the stadium in 10 s, inside the no-fly zone."""
    f = max(0.15, 1.0 - k / 20)
    return LON0 + 0.003 * f, LAT0 + 0.0015 * f


def _rendered(page: Any, layer: str) -> list[dict[str, Any]]:
    """Features of a style layer MapLibre has drawn (id, level, geometry)."""
    result: list[dict[str, Any]] = page.evaluate(
        f"""(layer) => {MAP}.queryRenderedFeatures({{layers: [layer]}}).map(f => ({{
            id: f.properties.id, level: f.properties.level, geometry: f.geometry }}))""",
        layer,
    )
    return result


def _wait_rendered(page: Any, layer: str, minimum: int = 1) -> None:
    page.wait_for_function(
        f"([layer, n]) => {MAP}.queryRenderedFeatures({{layers: [layer]}}).length >= n",
        arg=[layer, minimum],
        timeout=30_000,
    )


def _click_lonlat(page: Any, lon: float, lat: float) -> None:
    x, y = page.evaluate(
        f"([lon, lat]) => {{ const p = {MAP}.project([lon, lat]); return [p.x, p.y]; }}", [lon, lat]
    )
    box = page.get_by_test_id("map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_commander_switches_on_drone_tracks_and_opens_one(
    server: dict[str, Any], browser: Any
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    feeder = RemoteIdFeeder(server["base"], SERIAL, "operator1", _closing_in_then_hovering)
    page = _login(browser, server, "commander1", errors)
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws) if "/api/airspace/live" in ws.url else None)
    toggle = page.get_by_test_id("layer-drones")
    expect(toggle).to_be_visible()
    assert not toggle.is_checked()
    assert page.get_by_test_id("map-drone-count").count() == 0
    assert sockets == []  # off: no live socket
    feeder.start()
    try:
        toggle.check()
        count = page.get_by_test_id("map-drone-count")
        expect(count).to_be_visible(timeout=10_000)
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=map-drone-count]')"
            "?.textContent) >= 1",
            timeout=30_000,
        )
        assert sockets, "the layer opened no live socket"
        # Drawn: a head (point) and, after a few reports, its recent path (line).
        _wait_rendered(page, "drones-head")
        _wait_rendered(page, "drones-path")
        tracks = api(page, "/api/airspace/tracks")["items"]
        assert tracks, "the API has no active track"
        track = tracks[0]
        heads = _rendered(page, "drones-head")
        assert {h["id"] for h in heads} <= {t["id"] for t in tracks}
        assert {h["level"] for h in heads} <= {"red", "orange", "yellow", "blue"}
        path = _rendered(page, "drones-path")[0]["geometry"]
        assert path["type"] == "LineString" and len(path["coordinates"]) >= 2
        assert int(count.inner_text()) == len(page.locator("[data-testid=map-drone-list] li").all())
        # The label is the masked serial and the class; the clear serial is nowhere on the page.
        label = page.get_by_test_id("drone-label").first
        expect(label).to_contain_text(track["serial_masked"])
        assert SERIAL not in page.content()
        legend = page.get_by_test_id("legend-drones")
        expect(legend).to_be_visible()
        _shot(page, "1-layer-on")

        # Once the drone hovers (20 reports in), click its head: the side panel shows the track.
        deadline = time.monotonic() + 60
        while feeder.sent < 22 and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        page.wait_for_timeout(1000)  # the last reports reach the picture and the map
        head = next(h for h in _rendered(page, "drones-head") if h["id"] == track["id"])
        _click_lonlat(page, *head["geometry"]["coordinates"])
        panel = page.get_by_test_id("side-panel")
        expect(panel).to_be_visible(timeout=10_000)
        expect(page.get_by_test_id("drone-name")).to_have_text(track["serial_masked"])
        details = page.get_by_test_id("drone-details")
        deadline = time.monotonic() + 20
        while True:  # the level the API gives now is the level the panel shows
            level = api(page, "/api/airspace/tracks")["items"][0]["level"]
            if details.get_attribute("data-level") == level or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert details.get_attribute("data-level") == level
        text = details.inner_text()
        assert {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}[level] in text
        assert "无人机" in text and "m/s" in text
        expect(page.get_by_test_id("drone-alerts")).to_contain_text("违规飞行", timeout=20_000)
        assert SERIAL not in page.content()
        _shot(page, "2-side-panel")

        # Switched off: the socket closes and nothing of the layer stays on the map.
        page.get_by_test_id("panel-close").click()
        toggle.uncheck()
        page.wait_for_function("() => !document.querySelector('[data-testid=map-drone-count]')")
        deadline = time.monotonic() + 10
        while not all(ws.is_closed() for ws in sockets) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert all(ws.is_closed() for ws in sockets)
        assert page.get_by_test_id("drone-label").count() == 0
        assert _rendered(page, "drones-head") == []

        # The stadium scenario: its area is under airspace protection, so the layer comes back
        # on by itself and the control zones overlapping it are drawn.
        page.get_by_test_id("scenario-select").select_option("stadium")
        expect(toggle).to_be_checked(timeout=15_000)
        _wait_rendered(page, "airzones-fill")
        kinds = page.evaluate(
            f"() => {MAP}.queryRenderedFeatures({{layers: ['airzones-fill']}})"
            ".map(f => f.properties.kind)"
        )
        assert "no_fly" in kinds and "airport_approach" not in kinds  # the far corridor is not
        expect(page.get_by_test_id("legend-drones")).to_contain_text("禁飞区")
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=map-drone-count]')"
            "?.textContent) >= 1",
            timeout=30_000,
        )
        _wait_rendered(page, "drones-head")
        _shot(page, "3-stadium-scenario")
        # Picked from the list, then opened on the Airspace page.
        page.get_by_test_id(f"map-drone-{track['id']}").click()
        expect(page.get_by_test_id("drone-name")).to_have_text(track["serial_masked"])
        page.get_by_test_id("drone-open-airspace").click()
        page.wait_for_selector("[data-testid=airspace-page]", timeout=20_000)
        expect(page.get_by_test_id("airspace-track")).to_contain_text(
            track["serial_masked"], timeout=20_000
        )
        _shot(page, "4-airspace-page")
    finally:
        feeder.stop()
    assert feeder.sent > 0 and feeder.failures == []
    assert errors == []


def test_station_officer_gets_no_drone_layer(server: dict[str, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page = open_page(browser, errors)
    airspace: list[str] = []
    page.on("request", lambda r: airspace.append(r.url) if "/api/airspace" in r.url else None)
    page.on("websocket", lambda ws: airspace.append(ws.url))
    submit_login(page, server["base"], "officer1")
    page.wait_for_selector("[data-testid=map][data-ready='1']", timeout=30_000)
    expect(page.get_by_test_id("layer-jurisdictions")).to_be_visible()
    assert page.get_by_test_id("layer-drones").count() == 0
    assert page.get_by_test_id("nav-airspace").count() == 0
    # A scenario with airspace protection does not bring the layer either.
    page.get_by_test_id("scenario-select").select_option("stadium")
    expect(page.get_by_test_id("scenario-counts")).to_be_visible(timeout=15_000)
    page.wait_for_timeout(1500)
    assert page.get_by_test_id("layer-drones").count() == 0
    assert page.get_by_test_id("map-drone-count").count() == 0
    _shot(page, "5-station-officer")
    assert airspace == []
    # And the server refuses the airspace picture to this role anyway.
    status = page.evaluate("() => fetch('/api/airspace/tracks').then(r => r.status)")
    assert status == 403
    assert errors == []
