"""File importers (数据导入): CSV, Excel, Parquet, GeoJSON and GeoPackage into the store.

Usage::

    from haizhou.ingest import import_file

    summary = import_file("incidents", "calls.csv", engine=engine, data_dir="haizhou-data")
    print(summary.accepted, summary.quarantined, summary.skipped_duplicates)

See ``docs/data-formats.md`` for columns, header aliases, times, datums and the quarantine.
"""

from haizhou.ingest.kinds import KINDS
from haizhou.ingest.pipeline import CRS_CHOICES, ImportSummary, import_file

__all__ = ["CRS_CHOICES", "KINDS", "ImportSummary", "import_file"]
