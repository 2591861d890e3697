"""Append-only, hash-chained audit log (审计日志).

Every entry stores ``prev_hash`` (the previous entry's hash; 64 zeros for the first) and
``hash`` = SHA-256 of a canonical JSON of the entry's content and ``prev_hash``::

    {"action": ..., "actor": ..., "at": "2026-11-28T03:00:00.000000+00:00",
     "detail": {...}, "prev_hash": "...", "target": ..., "v": 1}

(keys sorted, no spaces, UTF-8, non-ASCII kept). The database ``id`` is not hashed, so a dump
restored elsewhere still verifies. Changing any field of an entry breaks its hash; deleting an
entry breaks the next entry's ``prev_hash``; deleting the newest entries is caught by the head
row (:class:`~haizhou.store.tables.audit_head.AuditHeadRow`), which counts the entries and keeps
the last hash.

Writers are serialised by updating the head row first: a row lock on PostgreSQL, the database
write lock on SQLite (the first write of a transaction takes it, and others wait up to the busy
timeout). So concurrent writers cannot fork the chain, and the chain's order is the ``id`` order.

Limits: the chain is *tamper-evident*, not tamper-proof. Someone who can write the database can
rewrite the whole chain and the head consistently. To catch that, publish the head now and then
outside the database (:func:`head`, e.g. in the daily report or a signed export) and compare.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from haizhou.store.tables import AuditRow
from haizhou.store.tables.audit_head import AuditHeadRow

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "AuditHead",
    "VerifyResult",
    "entry_hash",
    "head",
    "record",
    "verify",
]

GENESIS_HASH = "0" * 64
FORMAT_VERSION = 1
HEAD_ID = 1
_MAX_NAME = 100  # actor and action columns are VARCHAR(100)
_HEAD: Table = AuditHeadRow.__table__  # type: ignore[assignment]
_LOG: Table = AuditRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify` (审计日志校验结果).

    Attributes
    ----------
    ok : bool
        Whether the whole chain and its head are intact.
    checked : int
        Entries verified intact (all of them when ``ok``; before the first problem otherwise).
    first_broken_id : int or None
        ``id`` of the first entry that fails (for deleted newest entries: the id the head
        says was last); ``None`` when ``ok`` or when no entry can be named.
    reason : str or None
        What is wrong, in one sentence; ``None`` when ``ok``.
    """

    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The chain's head: how many entries, the last id and hash. Publish it to anchor the log."""

    entries: int
    last_id: int | None
    last_hash: str


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of one entry.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> entry_hash(at=datetime(2026, 1, 1, tzinfo=UTC), actor="admin", action="user.create",
    ...            target="li", detail=None, prev_hash=GENESIS_HASH)[:16]
    'b6c26ea5d08234b8'
    """
    document = {
        "v": FORMAT_VERSION,
        "at": _iso(at),
        "actor": actor,
        "action": action,
        "target": target,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """The detail as it will read back from the database (tuples become lists, keys text)."""
    if detail is None:
        return None
    if not isinstance(detail, dict):
        raise TypeError(f"audit detail must be a dict or None, got {type(detail).__name__}")
    try:
        text = json.dumps(detail, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"audit detail must be plain JSON (text, numbers, lists, dicts; no NaN): {exc}"
        ) from None
    return json.loads(text)  # type: ignore[no-any-return]


def _check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"audit {what} must be non-empty text, got {value!r}")
    if len(value) > _MAX_NAME:
        raise ValueError(f"audit {what} must be at most {_MAX_NAME} characters, got {len(value)}")


def _insert_head_if_missing(session: Session) -> None:
    """Create the head row once; adopt an existing log (count, last hash) if there is one."""
    last = session.execute(
        select(_LOG.c.id, _LOG.c.hash).order_by(_LOG.c.id.desc()).limit(1)
    ).first()
    count = session.execute(select(func.count()).select_from(_LOG)).scalar_one()
    values = {
        "id": HEAD_ID,
        "entries": count,
        "last_id": last.id if last else None,
        "last_hash": last.hash if last else GENESIS_HASH,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported back ends
        session.execute(insert(_HEAD).values(**values))
        return
    session.execute(
        dialect_insert(_HEAD).values(**values).on_conflict_do_nothing(index_elements=["id"])
    )


def _lock_head(session: Session) -> str:
    """Take the writers' lock and return the current last hash."""
    bump = (
        update(_HEAD)
        .where(_HEAD.c.id == HEAD_ID)
        .values(entries=_HEAD.c.entries + 1)
        .returning(_HEAD.c.last_hash)
    )
    last_hash = session.execute(bump).scalar_one_or_none()
    if last_hash is None:
        _insert_head_if_missing(session)
        last_hash = session.execute(bump).scalar_one()
    return last_hash


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime,
) -> AuditRow:
    """Append one entry to the audit log (记录审计日志).

    The entry is flushed (it has its ``id``) but not committed: it commits or rolls back with
    the caller's transaction, so an action and its audit entry stand or fall together. Until
    then, other writers of the log wait.

    Parameters
    ----------
    session : Session
        The caller's session (its transaction).
    actor : str
        Who acted (username, or ``system:<component>``); at most 100 characters.
    action : str
        What was done, dotted, e.g. ``user.create``, ``person.read``; at most 100 characters.
    target : str, optional
        What it was done to (a record id, a username; never a clear personal identifier).
    detail : dict, optional
        Plain-JSON details. Stored exactly as hashed (tuples become lists, keys text).
    at : datetime
        When, timezone-aware (stored in UTC).

    Returns
    -------
    AuditRow
        The new entry, with ``id``, ``prev_hash`` and ``hash`` set.

    Raises
    ------
    ValueError
        If ``at`` is naive, ``actor`` or ``action`` empty or too long, or ``detail`` not JSON.
    """
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"audit time must be a timezone-aware datetime, got {at!r}")
    _check_name("actor", actor)
    _check_name("action", action)
    if target is not None and not isinstance(target, str):
        raise TypeError(f"audit target must be text or None, got {type(target).__name__}")
    detail = _canonical_detail(detail)
    at = at.astimezone(UTC)
    prev_hash = _lock_head(session)
    digest = entry_hash(
        at=at, actor=actor, action=action, target=target, detail=detail, prev_hash=prev_hash
    )
    row = AuditRow(
        at=at,
        actor=actor,
        action=action,
        target=target,
        detail=detail,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(row)
    session.flush()
    session.execute(
        update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_id=row.id, last_hash=digest)
    )
    return row


