"""Re-scrub the free text already in the store (存量文本再脱敏).

The importer masks identifiers found in free text (:func:`haizhou.ingest.kinds.scrub`). Until
its filter was widened it missed dashed landlines (``0518-8512-3456``), full-width digits and
plates, so records imported before then may hold such numbers in clear. :func:`rescrub_store`
applies today's scrubbing to every free-text column the importer scrubs (:data:`FREE_TEXT`),
in batches of rows, and writes back only the values that change. Masked text has no
identifier left to find, so a second run changes nothing.

Run it as ``haizhou db rescrub`` (``--dry-run`` counts without writing); the command records
what it changed, as counts, in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Engine, Table, bindparam, select
from sqlalchemy.orm import Session

from haizhou.security.pseudonym import Pseudonymiser
from haizhou.store.tables import Base

__all__ = ["FREE_TEXT", "RescrubReport", "rescrub_store"]

FREE_TEXT: dict[str, tuple[str, ...]] = {
    "incidents": ("address", "summary", "disposition", "attributes"),
    "cases": ("address", "property_taken", "narrative", "attributes"),
    "sensors": ("attributes",),
    "persons": ("residence_address", "occupation", "attributes"),
    "fraud_warnings": ("feed", "attributes"),
    "jurisdictions": ("note",),
}
"""Per table, the columns the importer scrubs (a test keeps this in step with
:mod:`haizhou.ingest.kinds`). JSON columns (the unmapped source columns) have each string
value scrubbed."""


@dataclass
class RescrubReport:
    """What a re-scrub read and changed.

    Attributes
    ----------
    rows : dict of str to int
        Rows read per table.
    changed : dict of str to int
        Values changed per ``table.column`` (written unless ``dry_run``).
    dry_run : bool
    """

    rows: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": dict(self.rows),
            "changed": dict(self.changed),
            "total_changed": self.total_changed,
            "dry_run": self.dry_run,
        }


def _scrub_json(value: Any, scrub: Callable[[Sequence[str | None]], list[str | None]]) -> Any:
    """``value`` with every string inside scrubbed (the same object when nothing changes)."""
    if isinstance(value, str):
        return scrub([value])[0]
    if isinstance(value, dict):
        items = {k: _scrub_json(v, scrub) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, list):
        out = [_scrub_json(v, scrub) for v in value]
        return value if all(a is b for a, b in zip(out, value, strict=True)) else out
    return value


def _rescrub_table(
    engine: Engine,
    table: Table,
    columns: tuple[str, ...],
    pseudonymiser: Pseudonymiser,
    *,
    batch: int,
    dry_run: bool,
    report: RescrubReport,
) -> None:
    key = next(iter(table.primary_key.columns))
    update = table.update().where(key == bindparam("_key"))
    last: Any = None
    while True:
        query = select(key, *(table.c[c] for c in columns)).order_by(key).limit(batch)
        if last is not None:
            query = query.where(key > last)
        with Session(engine) as session:
            rows = session.execute(query).all()
            if not rows:
                return
            last = rows[-1][0]
            report.rows[table.name] = report.rows.get(table.name, 0) + len(rows)
            changes: list[dict[str, Any]] = []
            for position, name in enumerate(columns, start=1):
                values = [row[position] for row in rows]
                if isinstance(table.c[name].type, JSON):
                    cleaned = [_scrub_json(v, pseudonymiser.scrub_many) for v in values]
                else:
                    cleaned = pseudonymiser.scrub_many(values)
                changed = [
                    {"_key": row[0], name: new}
                    for row, old, new in zip(rows, values, cleaned, strict=True)
                    if new is not old and new != old
                ]
                if changed:
                    label = f"{table.name}.{name}"
                    report.changed[label] = report.changed.get(label, 0) + len(changed)
                    changes += changed
            if changes and not dry_run:
                # one statement per column, so each executemany binds the same parameters
                for name in columns:
                    params = [c for c in changes if name in c]
                    if params:
                        session.execute(update.values({name: bindparam(name)}), params)
                session.commit()


def rescrub_store(
    engine: Engine,
    pseudonymiser: Pseudonymiser,
    *,
    batch: int = 2000,
    dry_run: bool = False,
    tables: Sequence[str] | None = None,
) -> RescrubReport:
    """Mask identifiers left in clear in the store's free text.

    Parameters
    ----------
    engine : Engine
        The store (SQLite or PostgreSQL).
    pseudonymiser : Pseudonymiser
        Its :meth:`~haizhou.security.pseudonym.Pseudonymiser.scrub_many` masks the text.
    batch : int
        Rows read and written per transaction.
    dry_run : bool
        Count what would change without writing.
    tables : sequence of str, optional
        Limit to these tables of :data:`FREE_TEXT` (default: all).

    Returns
    -------
    RescrubReport
    """
    report = RescrubReport(dry_run=dry_run)
    for name in tables or FREE_TEXT:
        if name not in FREE_TEXT:
            raise ValueError(f"unknown table {name!r}; choose from {', '.join(FREE_TEXT)}")
        _rescrub_table(
            engine,
            Base.metadata.tables[name],
            FREE_TEXT[name],
            pseudonymiser,
            batch=batch,
            dry_run=dry_run,
            report=report,
        )
    return report
