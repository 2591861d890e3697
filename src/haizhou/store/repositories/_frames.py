"""Building analytics data frames from query rows, fast on both back ends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import DateTime, Label, Row, Select, String, and_, or_, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session


def raw_time_column(column: InstrumentedAttribute[Any], session: Session) -> Label[Any]:
    """``column`` without :class:`UTCDateTime`'s per-row Python conversion.

    Frames convert a whole column at once instead (:func:`build_frame`): SQLite hands back its
    UTC text, PostgreSQL its aware datetimes. About ten times faster for large frames.
    """
    if session.get_bind().dialect.name == "sqlite":
        return type_coerce(column, String).label(column.key)
    return type_coerce(column, DateTime(timezone=True)).label(column.key)


def build_frame(
    rows: Sequence[Sequence[Any]], dtypes: Mapping[str, str | type], *, time_columns: set[str]
) -> pd.DataFrame:
    """A frame with one column per ``dtypes`` entry, in order, from row tuples.

    ``time_columns`` become ``datetime64[ns, UTC]``; text from SQLite is read as UTC.
    """
    names = list(dtypes)
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    data: dict[str, pd.Series] = {}
    for name, values in zip(names, columns, strict=True):
        if name in time_columns:
            series = pd.Series(values, dtype=object)
            data[name] = pd.to_datetime(series, utc=True, format="ISO8601").astype(
                "datetime64[ns, UTC]"
            )
        else:
            data[name] = pd.Series(values, dtype=dtypes[name])
    return pd.DataFrame(data, columns=names)


def keyset_pages(
    session: Session,
    query: Select[Any],
    time_column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    chunk_size: int,
) -> Iterator[Row[Any]]:
    """Rows of ``query`` in ``(time, id)`` order, ``chunk_size`` at a time.

    Keyset pagination: each page starts after the last ``(time, id)`` seen, so memory stays
    bounded and no server-side cursor is held between pages. The query must select columns
    labelled like ``time_column`` and ``id_column``.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1; got {chunk_size}")
    time_key, id_key = time_column.key, id_column.key
    last: tuple[Any, Any] | None = None
    while True:
        page = query
        if last is not None:
            page = page.where(
                or_(time_column > last[0], and_(time_column == last[0], id_column > last[1]))
            )
        rows = session.execute(page.order_by(time_column, id_column).limit(chunk_size)).all()
        yield from rows
        if len(rows) < chunk_size:
            return
        last = (getattr(rows[-1], time_key), getattr(rows[-1], id_key))
