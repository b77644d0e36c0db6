"""Prometheus metrics of a real capture worker (simulated cameras on loopback) and of the read API."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ingest.cameras.metrics import ApiMetrics, CaptureMetrics, instrument_asgi, pending_lag_s, start_metrics_server
from ingest.cameras.passthrough import PassthroughAnalyzer
from ingest.cameras.registry import CameraSpec
from ingest.cameras.worker import CaptureWorker, WorkerConfig
from simulate.serve import camera_rows, start_demo_server
from warehouse.object_store import LocalObjectStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture(scope="module")
def sim() -> Iterator[list[CameraSpec]]:
    srv, specs = start_demo_server(8, seed=3, hls_cameras=0, width=320, height=180)
    try:
        rows = camera_rows(srv, specs)
        yield [CameraSpec(r["camera_id"], r["stream_url"], r["stream_kind"]) for r in rows]
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("ages", "expected"),
    [([], 0.0), ([5.0], 5.0), ([2.0, 9.0, 4.0], 9.0)],
)
def test_pending_lag_is_the_oldest_unlanded_sample(ages: list[float], expected: float) -> None:
    now = 1_800_000_000.0
    rows = [{"captured_at": datetime.fromtimestamp(now - a, UTC)} for a in ages]
    assert pending_lag_s(rows, now) == pytest.approx(expected)


def test_capture_worker_metrics_are_served(sim: list[CameraSpec], tmp_path: Path) -> None:
    dead = CameraSpec("dead-cam", "http://127.0.0.1:9/snap.jpg", "snapshot")
    store = LocalObjectStore(tmp_path / "store")
    cw = CaptureWorker(
        [*sim, dead],
        store,
        interval_s=10.0,
        flush_every_s=10.0,
        analyzer_factory=PassthroughAnalyzer,
        worker_id="metrics-test",
        config=WorkerConfig(connect_timeout_s=1.0, read_timeout_s=2.0),
        blur=None,
    )
    m = CaptureMetrics(worker_id="metrics-test")
    for _ in range(2):
        for st in cw.states:
            st.busy = True
            cw.sample(st)
    m.update_from_worker(cw)
    assert m.lag._value.get() > 0  # samples buffered, not landed yet
    assert cw.flush() is not None
    m.update_from_worker(cw)
    port = _free_port()
    server = start_metrics_server(port, "127.0.0.1", m.registry)
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
    got = _samples(text)
    n = len(sim) + 1
    frames = {dict(k[1])["status"]: v for k, v in got.items() if k[0] == "pantau_capture_frames_total"}
    assert sum(frames.values()) == 2 * n
    assert frames.get("offline", 0) + frames.get("decode_error", 0) >= 2  # the dead camera, twice
    assert got[("pantau_capture_errors_total", (("kind", "sample"),))] == 2 * n - frames.get("ok", 0)
    states = {dict(k[1])["state"]: v for k, v in got.items() if k[0] == "pantau_capture_camera_state"}
    assert sum(states.values()) == n
    assert got[("pantau_capture_cameras", ())] == n
    assert got[("pantau_capture_landed_rows_total", ())] == 2 * n
    assert got[("pantau_capture_batches_total", ())] == 1
    assert got[("pantau_capture_lag_seconds", ())] == 0.0


def test_lease_and_ingest_lag_metrics() -> None:
    m = CaptureMetrics()
    m.observe_lease(12, 0)
    m.observe_lease(10, 3)
    m.observe_ingest_lags([3.0, 12.0, 40.0])
    got = _samples(m.render().decode())
    assert got[("pantau_capture_leases_held", ())] == 10
    assert got[("pantau_capture_errors_total", (("kind", "lease"),))] == 3
    assert got[("pantau_ingest_lag_seconds_count", ())] == 3
    assert got[("pantau_ingest_lag_seconds_bucket", (("le", "15.0"),))] == 2


def test_api_metrics_wrap_the_open_data_api(tmp_path: Path) -> None:
    import uvicorn

    from open_data.api import create_app

    (tmp_path / "releases").mkdir()
    metrics = ApiMetrics()
    app = instrument_asgi(create_app(tmp_path), metrics)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/api/3/action/package_list", timeout=5).status_code == 200
        assert requests.get(f"{base}/api/3/action/package_show?id=nope", timeout=5).status_code == 404
        text = requests.get(f"{base}/metrics", timeout=5).text
    finally:
        server.should_exit = True
        t.join(5)
    got = _samples(text)
    route = "/api/3/action/package_list"
    key = ("pantau_api_requests_total", (("method", "GET"), ("route", route), ("status", "200")))
    assert got[key] == 1
    key404 = (
        "pantau_api_requests_total",
        (("method", "GET"), ("route", "/api/3/action/package_show"), ("status", "404")),
    )
    assert got[key404] == 1
