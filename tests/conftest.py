"""Shared fixtures: real services (PostgreSQL, MQTT, NATS) and the shared data folder.

Without ``CI=true`` a test that needs a service which does not answer is skipped with the
reason; with ``CI=true`` it fails instead, because CI must exercise the real services.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HAIZHOU_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get(
    "HAIZHOU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) when a service does not answer on host:port."""
    if _port_open(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it (start it, see .ci/run)")
    pytest.skip(f"{message}; start it to run this test (CI runs it)")


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or skip (fail in CI) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"shared data {path} is missing")
        pytest.skip(f"shared data {path} is missing")
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_server_url else "?"
    yield f"{postgres_server_url}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        # Migration 0012 keeps PostgreSQL's monthly partitions in a schema of their own.
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}_partitions" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'haizhou.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a store test on both back ends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'haizhou.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    require_service("MQTT broker", "127.0.0.1", 1883)
    return ("127.0.0.1", 1883)


@pytest.fixture
def nats_url() -> str:
    require_service("NATS", "127.0.0.1", 4222)
    return "nats://127.0.0.1:4222"
