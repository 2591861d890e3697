"""Repositories (数据仓储): the only place that queries the tables.

One module per resource. Every function is keyword-only and takes ``session`` (an open
SQLAlchemy session; the caller owns the transaction) and, for reads, ``scope``: the
jurisdiction codes the caller may see, ``None`` for all. An empty scope sees nothing, and rows
without a jurisdiction are visible only to ``None``. Reads return the domain records of
:mod:`haizhou.domain` (or data frames for analytics), never ORM rows.
"""

from haizhou.store.repositories._filters import BBox

__all__ = ["BBox"]
