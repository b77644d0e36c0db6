"""Prometheus metrics for capture workers and the read API (``prometheus_client``).

Capture (``CaptureMetrics``, one per worker process, its own registry):

=========================================  =========  ==================================================
``pantau_capture_frames_total{status}``    counter    samples by health status (ok, offline, frozen, ...)
``pantau_capture_errors_total{kind}``      counter    ``sample`` (failed reads), ``flush`` (landing writes),
                                                      ``lease`` (lease heartbeats)
``pantau_capture_landed_rows_total``       counter    rows written to the landing zone
``pantau_capture_batches_total``           counter    landing files written
``pantau_capture_cameras``                 gauge      cameras this worker captures now
``pantau_capture_camera_state{state}``     gauge      cameras per current health state (``unknown`` = none yet)
``pantau_capture_lag_seconds``             gauge      age of the oldest sample not yet landed (0 when empty)
``pantau_capture_last_flush_timestamp``    gauge      unix time of the last landing write
``pantau_capture_leases_held``             gauge      cameras leased (``run_leased_capture``)
``pantau_ingest_lag_seconds``              histogram  capture -> lake row, observed by the ingestion side
=========================================  =========  ==================================================

``start_metrics_server(port)`` serves ``/metrics`` from a daemon thread; ``instrument_asgi(app)`` wraps an ASGI
app (the open-data API) with request counters/latency and a ``/metrics`` route.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as PCounter
from prometheus_client.exposition import CONTENT_TYPE_LATEST, start_http_server

HEALTH_STATES = ("ok", "offline", "frozen", "black", "overexposed", "tampered", "decode_error", "unknown")
LAG_BUCKETS = (1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600, 1800)


class CaptureMetrics:
    """Capture-worker metrics; ``update_from_worker`` turns a worker's cumulative stats into increments."""

    def __init__(self, registry: CollectorRegistry | None = None, worker_id: str = "") -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.frames = PCounter("pantau_capture_frames", "Samples taken, by health status", ["status"], registry=r)
        self.errors = PCounter("pantau_capture_errors", "Errors, by kind (sample, flush, lease)", ["kind"], registry=r)
        self.landed_rows = PCounter("pantau_capture_landed_rows", "Rows written to the landing zone", registry=r)
        self.batches = PCounter("pantau_capture_batches", "Landing files written", registry=r)
        self.cameras = Gauge("pantau_capture_cameras", "Cameras this worker captures now", registry=r)
        self.camera_state = Gauge("pantau_capture_camera_state", "Cameras per health state", ["state"], registry=r)
        self.lag = Gauge("pantau_capture_lag_seconds", "Age of the oldest sample not yet landed", registry=r)
        self.last_flush = Gauge(
            "pantau_capture_last_flush_timestamp", "Unix time of the last landing write", registry=r
        )
        self.leases = Gauge("pantau_capture_leases_held", "Cameras leased by this worker", registry=r)
        self.ingest_lag = Histogram(
            "pantau_ingest_lag_seconds", "Capture to lake row latency", buckets=LAG_BUCKETS, registry=r
        )
        self.info = Gauge("pantau_capture_worker_info", "Worker identity", ["worker_id"], registry=r)
        self.info.labels(worker_id=worker_id or "unknown").set(1)
        for s in HEALTH_STATES:
            self.camera_state.labels(state=s).set(0)
        self._seen_statuses: Counter[str] = Counter()
        self._seen_rows = 0
        self._seen_batches = 0
        self._seen_flush_errors = 0
        self._seen_lease_errors = 0

    # -- from a running CaptureWorker (ingest.cameras.worker) ------------------------------------------------
    def update_from_worker(self, worker: Any, states: Iterable[Any] | None = None, now: float | None = None) -> None:
        """Read ``worker.stats`` (cumulative) and the per-camera health of ``states`` (default ``worker.states``)."""
        st = worker.stats
        for status, n in st.statuses.items():
            delta = n - self._seen_statuses[status]
            if delta > 0:
                self.frames.labels(status=status).inc(delta)
                if status != "ok":
                    self.errors.labels(kind="sample").inc(delta)
        self._seen_statuses = Counter(st.statuses)
        if st.rows_flushed > self._seen_rows:
            self.landed_rows.inc(st.rows_flushed - self._seen_rows)
            self.last_flush.set(time.time())
            self._seen_rows = st.rows_flushed
        if len(st.batches) > self._seen_batches:
            self.batches.inc(len(st.batches) - self._seen_batches)
            self._seen_batches = len(st.batches)
        if st.flush_errors > self._seen_flush_errors:
            self.errors.labels(kind="flush").inc(st.flush_errors - self._seen_flush_errors)
            self._seen_flush_errors = st.flush_errors
        cams = list(worker.states if states is None else states)
        self.cameras.set(len(cams))
        counts = Counter((getattr(c.health, "status", None) or "unknown") for c in cams)
        for s in set(HEALTH_STATES) | set(counts):
            self.camera_state.labels(state=s).set(counts.get(s, 0))
        self.lag.set(pending_lag_s(getattr(worker, "_rows", []), now))

    def observe_lease(self, held: int, errors: int) -> None:
        self.leases.set(held)
        if errors > self._seen_lease_errors:
            self.errors.labels(kind="lease").inc(errors - self._seen_lease_errors)
            self._seen_lease_errors = errors

    def observe_ingest_lags(self, lags_s: Iterable[float]) -> None:
        for v in lags_s:
            self.ingest_lag.observe(max(0.0, float(v)))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def pending_lag_s(rows: list[dict[str, Any]], now: float | None = None) -> float:
    """Seconds since the oldest buffered (not yet landed) sample was taken; 0 when nothing is buffered."""
    rows = list(rows)  # a snapshot: the capture threads append concurrently
    if not rows:
        return 0.0
    oldest = min(r["captured_at"] for r in rows if isinstance(r.get("captured_at"), datetime))
    return max(0.0, (now if now is not None else time.time()) - oldest.timestamp())


def start_metrics_server(port: int, addr: str = "0.0.0.0", registry: CollectorRegistry | None = None) -> Any:
    """Serve ``/metrics`` on ``addr:port`` from a daemon thread; returns the server (call ``.shutdown()``)."""
    server, _thread = start_http_server(port, addr=addr, registry=registry or CollectorRegistry())
    return server


# -- the API ----------------------------------------------------------------------------------------------------
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = PCounter(
            "pantau_api_requests", "API requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram("pantau_api_request_seconds", "API request latency", ["route"], registry=self.registry)


def _route(path: str) -> str:
    """A low-cardinality route label: the first two path segments (``/api/3/action/x`` -> ``/api/3``)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 4 and parts[0] == "api" and parts[2] == "action":
        return "/" + "/".join(parts[:4])  # CKAN action names are a fixed set
    return "/" + "/".join(parts[:2])


def instrument_asgi(app: ASGIApp, metrics: ApiMetrics | None = None) -> ASGIApp:
    """Wrap an ASGI app: count and time every HTTP request; answer ``GET /metrics`` from the registry."""
    m = metrics or ApiMetrics()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path == "/metrics":
            body = generate_latest(m.registry)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        status = {"code": 500}
        t0 = time.perf_counter()

        async def _send(msg: MutableMapping[str, Any]) -> None:
            if msg.get("type") == "http.response.start":
                status["code"] = int(msg.get("status", 500))
            await send(msg)

        try:
            await app(scope, receive, _send)
        finally:
            route = _route(path)
            m.latency.labels(route=route).observe(time.perf_counter() - t0)
            m.requests.labels(method=str(scope.get("method", "")), route=route, status=str(status["code"])).inc()

    return wrapped
