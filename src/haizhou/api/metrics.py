"""Prometheus metrics (运行指标) at ``GET /metrics``.

Request latency by route template and method, request and server-error counts (recorded by
:class:`MetricsMiddleware`), and figures read from the store at scrape time: jobs by kind and
status, the queue backlog (jobs recorded ``queued``), finished-job durations, and rows imported
by kind and outcome (a counter: ``rate()`` of it is the ingest rate). Workers serve their own
job-duration histograms (``haizhou worker --metrics-port``).

``/metrics`` needs no log-in, so it answers only clients on the loopback interface (a
Prometheus on the same host, or a proxy that keeps it internal) unless
``HAIZHOU_METRICS_PUBLIC=true``; anyone else gets 404. Each app has its own registry, so two apps
in one process (tests) never share counters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from haizhou.jobs import records
from haizhou.store.tables import ImportBatchRow

log = logging.getLogger("haizhou.api.metrics")

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """The request metrics of one app, in their own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "haizhou_http_request_duration_seconds",
            "Seconds from request to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            "haizhou_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.errors = Counter(
            "haizhou_http_errors",
            "Responses with a 5xx status or an unhandled exception, by route template.",
            ["route"],
            registry=registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; the labelled series are looked up once per label set."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.latency.labels(method, route),
                self.requests.labels(method, route, str(status)),
            )
            self._children[key] = children
        children[0].observe(seconds)
        children[1].inc()
        if status >= 500:
            self.errors.labels(route).inc()


def _route_label(scope: Scope) -> str:
    """The matched route's full template (``/api/instructions/{id}``) or ``<unmatched>``.

    FastAPI >= 0.16x resolves included routers lazily and leaves the router-relative route in
    ``scope["route"]``; the full template is on its effective route context, read here
    defensively so a FastAPI change degrades to the relative template, not to an error.
    """
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    for candidate in (getattr(context, "starlette_route", None), context):
        path = getattr(candidate, "path_format", None)
        if path:
            return str(path)
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "<unmatched>"


class MetricsMiddleware:
    """Time every HTTP request and count it by route template (never the raw path, which
    would carry ids and explode the number of series)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - start
            self.metrics.record(str(scope.get("method", "")), _route_label(scope), status, seconds)


class StoreCollector(Collector):
    """Figures read from the store when Prometheus scrapes: jobs, backlog, imports."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self.sessions() as session:
                by_status = records.counts(session)
                durations = records.duration_sums(session)
                imported = session.execute(
                    select(
                        ImportBatchRow.kind,
                        func.coalesce(func.sum(ImportBatchRow.accepted), 0),
                        func.coalesce(func.sum(ImportBatchRow.quarantined), 0),
                        func.coalesce(func.sum(ImportBatchRow.skipped_duplicates), 0),
                    ).group_by(ImportBatchRow.kind)
                ).all()
        except Exception:
            log.warning("metrics: the store could not be read", exc_info=True)
            up = GaugeMetricFamily("haizhou_store_up", "1 when the store answered the scrape.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("haizhou_store_up", "1 when the store answered the scrape.")
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily(
            "haizhou_jobs", "Jobs recorded, by kind and status.", labels=["kind", "status"]
        )
        backlog = GaugeMetricFamily(
            "haizhou_job_queue_depth",
            "Jobs submitted and not yet finished (queued or running).",
            labels=["status"],
        )
        waiting = {"queued": 0, "running": 0}
        for (kind, status), n in sorted(by_status.items()):
            jobs.add_metric([kind, status], n)
            if status in waiting:
                waiting[status] += n
        for status, n in waiting.items():
            backlog.add_metric([status], n)
        yield jobs
        yield backlog
        seconds = CounterMetricFamily(
            "haizhou_job_seconds", "Total seconds of finished jobs, by kind.", labels=["kind"]
        )
        finished = CounterMetricFamily(
            "haizhou_jobs_finished", "Finished jobs, by kind.", labels=["kind"]
        )
        for kind, (count, total) in sorted(durations.items()):
            seconds.add_metric([kind], total)
            finished.add_metric([kind], count)
        yield seconds
        yield finished
        rows = CounterMetricFamily(
            "haizhou_ingest_rows", "Rows imported, by kind and outcome.", labels=["kind", "outcome"]
        )
        for kind, accepted, quarantined, skipped in imported:
            rows.add_metric([kind, "accepted"], float(accepted))
            rows.add_metric([kind, "quarantined"], float(quarantined))
            rows.add_metric([kind, "duplicate"], float(skipped))
        yield rows


def install_metrics(app: FastAPI, *, public: bool = False) -> CollectorRegistry:
    """Add the middleware and ``GET /metrics`` to ``app``; returns the app's registry.

    Call it after ``app.state.sessionmaker`` is set.
    """
    registry = CollectorRegistry()
    metrics = RequestMetrics(registry)
    registry.register(StoreCollector(app.state.sessionmaker))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.metrics_registry = registry

    def read_metrics(request: Request) -> Response:
        host = request.client.host if request.client else ""
        if not public and host not in LOOPBACK:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", read_metrics, methods=["GET"], include_in_schema=False)
    return registry