def head(*, session: Session) -> AuditHead | None:
    """The chain's head, or ``None`` before the first entry."""
    row = session.execute(select(_HEAD).where(_HEAD.c.id == HEAD_ID)).first()
    if row is None:
        return None
    return AuditHead(entries=row.entries, last_id=row.last_id, last_hash=row.last_hash)


def verify(*, session: Session, batch_size: int = 2000) -> VerifyResult:
    """Check the whole audit log (校验审计日志): every hash, every link, and the head.

    Reads the head first, then every entry in ``id`` order (streamed in batches), so entries
    appended while it runs are checked too and never mistaken for tampering.

    Parameters
    ----------
    session : Session
    batch_size : int
        Entries fetched per round trip.

    Returns
    -------
    VerifyResult
        ``ok`` and the number checked, or the first broken entry and why.
    """
    top = head(session=session)
    columns = (
        AuditRow.id,
        AuditRow.at,
        AuditRow.actor,
        AuditRow.action,
        AuditRow.target,
        AuditRow.detail,
        AuditRow.prev_hash,
        AuditRow.hash,
    )
    statement = select(*columns).order_by(AuditRow.id).execution_options(yield_per=batch_size)
    prev_hash, prev_id, checked = GENESIS_HASH, None, 0
    head_seen_at: int | None = None
    for row in session.execute(statement):
        if row.prev_hash != prev_hash:
            before = f"entry {prev_id}" if prev_id is not None else "the start of the log"
            return VerifyResult(
                False,
                checked,
                row.id,
                f"entry {row.id}: prev_hash does not match the hash of {before}; an entry "
                "between them was deleted or rewritten",
            )
        expected = entry_hash(
            at=row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=row.detail,
            prev_hash=row.prev_hash,
        )
        if expected != row.hash:
            return VerifyResult(
                False,
                checked,
                row.id,
                f"entry {row.id}: its content (time, actor, action, target or detail) no longer "
                "matches its hash; it was changed after it was written",
            )
        checked += 1
        prev_hash, prev_id = row.hash, row.id
        if top is not None and row.id == top.last_id:
            head_seen_at = checked
            if row.hash != top.last_hash:
                return VerifyResult(
                    False,
                    checked,
                    row.id,
                    f"entry {row.id}: the audit head records a different hash for it; the head "
                    "or the entry was rewritten",
                )
    if top is None:
        if checked:
            return VerifyResult(
                False,
                checked,
                None,
                f"the audit head row is missing although the log holds {checked} entries; "
                "it was deleted",
            )
        return VerifyResult(True, 0, None, None)
    if top.last_id is not None and head_seen_at is None:
        return VerifyResult(
            False,
            checked,
            top.last_id,
            f"entry {top.last_id} and possibly others before it are missing: the audit head "
            f"records {top.entries} entries ending at id {top.last_id}; the newest entries "
            "were deleted",
        )
    if head_seen_at is not None and head_seen_at != top.entries:
        return VerifyResult(
            False,
            checked,
            top.last_id,
            f"the audit head records {top.entries} entries up to id {top.last_id}, but the log "
            f"holds {head_seen_at}; entries were deleted or the head was rewritten",
        )
    return VerifyResult(True, checked, None, None)
