"""Helpers of the job-queue tests: a worker in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from haizhou.jobs import QueueConfig

HAIZHOU = Path(sys.executable).parent / "haizhou"


def worker_process(
    config: QueueConfig, database_url: str, data_dir: Path, *args: str
) -> subprocess.Popen[bytes]:
    """``haizhou worker`` in its own process, on ``config``'s queue and ``database_url``."""
    env = {
        **os.environ,
        "HAIZHOU_DATABASE_URL": database_url,
        "HAIZHOU_DATA_DIR": str(data_dir),
        "HAIZHOU_NATS_URL": config.url,
        "HAIZHOU_JOB_QUEUE": config.name,
    }
    return subprocess.Popen(
        [str(HAIZHOU), "worker", "--ack-wait", str(config.ack_wait_s), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
