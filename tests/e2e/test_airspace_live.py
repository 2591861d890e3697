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

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
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
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
LON0, LAT0 = 119.2280, 34.5800  # 连云港市体育中心, the scenario's protected asset
D = 0.004  # half-size of the no-fly square, degrees (~400 m)
SERIAL = "1581F5FJD23E2E001"


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


def _build_store(data_dir: Path) -> None:
    """Site, no-fly zone and the two users, in a fresh SQLite store."""
    from haizhou.feeds.area import save_scenario_area
    from haizhou.security.passwords import hash_password
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.migrate import upgrade
    from haizhou.store.tables import UserRow
    from haizhou.store.tables.airspace import AirspaceZoneRow

    url = f"sqlite:///{data_dir / 'haizhou.db'}"
    upgrade(url)
    with make_sessionmaker(make_engine(url))() as session:
        save_scenario_area(session, "stadium_match_day")
        session.add(
            AirspaceZoneRow(
                name="体育中心禁飞区",
                kind="no_fly",
                polygon=[
                    [LON0 - D, LAT0 - D],
                    [LON0 + D, LAT0 - D],
                    [LON0 + D, LAT0 + D],
                    [LON0 - D, LAT0 + D],
                ],
                floor_m=0,
                ceiling_m=500,
                active=[],
            )
        )
        digest = hash_password(PASSWORD)
        for username, role in (("operator1", "airspace_operator"), ("commander1", "commander")):
            session.add(
                UserRow(
                    username=username,
                    password_hash=digest,
                    role=role,
                    jurisdiction_code=None,
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )
        session.commit()


def _haizhou(*args: str, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "haizhou"
    return subprocess.Popen([str(exe), *args], env=env, stdout=log, stderr=log)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _require(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    _require(STATIC_INDEX.exists(), "the web app is not built (make web)")
    pytest.importorskip("playwright")
    data_dir = tmp_path_factory.mktemp("e2e-airspace")
    _build_store(data_dir)
    port = _free_port()
    env = {**os.environ, "HAIZHOU_DATA_DIR": str(data_dir)}
    env.pop("HAIZHOU_DATABASE_URL", None)
    log = (data_dir / "serve.log").open("w")
    run_log = (data_dir / "run.log").open("w")
    serve = _haizhou("serve", "--port", str(port), env=env, log=log)
    runner = _haizhou("airspace", "run", "--no-mqtt", "--json", env=env, log=run_log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts slowly
        answer = "no answer"
        while True:
            try:
                health = httpx.get(f"{base}/api/health", timeout=2)
                if health.status_code == 200:
                    break
                answer = f"{health.status_code} {health.text[:200]}"
            except httpx.HTTPError as exc:
                answer = str(exc)
            if serve.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"haizhou serve did not start ({answer}): {(data_dir / 'serve.log').read_text()}"
                )
            time.sleep(0.3)
        if runner.poll() is not None:
            pytest.fail(f"haizhou airspace run stopped: {(data_dir / 'run.log').read_text()}")
        yield {"base": base, "data_dir": data_dir}
    finally:
        for process in (runner, serve):
            process.terminate()
            process.wait(timeout=15)
        log.close()
        run_log.close()


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


def _login(browser: Any, server: dict[str, Any], username: str, errors: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server["base"])
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("nav-airspace").click(timeout=20_000)
    page.wait_for_selector("[data-testid=airspace-page]", timeout=20_000)
    page.wait_for_selector("[data-testid=airspace-status][data-live='1']", timeout=20_000)
    return page


class _Feeder:
    """Posts the intruder's Remote ID broadcasts at 2 Hz as a sensor would, until stopped."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=10)
        me = self.client.post(
            "/api/auth/login", json={"username": "operator1", "password": PASSWORD}
        )
        me.raise_for_status()
        self.csrf = me.json()["csrf_token"]
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def post(self, lon: float, lat: float) -> None:
        from haizhou.feeds.synthetic import remote_id_pack

        pack = remote_id_pack(SERIAL, lon, lat, 60.0, pilot=(LON0 + 0.01, LAT0 - 0.008))
        answer = self.client.post(
            "/api/airspace/messages",
            json={"sensor_id": "rid-e2e", "kind": "remoteid", "payload_hex": pack.hex()},
            headers={"X-CSRF-Token": self.csrf},
        )
        assert answer.status_code == 202, answer.text
        self.sent += 1

    def _run(self) -> None:
        k = 0
        while not self.stop.is_set():
            # Closing in on the stadium from ~300 m, inside the no-fly zone all the time.
            f = max(0.0, 1.0 - k / 40)
            self.post(LON0 + 0.003 * f, LAT0 + 0.0015 * f)
            k += 1
            self.stop.wait(0.5)


def test_live_track_alert_and_confirmed_countermeasure(
    server: dict[str, Any], browser: Any
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    operator = _login(browser, server, "operator1", errors)
    assert operator.get_by_test_id("airspace-alerts").locator("li").count() == 0
    _shot(operator, "airspace-1-empty")
    feeder = _Feeder(server["base"])
    feeder.thread.start()
    try:
        # A live track and its alert arrive over the WebSocket (no reload, no polling by the page).
        track = operator.locator("[data-testid=airspace-tracks] li").first
        track.wait_for(timeout=30_000)
        alert = operator.locator("[data-testid=airspace-alerts] li").first
        alert.wait_for(timeout=30_000)
        assert "违规飞行" in alert.inner_text()
        assert SERIAL not in operator.content()  # only the masked serial is shown
        # Red at the stadium: the track list says so once the drone is close.
        operator.wait_for_selector("[data-testid=airspace-tracks] li.level-red", timeout=30_000)
        _shot(operator, "airspace-2-track-and-alert")
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
        _shot(operator, "airspace-3-waiting")

        commander = _login(browser, server, "commander1", errors)
        button = commander.locator("[data-testid=airspace-pending] li button").first
        button.wait_for(timeout=10_000)
        button.click()
        outcome = commander.get_by_test_id("airspace-decision")
        outcome.wait_for(timeout=10_000)
        text = outcome.inner_text()
        assert "已执行" in text, text
        expect(commander.locator("[data-testid=airspace-pending] li")).to_have_count(0)
        _shot(commander, "airspace-4-confirmed")
        assert commander.locator("[data-testid=airspace-alerts] li").count() >= 1
    finally:
        feeder.stop.set()
        feeder.thread.join(5)
    assert feeder.sent > 0
    assert errors == []
