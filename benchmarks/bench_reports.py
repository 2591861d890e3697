"""Benchmark: the monthly assessment (月研判) of the 1.0-scale city through the reports API.

Ours: ``POST /api/reports {"kind": "monthly", "format": "pdf", "lang": "zh"}`` on the web app
(in process, signed in as a bureau administrator): build the report, write it into
``<data_dir>/reports/`` and answer the item; then ``GET /api/reports/{id}/file``.

Baselines, measured in the same run on the same store:

- ``direct_s``: :func:`haizhou.reports.render.build_report` called directly (what
  ``haizhou report monthly`` does), so ``api_overhead_ratio`` = ours / direct shows what the API
  adds (session, scope, writing the file, audit);
- ``target_s``: the target of issue 5, 30 s for the monthly assessment at scale 1.0;
  ``ratio`` = ours / 30 s (below 1 meets it).

CPU seconds of each (``*_cpu_s``) are given too: the machine is shared, so wall time varies.
The store is copied first (the benchmark adds a user, a session and audit rows).

Build a store once (a few minutes), then run::

    haizhou --data-dir /tmp/report-bench demo --no-serve --scale 1.0
    .venv/bin/python benchmarks/bench_reports.py --store /tmp/report-bench/haizhou.db \\
        [--date 2025-06-15] [--repeat 2]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

TARGET_S = 30.0


def _timed(call):  # type: ignore[no-untyped-def]
    c0, t0 = time.process_time(), time.perf_counter()
    value = call()
    return value, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("/tmp/report-bench/haizhou.db"))
    parser.add_argument("--date", default="2025-06-15")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not args.store.is_file():
        sys.exit(
            f"no store at {args.store}; build one with "
            "`haizhou --data-dir /tmp/report-bench demo --no-serve --scale 1.0`"
        )

    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from haizhou.api.app import create_app
    from haizhou.api.auth import SESSION_COOKIE, create_session
    from haizhou.reports.render import build_report
    from haizhou.security.passwords import hash_password
    from haizhou.settings import Settings
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.tables import IncidentRow, UserRow

    day = date.fromisoformat(args.date)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        data_dir = Path(folder)
        shutil.copyfile(args.store, data_dir / "haizhou.db")
        url = f"sqlite:///{data_dir / 'haizhou.db'}"
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        now = datetime.now(UTC)
        with sessions() as session:
            incidents = session.scalar(sa.select(sa.func.count()).select_from(IncidentRow))
            user = UserRow(
                username="bench_admin",
                password_hash=hash_password("bench password 1234"),
                role="admin",
                jurisdiction_code=None,
                active=True,
                created_at=now,
            )
            session.add(user)
            session.flush()
            issued = create_session(session=session, user=user, now=now)
            session.commit()

        direct, api, serve = [], [], []
        size = 0
        app = create_app(Settings(data_dir=data_dir, database_url=url), static_dir=data_dir / "x")
        with TestClient(app) as client:
            client.cookies.set(SESSION_COOKIE, issued.token)
            client.headers["X-CSRF-Token"] = issued.csrf_token
            body = {"kind": "monthly", "date": day.isoformat(), "lang": "zh", "format": "pdf"}
            for _ in range(max(1, args.repeat)):
                with sessions() as session:
                    _, wall, cpu = _timed(
                        lambda s=session: build_report(
                            "monthly", session=s, scope=None, date=day, fmt="pdf", lang="zh"
                        )
                    )
                direct.append((wall, cpu))
                response, wall, cpu = _timed(lambda: client.post("/api/reports", json=body))
                if response.status_code != 201:
                    sys.exit(f"POST /api/reports answered {response.status_code}: {response.text}")
                api.append((wall, cpu))
                rid = response.json()["id"]
                served, wall, cpu = _timed(lambda rid=rid: client.get(f"/api/reports/{rid}/file"))
                size = len(served.content)
                serve.append((wall, cpu))
        engine.dispose()

    ours, ours_cpu = min(api)
    base, base_cpu = min(direct)
    print(
        json.dumps(
            {
                "name": "reports_api_monthly_scale1",
                "ours_s": round(ours, 3),
                "ours_cpu_s": round(ours_cpu, 3),
                "baseline": "build_report called directly (haizhou report monthly), same run",
                "direct_s": round(base, 3),
                "direct_cpu_s": round(base_cpu, 3),
                "api_overhead_ratio": round(ours / base, 4),
                "target_s": TARGET_S,
                "ratio": round(ours / TARGET_S, 4),
                "meets_target": ours < TARGET_S,
                "first_api_s": round(api[0][0], 3),
                "serve_file_s": round(min(serve)[0], 4),
                "pdf_bytes": size,
                "incidents_in_store": incidents,
                "repeat": len(api),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
