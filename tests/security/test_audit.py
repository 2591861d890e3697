"""Hash-chained audit log (审计日志) on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from haizhou.security import audit
from haizhou.security.audit import GENESIS_HASH, VerifyResult, entry_hash, record, verify
from haizhou.store.engine import make_engine, make_sessionmaker, session_scope
from haizhou.store.tables import AuditRow, Base
from haizhou.store.tables.audit_head import AuditHeadRow

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    assert AuditHeadRow.__table__.name in Base.metadata.tables
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def write_entries(engine: Engine, count: int) -> list[int]:
    factory = make_sessionmaker(engine)
    ids = []
    with session_scope(factory) as session:
        for i in range(count):
            row = record(
                session=session,
                actor=f"user{i % 3}",
                action="person.read",
                target=f"person:{i}",
                detail={"reason": "研判", "rows": i, "fields": ("name", "phone")},
                at=T0 + timedelta(minutes=i),
            )
            ids.append(row.id)
    return ids


def check(engine: Engine) -> VerifyResult:
    with Session(engine) as session:
        return verify(session=session)


def test_hash_is_sha256_of_the_documented_canonical_json() -> None:
    at = datetime(2026, 11, 28, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    text = (
        '{"action":"person.read","actor":"李伟","at":"2026-11-28T08:30:00.123456+00:00",'
        '"detail":{"n":1,"why":"研判"},"prev_hash":"' + GENESIS_HASH + '","target":"p:1","v":1}'
    )
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    got = entry_hash(
        at=at,
        actor="李伟",
        action="person.read",
        target="p:1",
        detail={"why": "研判", "n": 1},
        prev_hash=GENESIS_HASH,
    )
    assert got == expected


def test_chain_links_and_verifies(engine: Engine) -> None:
    ids = write_entries(engine, 5)
    with Session(engine) as session:
        rows = session.execute(sa.select(AuditRow).order_by(AuditRow.id)).scalars().all()
        assert [r.id for r in rows] == ids
        assert rows[0].prev_hash == GENESIS_HASH
        for before, after in itertools.pairwise(rows):
            assert after.prev_hash == before.hash
        assert rows[2].detail == {"reason": "研判", "rows": 2, "fields": ["name", "phone"]}
        assert rows[2].at == T0 + timedelta(minutes=2) and rows[2].at.tzinfo is not None
        top = audit.head(session=session)
        assert top is not None
        assert (top.entries, top.last_id, top.last_hash) == (5, ids[-1], rows[-1].hash)
    assert check(engine) == VerifyResult(True, 5, None, None)


def test_empty_log_verifies(engine: Engine) -> None:
    assert check(engine) == VerifyResult(True, 0, None, None)


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor", "someone_else"), ("detail", '{"reason": "changed"}'), ("target", None)],
)
def test_tampered_entry_is_named(engine: Engine, column: str, value: str | None) -> None:
    ids = write_entries(engine, 6)
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"UPDATE audit_log SET {column} = :v WHERE id = :id"),
            {"v": value, "id": ids[3]},
        )
    result = check(engine)
    assert not result.ok
    assert result.first_broken_id == ids[3]
    assert result.checked == 3
    assert "no longer matches its hash" in (result.reason or "")


def test_tampered_time_is_named(engine: Engine) -> None:
    ids = write_entries(engine, 4)
    with Session(engine) as session:
        session.execute(
            sa.update(AuditRow).where(AuditRow.id == ids[1]).values(at=T0 + timedelta(days=1))
        )
        session.commit()
    assert check(engine).first_broken_id == ids[1]


def test_rehashed_tampering_is_caught_at_the_next_entry(engine: Engine) -> None:
    ids = write_entries(engine, 5)
    with Session(engine) as session:
        row = session.get(AuditRow, ids[1])
        assert row is not None
        row.actor = "forged"
        row.hash = entry_hash(
            at=row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=row.detail,
            prev_hash=row.prev_hash,
        )
        session.commit()
    result = check(engine)
    assert (result.ok, result.first_broken_id, result.checked) == (False, ids[2], 2)


def test_deleted_middle_entry_is_named(engine: Engine) -> None:
    ids = write_entries(engine, 6)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[2]})
    result = check(engine)
    assert not result.ok
    assert result.first_broken_id == ids[3]
    assert result.checked == 2
    assert f"entry {ids[1]}" in (result.reason or "")


def test_deleted_first_entry_is_named(engine: Engine) -> None:
    ids = write_entries(engine, 3)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[0]})
    result = check(engine)
    assert (result.ok, result.first_broken_id, result.checked) == (False, ids[1], 0)
    assert "start of the log" in (result.reason or "")


def test_deleted_newest_entries_are_detected(engine: Engine) -> None:
    ids = write_entries(engine, 5)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id >= :id"), {"id": ids[3]})
    result = check(engine)
    assert not result.ok
    assert result.checked == 3
    assert result.first_broken_id == ids[4]
    assert "newest entries were deleted" in (result.reason or "")


def test_appending_after_truncation_is_detected(engine: Engine) -> None:
    ids = write_entries(engine, 4)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[3]})
    new_ids = write_entries(engine, 1)
    result = check(engine)
    assert (result.ok, result.first_broken_id) == (False, new_ids[0])


def test_deleted_head_is_detected(engine: Engine) -> None:
    write_entries(engine, 2)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_head"))
    result = check(engine)
    assert not result.ok and "head row is missing" in (result.reason or "")


def test_rolled_back_entry_leaves_no_trace(engine: Engine) -> None:
    write_entries(engine, 2)
    factory = make_sessionmaker(engine)
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        record(session=session, actor="a", action="x.y", at=T0)
        raise RuntimeError("the action failed")
    write_entries(engine, 2)
    assert check(engine) == VerifyResult(True, 4, None, None)


def test_concurrent_writers_do_not_fork_the_chain(engine: Engine) -> None:
    factory = make_sessionmaker(engine)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with session_scope(factory) as session:
                    record(session=session, actor=f"w{n}", action="write", detail={"i": i}, at=T0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        prevs = session.execute(sa.select(AuditRow.prev_hash)).scalars().all()
    assert len(prevs) == 40 and len(set(prevs)) == 40  # one successor per entry: no fork
    assert check(engine) == VerifyResult(True, 40, None, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"at": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"actor": ""}, "actor must be non-empty"),
        ({"action": "a" * 101}, "at most 100"),
        ({"detail": {"x": float("nan")}}, "plain JSON"),
        ({"detail": {"when": datetime(2026, 1, 1, tzinfo=UTC)}}, "plain JSON"),
    ],
)
def test_bad_entries_are_refused(engine: Engine, kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"actor": "admin", "action": "user.create", "at": T0} | kwargs
    with Session(engine) as session, pytest.raises(ValueError, match=message):
        record(session=session, **arguments)  # type: ignore[arg-type]


def test_existing_log_without_head_is_adopted(engine: Engine) -> None:
    """A log written before the head table existed keeps verifying once the head is created."""
    write_entries(engine, 3)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_head"))
    write_entries(engine, 2)
    assert check(engine) == VerifyResult(True, 5, None, None)
    with Session(engine) as session:
        assert json.loads(json.dumps(audit.head(session=session).entries)) == 5  # type: ignore[union-attr]
