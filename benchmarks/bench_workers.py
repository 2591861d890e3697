"""Benchmark: job throughput of 1 versus 2 workers on the same NATS JetStream queue.

Submits ``--jobs`` CPU-bound ``probe`` jobs (each ``--cpu`` CPU seconds) to a fresh queue, runs
``haizhou worker`` processes until the queue is empty, and measures from the first job's start
to the last job's finish as recorded in the ``jobs`` table (so process start-up does not count).
Baseline: one worker, same jobs, same run. The machine has 2 cores and is shared, so the ratio
is the figure to read; the load average is printed with it.

Run: ``.venv/bin/python benchmarks/bench_workers.py [--jobs 40] [--cpu 0.2] [--database-url URL]``
(needs NATS with JetStream on ``HAIZHOU_NATS_URL``, default 127.0.0.1:4222).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import func, select

from haizhou.jobs import Job, QueueConfig, client
from haizhou.jobs.queue import delete_queue
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables.jobs import JobRow

HAIZHOU = Path(sys.executable).parent / "haizhou"


def run(workers: int, jobs: int, cpu: float, url: str, nats_url: str, data_dir: Path) -> dict:
    config = QueueConfig(url=nats_url, name=f"bench{uuid.uuid4().hex[:8]}", ack_wait_s=30)
    sessions = make_sessionmaker(make_engine(url))
    batch = [Job.new("probe", {"cpu_s": cpu}) for _ in range(jobs)]
    client.submit(config, sessions, batch)
    env = {
        **os.environ,
        "HAIZHOU_DATABASE_URL": url,
        "HAIZHOU_DATA_DIR": str(data_dir),
        "HAIZHOU_NATS_URL": nats_url,
        "HAIZHOU_JOB_QUEUE": config.name,
    }
    procs = [
        subprocess.Popen(
            [str(HAIZHOU), "worker", "--idle-exit", "3", "--name", f"w{i}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.wait(1800)
    ids = [job.id for job in batch]
    with sessions() as session:
        first, last, done = session.execute(
            select(func.min(JobRow.started_at), func.max(JobRow.finished_at), func.count()).where(
                JobRow.id.in_(ids), JobRow.status == "done"
            )
        ).one()
    asyncio.run(delete_queue(config))
    if done != jobs:
        raise SystemExit(f"only {done} of {jobs} jobs finished with {workers} worker(s)")
    return {"seconds": (last - first).total_seconds(), "jobs": done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--cpu", type=float, default=0.2, help="CPU seconds per job.")
    parser.add_argument("--database-url", default=None, help="Default: a fresh SQLite file.")
    args = parser.parse_args()
    nats_url = os.environ.get("HAIZHOU_NATS_URL", "nats://127.0.0.1:4222")
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        one = run(1, args.jobs, args.cpu, url, nats_url, Path(folder))
        two = run(2, args.jobs, args.cpu, url, nats_url, Path(folder))
    print(
        json.dumps(
            {
                "name": "bench_workers",
                "ours": "2 workers",
                "ours_s": round(two["seconds"], 3),
                "ours_jobs_per_s": round(args.jobs / two["seconds"], 2),
                "baseline": "1 worker",
                "baseline_s": round(one["seconds"], 3),
                "baseline_jobs_per_s": round(args.jobs / one["seconds"], 2),
                "ratio": round(one["seconds"] / two["seconds"], 2),
                "jobs": args.jobs,
                "cpu_s_per_job": args.cpu,
                "ideal_s_one_worker": args.jobs * args.cpu,
                "store": "sqlite" if url.startswith("sqlite") else "postgresql",
                "load_average_1m": os.getloadavg()[0],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
