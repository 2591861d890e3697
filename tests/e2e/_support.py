"""Helpers of the end-to-end tests: the running ``haizhou`` processes, logging in, screenshots.

Each test file builds its own store and scenario; what they share is here (the ``browser``
fixture is in ``conftest.py``). A missing Chromium, Playwright or built web app skips a test,
or fails it under ``CI=true``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
STATIC_INDEX = REPO / "src" / "haizhou" / "api" / "static" / "index.html"
HAIZHOU = Path(sys.executable).parent / "haizhou"
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
LON0, LAT0 = 119.2280, 34.5800  # 连云港市体育中心, the stadium scenario's protected asset
D = 0.004  # half-size of the no-fly square round the stadium, degrees (~400 m)
#: ``haizhou airspace run`` without a broker: messages come in over the API only.
AIRSPACE_RUNNER = ("airspace", "run", "--no-mqtt", "--json")


def require(condition: bool, reason: str) -> None:
    """Skip the test when ``condition`` is false; under ``CI=true`` fail it instead.

    Parameters
    ----------
    condition
        What the test needs.
    reason
        Why it is missing, for the skip or failure message.
    """
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires it (see .ci/run)")
    pytest.skip(reason)


def require_browser_app() -> None:
    """Chromium, Playwright and the built web app, or skip (fail under ``CI=true``)."""
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    require(STATIC_INDEX.exists(), "the web app is not built (make web)")
    pytest.importorskip("playwright")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_name(command: Sequence[str]) -> str:
    return "-".join(command[:2]) + ".log"


def _wait_healthy(base: str, serve: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll ``GET /api/health`` until it answers 200; fail if serve stops or time runs out."""
    deadline = time.monotonic() + timeout
    answer = "no answer"
    while True:
        try:
            health = httpx.get(f"{base}/api/health", timeout=2)
            if health.status_code == 200:
                return
            answer = f"{health.status_code} {health.text[:200]}"
        except httpx.HTTPError as exc:
            answer = str(exc)
        if serve.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"haizhou serve did not start ({answer}): {log.read_text()}")
        time.sleep(0.3)


