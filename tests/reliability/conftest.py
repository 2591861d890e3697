"""Private PostgreSQL and MQTT servers that these tests may restart.

The shared services on 5432/1883 serve everyone's tests, so restarting them would break
other runs. Each fixture here starts its own server (a throwaway PostgreSQL cluster made with
``initdb``, a mosquitto with its own persistence folder) on a free port, restarts only that,
and stops it afterwards. Needs the server binaries (CI has them); skipped, or failed under
``CI=true``, without them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_BIN = Path("/usr/lib/postgresql")


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what}; CI=true requires it")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers on port {port} after {timeout} s")


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test session, run as the ``postgres`` user."""

    bindir: Path
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        # output to DEVNULL: the server must not inherit a pipe that run() waits on
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bindir / "pg_ctl"), "-D",
             str(self.datadir), "-w", "-t", "60", *args],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1",
                  "-l", str(self.datadir / "log.txt"), "start")  # fmt: skip

    def restart(self) -> None:
        self._ctl("-m", "fast", "-l", str(self.datadir / "log.txt"), "restart")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    versions = sorted(PG_BIN.glob("*/bin/initdb")) if PG_BIN.is_dir() else []
    if not versions or shutil.which("runuser") is None or os.geteuid() != 0:
        _missing("needs PostgreSQL server binaries and root (to run them as 'postgres')")
    bindir = versions[-1].parent
    # pytest's temporary folders are private to root; the server runs as 'postgres'.
    top = Path(tempfile.mkdtemp(prefix="haizhou-pg-"))
    top.chmod(0o755)
    datadir = top / "data"
    datadir.mkdir()
    shutil.chown(datadir, "postgres", "postgres")
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bindir / "initdb"), "-D", str(datadir),
         "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = PrivatePostgres(bindir, datadir, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(top, ignore_errors=True)


@dataclass
class PrivateMosquitto:
    """A mosquitto broker of this test, with persistence, that the test may restart."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.folder / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: mosquitto saves its persistence file
            self.process.wait(30)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def private_mosquitto(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    if shutil.which("mosquitto") is None:
        _missing("needs the mosquitto broker")
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    port = free_port()
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {folder}/\nautosave_interval 1\nuser root\n"
    )
    broker = PrivateMosquitto(folder, port)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@dataclass
class PrivateNats:
    """A nats-server with JetStream of this test, with its own store folder."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("nats-server") or "/usr/sbin/nats-server",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    binary = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
    )
    if binary is None:
        _missing("needs nats-server")
    server = PrivateNats(tmp_path / "nats", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
