"""A killed import leaves only whole batches; a re-run completes it exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from haizhou.ingest.pipeline import PAUSE_ENV

KEY = "haizhou-test-key-0123456789abcdef"
SCRIPT = """
import sys
from haizhou.ingest import import_file
from haizhou.store.engine import make_engine
engine = make_engine(sys.argv[1])
s = import_file("incidents", sys.argv[2], engine=engine, data_dir=sys.argv[3],
                pseudonym_key=sys.argv[4], batch_size=100, bulk=sys.argv[5] == "bulk")
print(s.accepted, s.skipped_duplicates, s.quarantined, flush=True)
"""


def _incidents(path: Path, n: int) -> None:
    lines = ["incident_id,reported_at,category,lon,lat,caller_phone"]
    for i in range(n):
        lat = 34.581 + (i % 180) * 0.0001
        phone = f"138{i:08d}" if i % 3 == 0 else ""
        when = "not a time" if i % 97 == 5 else f"2024-05-01 {i % 24:02d}:{i % 60:02d}"
        lines.append(f"R{i},{when},盗窃,119.17,{lat:.4f},{phone}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _batches(store) -> int:
    return store.rows("SELECT count(DISTINCT batch_id) FROM incidents")[0][0]


def _indexes(store) -> set[str]:
    rows = store.rows(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' AND sql IS NOT NULL"
    )
    return {r[0] for r in rows}


@pytest.mark.slow
def test_kill_mid_import_then_rerun_loads_every_row_exactly_once(store, files, tmp_path) -> None:
    ids, expected = _kill_and_rerun(store, files, tmp_path, bulk=False)
    assert len(ids) == len(set(ids)) == expected


@pytest.mark.slow
def test_killed_bulk_load_is_completed_and_its_indexes_rebuilt(
    sqlite_store, files, tmp_path
) -> None:
    from haizhou.store.tables import IncidentRow

    expected = {ix.name for ix in IncidentRow.__table__.indexes}
    assert _indexes(sqlite_store) == expected
    ids, n_good = _kill_and_rerun(sqlite_store, files, tmp_path, bulk=True)
    assert len(ids) == len(set(ids)) == n_good
    assert _indexes(sqlite_store) == expected


def _kill_and_rerun(store, files, tmp_path, *, bulk: bool) -> tuple[list[str], int]:
    """Kill an import mid-way, re-run it; return the stored ids and how many good rows there are."""
    store.run("jurisdictions", files / "jurisdictions.geojson")
    path = tmp_path / "calls.csv"
    n = 1000
    _incidents(path, n)
    bad = sum(1 for i in range(n) if i % 97 == 5)
    env = {**os.environ, PAUSE_ENV: "0.3"}
    args = [
        sys.executable,
        "-c",
        SCRIPT,
        store.url,
        str(path),
        str(store.data_dir),
        KEY,
        "bulk" if bulk else "",
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        # wait until at least two batches are committed, then kill without warning
        while time.monotonic() < deadline:
            try:
                done = store.rows("SELECT count(*) FROM incidents")[0][0]
            except Exception:
                done = 0
            if done >= 150 or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    partial = store.rows("SELECT count(*) FROM incidents")[0][0]
    assert 0 < partial < n - bad
    # only whole batches: the rows stored are exactly the good rows of the first k batches
    good = [i for i in range(n) if i % 97 != 5]
    boundaries = {sum(1 for i in good if i < 100 * k) for k in range(1, n // 100 + 1)}
    assert partial in boundaries
    k = next(k for k in range(1, 11) if sum(1 for i in good if i < 100 * k) == partial)
    stored = {r[0] for r in store.rows("SELECT source_id FROM incidents")}
    assert stored == {f"R{i}" for i in good if i < 100 * k}
    (counted,) = store.rows("SELECT accepted FROM import_batches WHERE kind = 'incidents'")[0]
    assert counted == partial  # the batch row's counters were committed with the rows
    assert len(store.rows("SELECT DISTINCT batch_id FROM incidents")) == 1
    assert store.rows("SELECT status FROM import_batches WHERE kind = 'incidents'") == [
        ("running",)
    ]
    if bulk:
        assert _indexes(store) == set()  # killed before it could rebuild them

    summary = store.run("incidents", path, batch_size=100)
    assert summary.accepted + summary.skipped_duplicates == n - bad
    assert summary.skipped_duplicates == partial
    assert summary.quarantined == bad
    ids = [r[0] for r in store.rows("SELECT source_id FROM incidents")]
    # quarantine rows are not recorded twice for the same file
    q = store.rows("SELECT row_number, count(*) FROM quarantine GROUP BY row_number")
    assert len(q) == bad and all(c == 1 for _, c in q)
    statuses = sorted(
        r[0] for r in store.rows("SELECT status FROM import_batches WHERE kind = 'incidents'")
    )
    assert statuses == ["done", "interrupted"]
    return ids, n - bad


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_batch_size_does_not_change_the_result(sqlite_store, files, tmp_path, batch_size) -> None:
    sqlite_store.run("jurisdictions", files / "jurisdictions.geojson")
    path = tmp_path / "calls.csv"
    _incidents(path, 200)
    summary = sqlite_store.run("incidents", path, batch_size=batch_size)
    bad_rows = [i + 2 for i in range(200) if i % 97 == 5]  # the header is row 1
    assert bad_rows == [7, 104, 201]
    assert (summary.accepted, summary.quarantined) == (197, 3)
    assert [r for r, _, _ in sqlite_store.quarantine(summary.quarantine_file)] == bad_rows
    batches = sqlite_store.rows("SELECT count(*) FROM incidents GROUP BY batch_id")
    assert batches == [(197,)]
