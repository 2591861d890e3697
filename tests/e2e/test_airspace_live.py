"""End to end: the live airspace view (低空安保态势) in real headless Chromium.

A fresh store with the stadium site (``stadium_match_day``), a permanent no-fly zone round the
stadium and two users (an airspace operator and a commander); ``haizhou serve`` and
``haizhou airspace run --no-mqtt`` run as real processes. Remote ID message packs of an
intruding drone are posted to ``POST /api/airspace/messages``; the runner decodes, tracks and
alerts; the Airspace page shows the track and the alert over the WebSocket. The operator asks
for a countermeasure at red, it waits for a second person, the commander confirms it in their
own browser and sees the outcome. Screenshots go to ``test-artifacts/e2e/airspace-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
    shot,
)

pytestmark = pytest.mark.slow

SERIAL = "1581F5FJD23E2E001"
BROWSER_ZONE = "America/New_York"  # not the bureau's: the page must not show its times in it
# How many colours a sample of the Airspace map's canvas has, read back through a 2D canvas:
# without preserveDrawingBuffer the WebGL picture is gone once drawn (blank screenshots).
CANVAS_COLOURS = """() => {
  const map = document.querySelector('[data-testid=airspace-map] canvas');
  if (!map || map.width === 0) return 0;
  const copy = document.createElement('canvas');
  copy.width = map.width;
  copy.height = map.height;
  const g = copy.getContext('2d');
  g.drawImage(map, 0, 0);
  const px = g.getImageData(0, 0, copy.width, copy.height).data;
  const colours = new Set();
  for (let i = 0; i < px.length; i += 4 * 61) {
    if (px[i + 3] > 0) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
  }
  return colours.size;
}"""


def _build_store(data_dir: Path) -> None:
    """Site, no-fly zone and the two users, in a fresh SQLite store."""
    from haizhou.feeds.area import save_scenario_area
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.migrate import upgrade

    url = f"sqlite:///{data_dir / 'haizhou.db'}"
    upgrade(url)
    with make_sessionmaker(make_engine(url))() as session:
        save_scenario_area(session, "stadium_match_day")
        add_stadium_no_fly_zone(session)
        add_users(
            session, [("operator1", "airspace_operator", None), ("commander1", "commander", None)]
        )
        session.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from live_server(tmp_path_factory, "e2e-airspace", _build_store, AIRSPACE_RUNNER)


def _login(browser: Any, server: dict[str, Any], username: str, errors: list[str]) -> Any:
    """Logged in, on the Airspace page with its live socket open."""
    page = login(browser, server["base"], username, errors, timezone_id=BROWSER_ZONE)
    page.get_by_test_id("nav-airspace").click(timeout=20_000)
    page.wait_for_selector("[data-testid=airspace-page]", timeout=20_000)
    page.wait_for_selector("[data-testid=airspace-status][data-live='1']", timeout=20_000)
    return page


def _closing_in(k: int) -> tuple[float, float]:
    """Closing in on the stadium from ~300 m, inside the no-fly zone all the time."""
    f = max(0.0, 1.0 - k / 40)
    return LON0 + 0.003 * f, LAT0 + 0.0015 * f


def test_live_track_alert_and_confirmed_countermeasure(
    server: dict[str, Any], browser: Any
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    operator = _login(browser, server, "operator1", errors)
    assert operator.get_by_test_id("airspace-alerts").locator("li").count() == 0
    shot(operator, "airspace-1-empty")
    feeder = RemoteIdFeeder(server["base"], SERIAL, "operator1", _closing_in)
    feeder.start()
    try:
        # A live track and its alert arrive over the WebSocket (no reload, no polling by the page).
        track = operator.locator("[data-testid=airspace-tracks] li").first
        track.wait_for(timeout=30_000)
        alert = operator.locator("[data-testid=airspace-alerts] li").first
        alert.wait_for(timeout=30_000)
        assert "违规飞行" in alert.inner_text()
        # Alert times in the bureau's zone (as on the map's side panel), not the browser's.
        shown = alert.inner_text()
        bureau = ZoneInfo(api(operator, "/api/map/config")["timezone"])
        raised = [
            datetime.fromisoformat(a["raised_at"])
            for a in api(operator, "/api/airspace/alerts")["items"]
        ]
        assert any(f"{t.astimezone(bureau):%m/%d %H:%M:%S}" in shown for t in raised), shown
        browser_zone = ZoneInfo(BROWSER_ZONE)
        assert not any(f"{t.astimezone(browser_zone):%H:%M:%S}" in shown for t in raised), shown
        assert SERIAL not in operator.content()  # only the masked serial is shown
        # Red at the stadium: the track list says so once the drone is close.
        operator.wait_for_selector("[data-testid=airspace-tracks] li.level-red", timeout=30_000)
        # The map's pixels stay readable (the zones and the track drawn over the background).
        operator.wait_for_function(f"() => ({CANVAS_COLOURS})() >= 3", timeout=20_000)
        shot(operator, "airspace-2-track-and-alert")
        alert.locator("button").click()
        panel = operator.get_by_test_id("airspace-track")
        assert "violation" in panel.inner_text() or "违规" in panel.inner_text()
        operator.get_by_test_id("airspace-effector").select_option("net")
        operator.get_by_test_id("airspace-counter").click()
        decision = operator.get_by_test_id("airspace-decision")
        decision.wait_for(timeout=10_000)
        assert "等待第二人确认" in decision.inner_text()
        pending = operator.locator("[data-testid=airspace-pending] li")
        expect(pending).to_have_count(1, timeout=10_000)  # the list refreshes after the answer
        # The requester cannot confirm their own request.
        assert pending.first.locator("button").count() == 0
        shot(operator, "airspace-3-waiting")

        commander = _login(browser, server, "commander1", errors)
        button = commander.locator("[data-testid=airspace-pending] li button").first
        button.wait_for(timeout=10_000)
        button.click()
        outcome = commander.get_by_test_id("airspace-decision")
        outcome.wait_for(timeout=10_000)
        text = outcome.inner_text()
        assert "已执行" in text, text
        expect(commander.locator("[data-testid=airspace-pending] li")).to_have_count(0)
        shot(commander, "airspace-4-confirmed")
        assert commander.locator("[data-testid=airspace-alerts] li").count() >= 1
    finally:
        feeder.stop()
    assert feeder.sent > 0 and feeder.failures == []
    assert errors == []
