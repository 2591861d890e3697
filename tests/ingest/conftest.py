"""Fixtures for the importer tests: a store with jurisdictions loaded, and a runner."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

FILES = Path(__file__).resolve().parent / "files"
TEST_KEY = "haizhou-test-key-0123456789abcdef"


@dataclass
class Store:
    """An empty store (schema created) and a data folder."""

    url: str
    engine: Engine
    data_dir: Path

    def run(self, kind: str, path: Path, **kwargs: Any) -> Any:
        from haizhou.ingest import import_file

        kwargs.setdefault("pseudonym_key", TEST_KEY)
        return import_file(kind, path, engine=self.engine, data_dir=self.data_dir, **kwargs)

    @staticmethod
    def quarantine(path: str | None) -> list[tuple[int, str, str]]:
        """(row, column, reason) of a quarantine CSV, in file order."""
        return read_quarantine(path)

    @staticmethod
    def expected(name: str) -> list[tuple[int, str, str]]:
        """The expected quarantine of ``files/<name>.csv``."""
        return read_expected(name)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]


def _store(url: str, tmp_path: Path) -> Iterator[Store]:
    from haizhou.store.engine import make_engine
    from haizhou.store.tables import metadata

    engine = make_engine(url)
    metadata.create_all(engine)
    yield Store(url, engine, tmp_path / "data")
    engine.dispose()


@pytest.fixture
def files() -> Path:
    """The folder of test files (the malformed-file set and small valid files)."""
    return FILES


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on SQLite and on PostgreSQL."""
    yield from _store(database_url, tmp_path)


@pytest.fixture
def sqlite_store(sqlite_url: str, tmp_path: Path) -> Iterator[Store]:
    yield from _store(sqlite_url, tmp_path)


@pytest.fixture
def area_store(sqlite_store: Store) -> Store:
    """A SQLite store with the two test jurisdictions loaded."""
    summary = sqlite_store.run("jurisdictions", FILES / "jurisdictions.geojson")
    assert summary.accepted == 2
    return sqlite_store


def read_quarantine(path: str | None) -> list[tuple[int, str, str]]:
    """(row, column, reason) of a quarantine CSV, in file order."""
    if path is None:
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(fh)]


def read_expected(name: str) -> list[tuple[int, str, str]]:
    with (FILES / f"{name}.expected.csv").open(encoding="utf-8", newline="") as fh:
        return [(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(fh)]
