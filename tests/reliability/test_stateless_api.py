"""Stateless API processes (无状态接口): two ``haizhou serve`` on one PostgreSQL.

Sessions live in the database, not in a process: a session opened on process A answers the
same (user, scope, data) on process B, survives a restart of A, and a logout on B ends it on
A too. Real processes on real ports, as behind any reverse proxy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import PASSWORD, STATION_A, STATION_A1, WINDOW, build_world
from tests.reliability.conftest import free_port, wait_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HAIZHOU = Path(sys.executable).parent / "haizhou"


class Server:
    """One ``haizhou serve`` process on its own port; startable again after a stop."""

    def __init__(self, url: str, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url, self.data_dir, self.log = url, data_dir, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "HAIZHOU_DATABASE_URL": self.url,
            "HAIZHOU_DATA_DIR": str(self.data_dir),
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(HAIZHOU), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--no-access-log"],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_port(self.port, timeout=120)
        with httpx.Client(base_url=self.base, timeout=30) as client:
            assert client.get("/api/health").status_code == 200, self.log.read_text()

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; checks it shut down in order.

        uvicorn re-raises the signal after its graceful shutdown, so the exit is -SIGTERM.
        """
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        pid, self.process = self.process.pid, None
        assert code in (0, -signal.SIGTERM), code
        assert f"Finished server process [{pid}]" in self.log.read_text(errors="replace")


@pytest.fixture
def servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    build_world(postgres_url)
    data_dir = tmp_path / "data"
    pair = (
        Server(postgres_url, data_dir, tmp_path / "a.log"),
        Server(postgres_url, data_dir, tmp_path / "b.log"),
    )
    try:
        for server in pair:
            server.start()
        yield pair
    finally:
        for server in pair:
            if server.process is not None:
                server.process.kill()
                server.process.wait(30)


def _client(server: Server, cookie: str, csrf: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base,
        timeout=60,
        headers={"Cookie": f"haizhou_session={cookie}", "X-CSRF-Token": csrf},
    )


def _answers(client: httpx.Client) -> tuple[dict, int]:
    me = client.get("/api/auth/me")
    assert me.status_code == 200, me.text
    summary = client.get("/api/map/summary", params=WINDOW)
    assert summary.status_code == 200, summary.text
    return me.json(), summary.json()["total"]


def test_session_is_shared_survives_restart_and_logs_out_everywhere(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    with httpx.Client(base_url=a.base, timeout=60) as anonymous:
        login = anonymous.post(
            "/api/auth/login", json={"username": "officer_a", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        cookie = login.cookies["haizhou_session"]
    csrf = login.json()["csrf_token"]
    with _client(a, cookie, csrf) as on_a, _client(b, cookie, csrf) as on_b:
        me_a, total_a = _answers(on_a)
        me_b, total_b = _answers(on_b)
        assert me_a == me_b
        assert me_b["username"] == "officer_a"
        assert sorted(me_b["scope"]) == sorted([STATION_A, STATION_A1])
        assert total_a == total_b == 36  # station A's 30 incidents and A1's 6, on both

        a.stop()
        a.start()  # same port, a new process: nothing of the session was in the old one
        assert _answers(on_a) == (me_a, total_a)

        assert on_b.post("/api/auth/logout").status_code == 200
        assert on_a.get("/api/auth/me").status_code == 401
        assert on_b.get("/api/auth/me").status_code == 401