@contextmanager
def _process(
    command: Sequence[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``haizhou *command`` with its output in ``log``; terminated on leaving."""
    with log.open("w") as out:
        process = subprocess.Popen([str(HAIZHOU), *command], env=env, stdout=out, stderr=out)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=15)


@contextmanager
def start_processes(
    data_dir: Path, *commands: Sequence[str], startup_timeout: float = 120.0
) -> Iterator[str]:
    """Run ``haizhou serve`` on a free port, and each of ``commands``, on a store in ``data_dir``.

    The processes see ``HAIZHOU_DATA_DIR=data_dir`` (and no ``HAIZHOU_DATABASE_URL``, so the
    SQLite store of ``data_dir`` is used) and log to ``data_dir/<command>.log``. The test fails
    if the server does not answer its health check within ``startup_timeout`` seconds or if
    another process has stopped by then. They are terminated in reverse order on leaving.

    Parameters
    ----------
    data_dir
        The store's folder (``haizhou.db`` and what else the commands read).
    *commands
        Further ``haizhou`` commands to run alongside, e.g. ``AIRSPACE_RUNNER``.
    startup_timeout
        Seconds the server has to answer ``GET /api/health`` (a loaded machine starts slowly).

    Yields
    ------
    str
        The server's base URL, ``http://127.0.0.1:<port>``.
    """
    port = free_port()
    env = {**os.environ, "HAIZHOU_DATA_DIR": str(data_dir)}
    env.pop("HAIZHOU_DATABASE_URL", None)
    base = f"http://127.0.0.1:{port}"
    serve_log = data_dir / "serve.log"
    with ExitStack() as stack:
        serve = stack.enter_context(_process(("serve", "--port", str(port)), env, serve_log))
        others = [
            (command, stack.enter_context(_process(command, env, data_dir / _log_name(command))))
            for command in commands
        ]
        _wait_healthy(base, serve, serve_log, startup_timeout)
        for command, process in others:
            if process.poll() is not None:
                log = (data_dir / _log_name(command)).read_text()
                pytest.fail(f"haizhou {' '.join(command)} stopped: {log}")
        yield base


def live_server(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build_store: Callable[[Path], dict[str, Any] | None],
    *commands: Sequence[str],
    startup_timeout: float = 120.0,
) -> Iterator[dict[str, Any]]:
    """The body of a test module's ``server`` fixture: a fresh store, served while it runs.

    Skips (fails under ``CI=true``) without Chromium, Playwright or the built web app; then
    builds the store in a new temporary folder and runs :func:`start_processes` on it.

    Parameters
    ----------
    tmp_path_factory
        pytest's factory of temporary folders.
    name
        The temporary folder's name.
    build_store
        Fills the folder (``haizhou.db`` and the like); what it returns is yielded too.
    *commands
        Further ``haizhou`` commands to run alongside the server.
    startup_timeout
        Seconds the server has to answer its health check.

    Yields
    ------
    dict
        ``base`` (the server's URL), ``data_dir`` and what ``build_store`` returned.
    """
    require_browser_app()
    data_dir = tmp_path_factory.mktemp(name)
    facts = build_store(data_dir) or {}
    with start_processes(data_dir, *commands, startup_timeout=startup_timeout) as base:
        yield {"base": base, "data_dir": data_dir, **facts}


def add_users(session: Any, users: Sequence[tuple[str, str, str | None]]) -> None:
    """Add active users, all with ``PASSWORD``, to a store session.

    Parameters
    ----------
    session
        An open SQLAlchemy session of the store (committed by the caller).
    users
        ``(username, role, jurisdiction_code)`` of each user.
    """
    from haizhou.security.passwords import hash_password
    from haizhou.store.tables import UserRow

    digest = hash_password(PASSWORD)
    for username, role, code in users:
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


def square(lon: float, lat: float, d: float) -> list[list[float]]:
    """The four corners of a square of half-size ``d`` degrees round (lon, lat)."""
    return [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]


def add_stadium_no_fly_zone(session: Any) -> None:
    """The permanent no-fly square (0–500 m) round the stadium, ``D`` degrees each way."""
    from haizhou.store.tables.airspace import AirspaceZoneRow

    session.add(
        AirspaceZoneRow(
            name="体育中心禁飞区",
            kind="no_fly",
            polygon=square(LON0, LAT0, D),
            floor_m=0,
            ceiling_m=500,
            active=[],
        )
    )


def open_page(
    browser: Any,
    errors: list[str],
    *,
    console_errors: bool = False,
    timezone_id: str | None = None,
) -> Any:
    """A new 1280×800 zh-CN page whose uncaught errors (and console errors) go to ``errors``.

    ``timezone_id`` sets the browser's own time zone (default: the machine's).
    """
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id=timezone_id
    )
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if console_errors:
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page


def submit_login(page: Any, base: str, username: str) -> None:
    """Open the app at ``base`` and submit the log-in form as ``username``."""
    page.goto(base)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()


def login(
    browser: Any,
    base: str,
    username: str,
    errors: list[str],
    *,
    console_errors: bool = False,
    timezone_id: str | None = None,
) -> Any:
    """A new page (see :func:`open_page`) logged in as ``username``; the caller waits for it.

    Parameters
    ----------
    browser
        The Playwright browser.
    base
        The server's base URL.
    username
        A user created with ``PASSWORD``.
    errors
        Collects the page's uncaught errors (and console errors with ``console_errors``).
    console_errors
        Also collect ``console.error`` messages.
    timezone_id
        The browser's own time zone (default: the machine's).

    Returns
    -------
    Any
        The Playwright page, the log-in form submitted.
    """
    page = open_page(browser, errors, console_errors=console_errors, timezone_id=timezone_id)
    submit_login(page, base, username)
    return page


def shot(page: Any, name: str) -> Path:
    """A screenshot of ``page`` to ``test-artifacts/e2e/<name>.png``; returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def api(page: Any, path: str) -> Any:
    """GET an API path in the page's session (the browser's cookie, the server's scope)."""
    return page.evaluate("(p) => fetch(p).then(r => r.json())", path)


class RemoteIdFeeder:
    """Posts a drone's Remote ID broadcasts at 2 Hz, as a sensor would, until stopped.

    Parameters
    ----------
    base
        The server's base URL.
    serial
        The drone's clear serial number.
    user
        A user allowed to feed airspace messages (``airspace.feed``), logged in at once.
    path_fn
        The drone's (lon, lat) at its ``k``-th report, ``k`` = 0, 1, ...

    Attributes
    ----------
    sent
        Reports posted so far.
    failures
        ``"<status> <text>"`` of each post the server did not accept with 202.
    """

    def __init__(
        self, base: str, serial: str, user: str, path_fn: Callable[[int], tuple[float, float]]
    ) -> None:
        self.client = httpx.Client(base_url=base, timeout=10)
        me = self.client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
        me.raise_for_status()
        self.csrf = me.json()["csrf_token"]
        self.serial = serial
        self.path_fn = path_fn
        self.sent = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def post(self, lon: float, lat: float) -> None:
        """Post one Remote ID message pack at (lon, lat), 60 m up, pilot south-east."""
        from haizhou.feeds.synthetic import remote_id_pack

        pack = remote_id_pack(self.serial, lon, lat, 60.0, pilot=(LON0 + 0.01, LAT0 - 0.008))
        answer = self.client.post(
            "/api/airspace/messages",
            json={"sensor_id": "rid-e2e", "kind": "remoteid", "payload_hex": pack.hex()},
            headers={"X-CSRF-Token": self.csrf},
        )
        if answer.status_code != 202:
            self.failures.append(f"{answer.status_code} {answer.text[:200]}")
        self.sent += 1

    def start(self) -> None:
        """Start posting in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop posting (waits up to 5 s for the thread) and close the client."""
        self._stop.set()
        self._thread.join(5)
        if not self._thread.is_alive():
            self.client.close()

    def _run(self) -> None:
        k = 0
        while not self._stop.is_set():
            self.post(*self.path_fn(k))
            k += 1
            self._stop.wait(0.5)
