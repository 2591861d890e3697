"""Per-request overhead of the API (接口单请求开销): CPU and wall time per request.

Three set-ups, each served by a real ``uvicorn`` process (one worker, access log off, the same
uvicorn options as ``haizhou serve``) on loopback and driven by ``wrk`` (2 threads,
``--clients`` connections):

- ``bare``: a bare FastAPI app with one trivial ``GET /ping`` route returning a small JSON
  object (the baseline: what any FastAPI request costs on this machine);
- ``me``: our app's ``GET /api/auth/me`` with a session cookie (session lookup, scope,
  middlewares, response model);
- ``hexagons``: our app's ``GET /api/map/hexagons`` for random viewports and windows on a small
  synthetic SQLite store (``--incidents``, default 20,000, made as in ``bench_map.py``), counted
  by the in-memory index.

Each set-up is loaded ``--repeat`` times (default 3) for ``--seconds`` (default 5) and the run
with the median CPU per request is reported, with the range (``cpu_ms_min``, ``cpu_ms_max``):
the machine is shared, and one run can be off by a third. Figures per set-up:
``cpu_ms_per_request`` (user + system CPU of the server process from /proc, divided by the
requests answered: the figure that depends least on the neighbours' load),
``wall_ms_per_request`` (run time / requests, i.e. 1 / throughput), p50/p95 latency, errors;
plus ``overhead_cpu_ms`` (``me`` minus ``bare``) and the load average.

``--against DIR`` also serves an older Haizhou from the source folder ``DIR`` (for instance
``git archive HEAD src | tar -x -C /tmp/base`` and ``--against /tmp/base/src``) on the same
store, alternating its runs with ours run by run, so that a burst of a neighbour's load hits
both alike; its figures are keyed ``against.*``.

Run: ``.venv/bin/python benchmarks/bench_api_overhead.py [--seconds 5] [--repeat 3]
[--clients 10] [--incidents 20000] [--against DIR]``. The store is kept in
``$TMPDIR/haizhou-bench-api`` and reused. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_map import (
    PASSWORD,
    _free_port,
    _paths,
    _serve,
    _server_cpu_s,
    _store,
    _wait_for_index,
    _wait_ready,
    _wrk,
)


def bare_app() -> object:
    """The baseline: a bare FastAPI app with one trivial route."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _serve_bare() -> tuple[subprocess.Popen[bytes], str]:
    """Start the bare app with uvicorn (one worker, no access log) in its own process."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench_api_overhead:bare_app",
            "--app-dir",
            str(Path(__file__).resolve().parent),
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    _wait_ready(server, f"{base}/ping", "the bare FastAPI app", limit_s=120)
    return server, base


@dataclass
class _Target:
    """One served app under load: its process, address, session cookie and runs so far."""

    server: subprocess.Popen[bytes]
    base: str
    cookie: str
    runs: dict[str, list[dict[str, float]]] = field(default_factory=dict)


def _run(target: _Target, setup: str, paths: list[str], seconds: float, clients: int) -> None:
    """One wrk run against ``target``; its figures go to ``target.runs[setup]``."""
    cpu0 = _server_cpu_s(target.server.pid)
    run = _wrk(target.base, target.cookie, paths, seconds, clients)
    cpu = _server_cpu_s(target.server.pid) - cpu0
    n = max(1, int(run["requests"]))
    target.runs.setdefault(setup, []).append(
        {
            "requests": n,
            "errors": int(run["errors"]),
            "rps": round(n / run["duration_s"], 1),
            "cpu_ms_per_request": round(cpu / n * 1000, 3),
            "wall_ms_per_request": round(run["duration_s"] / n * 1000, 3),
            "p50_ms": round(float(run["p50_ms"]), 2),
            "p95_ms": round(float(run["p95_ms"]), 2),
        }
    )


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median CPU per request, with the range over all runs."""
    ordered = sorted(runs, key=lambda r: r["cpu_ms_per_request"])
    median = dict(ordered[len(ordered) // 2])
    median["cpu_ms_min"] = ordered[0]["cpu_ms_per_request"]
    median["cpu_ms_max"] = ordered[-1]["cpu_ms_per_request"]
    median["errors"] = sum(int(r["errors"]) for r in runs)
    return median


def _serve_ours(directory: Path, url: str, src: Path | None) -> _Target:
    """``haizhou serve`` (1 worker) on the store, logged in; from ``src`` when given."""
    saved = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = str(src)
    try:
        server, base = _serve(directory, url, 1, "index")
    finally:
        if src is not None:
            if saved is None:
                os.environ.pop("PYTHONPATH")
            else:
                os.environ["PYTHONPATH"] = saved
    login = httpx.post(f"{base}/api/auth/login", json={"username": "analyst", "password": PASSWORD})
    login.raise_for_status()
    return _Target(server, base, f"haizhou_session={login.cookies['haizhou_session']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per wrk run")
    parser.add_argument("--repeat", type=int, default=3, help="wrk runs per set-up (median)")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "haizhou-bench-api"
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="a source folder of an older Haizhou (e.g. `git archive HEAD src | tar -x -C DIR`, "
        "then DIR/src): also served, its runs interleaved with ours, reported as against.*",
    )
    args = parser.parse_args()
    result: dict[str, object] = {"name": "api_overhead_per_request"}

    url = _store(args.dir, args.incidents)
    targets: dict[str, _Target] = {}
    try:
        server, base = _serve_bare()
        targets["bare"] = _Target(server, base, "x=1")
        targets["ours"] = _serve_ours(args.dir, url, None)
        if args.against is not None:
            targets["against"] = _serve_ours(args.dir, url, args.against.resolve())
        apps = [t for name, t in targets.items() if name != "bare"]
        for target in apps:
            _wait_for_index(target.base, target.cookie, 1)
        setups = {
            "bare": (["/ping"], [targets["bare"]]),
            "me": (["/api/auth/me"], apps),
            "hexagons": (_paths("hexagons", 11), apps),
        }
        for setup, (paths, loaded) in setups.items():
            for target in loaded:  # warm-up: caches, pools, the index's first look
                _wrk(target.base, target.cookie, paths, 1, args.clients)
            for _ in range(args.repeat):  # interleaved: a neighbour's burst hits all alike
                for target in loaded:
                    _run(target, setup, paths, args.seconds, args.clients)
    finally:
        for target in targets.values():
            target.server.terminate()
            target.server.wait(timeout=30)

    medians = {
        (name, setup): _median(runs)
        for name, target in targets.items()
        for setup, runs in target.runs.items()
    }
    for (name, setup), figures in medians.items():
        prefix = "" if name in ("bare", "ours") else f"{name}."
        for key, value in figures.items():
            result[f"{prefix}{setup}.{key}"] = value
    bare_cpu = medians["bare", "bare"]["cpu_ms_per_request"]
    for name in targets.keys() - {"bare"}:
        prefix = "" if name == "ours" else f"{name}."
        overhead = medians[name, "me"]["cpu_ms_per_request"] - bare_cpu
        result[f"{prefix}overhead_cpu_ms"] = round(overhead, 3)
    result.update(
        {
            "baseline": "bare FastAPI app, one trivial route, same uvicorn, 1 worker",
            "incidents": args.incidents,
            "clients": args.clients,
            "seconds_per_run": args.seconds,
            "runs": args.repeat,
            "load_average": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
