"""Capture worker against a loopback HTTP snapshot server with fault injection."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from ingest.cameras.landing import ingest_landed_batches
from ingest.cameras.passthrough import PassthroughAnalyzer
from ingest.cameras.registry import CameraSpec, Shard
from ingest.cameras.worker import (
    KEYFRAME_PREFIX,
    LANDING_PREFIX,
    PUBLIC_KEYFRAME_PREFIX,
    WorkerConfig,
    capture_for,
    run_worker,
)
from warehouse.object_store import LocalObjectStore

REPO = Path(__file__).resolve().parents[3]


def _scene(t: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((180, 320, 3), 90, np.uint8)
    img[:60] = (200, 170, 140)
    for _ in range(8):
        x, y = int(rng.integers(0, 280)), int(rng.integers(30, 90))
        cv2.rectangle(img, (x, y), (x + 30, 90), tuple(int(c) for c in rng.integers(40, 220, 3)), -1)
    x = int((t * 80) % 320)
    cv2.rectangle(img, (x, 120), (x + 40, 150), (240, 240, 250), -1)  # a moving car
    noise = np.random.default_rng(int(t * 1000) % 2**31).normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


FROZEN_JPEG = _jpeg(_scene(0.0, 5))


class _Handler(BaseHTTPRequestHandler):
    modes: ClassVar[dict[str, str]] = {}

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        cam = self.path.strip("/").split(".")[0]
        mode = self.modes.get(cam, "ok")
        if mode in ("404", "500"):
            self.send_error(int(mode))
            return
        if mode == "slow":
            time.sleep(2.0)
        if mode == "garbage":
            body = os.urandom(2048)
        elif mode == "frozen":
            body = FROZEN_JPEG
        elif mode == "hd":  # a 1280x720 camera
            body = _jpeg(cv2.resize(_scene(time.time(), 7), (1280, 720), interpolation=cv2.INTER_LINEAR))
        else:
            body = _jpeg(_scene(time.time(), hash(cam) % 1000))
        try:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, str]]]:
    modes: ClassVar[dict[str, str]] = {}
    handler = type("H", (_Handler,), {"modes": modes})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", modes
    srv.shutdown()
    srv.server_close()


def _dead_url() -> str:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return f"http://127.0.0.1:{port}/cam.jpg"


def _landed(store: LocalObjectStore) -> list[dict]:
    rows: list[dict] = []
    for o in store.list(LANDING_PREFIX):
        rows += pq.read_table(io.BytesIO(store.get_bytes(o.key))).to_pylist()
    return rows


FAST = WorkerConfig(connect_timeout_s=0.5, read_timeout_s=0.6, max_threads=8, backoff_base_s=0.3, backoff_max_s=1.0)
FAULTS = {
    "ok-a": ("ok", {"ok"}),
    "ok-b": ("ok", {"ok"}),
    "missing": ("404", {"offline"}),
    "broken": ("500", {"offline"}),
    "garbage": ("garbage", {"decode_error"}),
    "slow": ("slow", {"offline"}),
    "frozen": ("frozen", {"frozen"}),
}


def test_faults_do_not_stop_other_cameras(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, modes = server
    cams = []
    for cid, (mode, _) in FAULTS.items():
        modes[cid] = mode
        cams.append(CameraSpec(cid, f"{base}/{cid}.jpg", "snapshot"))
    cams.append(CameraSpec("dead", _dead_url(), "snapshot"))
    store = LocalObjectStore(tmp_path / "store")
    stats = run_worker(
        cams,
        store,
        interval_s=0.25,
        flush_every_s=0.7,
        max_runtime_s=3.0,
        analyzer_factory=PassthroughAnalyzer,
        config=FAST,
        blur=None,
        worker_id="w-test",
    )
    rows = _landed(store)
    assert len(rows) == stats.rows_flushed == stats.samples
    assert len(stats.batches) >= 2
    by_cam: dict[str, Counter[str]] = {}
    for r in rows:
        by_cam.setdefault(r["camera_id"], Counter())[r["status"]] += 1
    for cid, (_, expected) in FAULTS.items():
        assert expected <= set(by_cam[cid]), (cid, by_cam[cid])
    assert set(by_cam["dead"]) == {"offline"}
    # the healthy cameras kept their cadence despite the stalled and failing ones
    assert by_cam["ok-a"]["ok"] >= 6 and by_cam["ok-b"]["ok"] >= 6
    # the dead camera was not hammered: some slots were skipped while backing off
    assert any("waiting to reconnect" in (r["reason"] or "") for r in rows if r["camera_id"] == "dead")
    # every sample is scored (failed reads with health only, no hazard values)
    assert all(r["scored"] and r["health"] == r["status"] for r in rows)
    assert all(r["motion"] is None for r in rows if r["width"] is None)
    assert any(r["motion"] is not None and r["motion"] > 0 for r in rows if r["camera_id"] == "ok-a")


def test_keyframes_private_and_blurred_public(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, _ = server
    store = LocalObjectStore(tmp_path / "store")
    blurred: list[tuple[int, ...]] = []

    def blur(img: np.ndarray) -> np.ndarray:
        blurred.append(img.shape)
        return cv2.GaussianBlur(img, (0, 0), 8)

    cfg = WorkerConfig(keyframe_every_s=0.0, public_every_s=0.0, read_timeout_s=2.0)
    stats = capture_for(
        [CameraSpec("cam 1/x", f"{base}/c1.jpg", "snapshot")],
        store,
        1.2,
        interval_s=0.3,
        analyzer_factory=PassthroughAnalyzer,
        config=cfg,
        blur=blur,
    )
    private = [o.key for o in store.list(KEYFRAME_PREFIX)]
    public = [o.key for o in store.list(PUBLIC_KEYFRAME_PREFIX)]
    assert stats.keyframes == len(private) >= 2
    assert len(public) == len(private) == len(blurred)
    assert all(k.startswith("keyframes/cam_1_x/") and k.endswith(".jpg") for k in private)
    rows = _landed(store)
    # rows carry relative store keys (readable through any store), never a path or s3:// URI
    assert {r["keyframe_uri"] for r in rows} - {None} == set(private)
    assert {r["public_uri"] for r in rows} - {None} == set(public)
    # the public copy is the blurred image, not the private one
    a = cv2.imdecode(np.frombuffer(store.get_bytes(private[0]), np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(store.get_bytes("public/" + private[0]), np.uint8), cv2.IMREAD_COLOR)
    assert float(np.abs(cv2.Laplacian(b, cv2.CV_32F)).mean()) < 0.5 * float(np.abs(cv2.Laplacian(a, cv2.CV_32F)).mean())


def test_two_shards_disjoint_and_complete(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, _ = server
    cams = [CameraSpec(f"cam-{i:02d}", f"{base}/cam-{i:02d}.jpg", "snapshot") for i in range(12)]
    stores = [LocalObjectStore(tmp_path / f"s{i}") for i in range(2)]
    results: dict[int, object] = {}

    def go(i: int) -> None:
        results[i] = run_worker(
            cams,
            stores[i],
            shard=f"{i}/2",
            interval_s=0.3,
            flush_every_s=0.5,
            max_runtime_s=1.5,
            analyzer_factory=PassthroughAnalyzer,
            config=FAST,
            blur=None,
        )

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = [{r["camera_id"] for r in _landed(s)} for s in stores]
    assert seen[0] and seen[1]
    assert seen[0].isdisjoint(seen[1])
    assert seen[0] | seen[1] == {c.camera_id for c in cams}
    assert seen[0] == {c.camera_id for c in cams if Shard(0, 2).owns(c.camera_id)}


WORKER_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys
    from ingest.cameras.passthrough import PassthroughAnalyzer
    from ingest.cameras.registry import CameraSpec
    from ingest.cameras.worker import WorkerConfig, run_capture
    from warehouse.object_store import LocalObjectStore
    cams = [CameraSpec(**c) for c in json.loads(sys.argv[2])]
    cfg = WorkerConfig(connect_timeout_s=0.5, read_timeout_s=1.0)
    stats = run_capture(cams, LocalObjectStore(sys.argv[1]), interval_s=0.1, flush_every_s=0.25,
                        analyzer_factory=PassthroughAnalyzer, config=cfg, blur=None, worker_id=sys.argv[3])
    print(json.dumps(stats.as_dict()), flush=True)
    """
)


def _spawn(tmp_path: Path, store_root: Path, cams: list[dict], worker_id: str) -> subprocess.Popen[str]:
    script = tmp_path / "worker_main.py"
    script.write_text(WORKER_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(script), str(store_root), json.dumps(cams), worker_id],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_for_files(store: LocalObjectStore, n: int, timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while sum(1 for _ in store.list(LANDING_PREFIX)) < n:
        assert time.monotonic() - t0 < timeout, "worker produced no landing files"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigterm_flushes_and_exits_cleanly(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, _ = server
    root = tmp_path / "store"
    store = LocalObjectStore(root)
    cams = [{"camera_id": f"c{i}", "stream_url": f"{base}/c{i}.jpg", "stream_kind": "snapshot"} for i in range(4)]
    proc = _spawn(tmp_path, root, cams, "wterm")
    _wait_for_files(store, 2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["rows_flushed"] == stats["samples"] == len(_landed(store))  # nothing lost on SIGTERM


@pytest.mark.slow
def test_kill9_no_partial_file_and_restart_no_duplicates(
    server: tuple[str, dict[str, str]], tmp_path: Path, lake
) -> None:
    base, _ = server
    root = tmp_path / "store"
    store = LocalObjectStore(root)
    cams = [{"camera_id": f"k{i}", "stream_url": f"{base}/k{i}.jpg", "stream_kind": "snapshot"} for i in range(6)]
    for attempt in range(3):  # kill at different moments of the flush cycle
        proc = _spawn(tmp_path, root, cams, f"wkill{attempt}")
        _wait_for_files(store, 2 * (attempt + 1))
        time.sleep(0.05 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # every object in the landing zone is a complete, readable Parquet file
        for o in store.list(LANDING_PREFIX):
            pq.read_table(io.BytesIO(store.get_bytes(o.key)))
        assert not any(p.name.endswith(".parquet") and p.name.startswith(".tmp") for p in root.rglob("*"))
        first = ingest_landed_batches(lake, store)
        assert first.bad_files == []
    # restart: a clean run continues with new batches
    proc = _spawn(tmp_path, root, cams, "wrestart")
    n_before = sum(1 for _ in store.list(LANDING_PREFIX))
    _wait_for_files(store, n_before + 2)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    ingest_landed_batches(lake, store)
    again = ingest_landed_batches(lake, store)
    assert again.files_ingested == 0
    total = lake.scalar("SELECT count(*) FROM frames")
    distinct = lake.scalar("SELECT count(*) FROM (SELECT DISTINCT camera_id, captured_at FROM frames)")
    assert total == distinct == len(_landed(store))
    assert lake.scalar("SELECT count(DISTINCT worker_id) FROM frames") == 4


@pytest.mark.slow
def test_simserver_protocols_faults_and_recovery(tmp_path: Path) -> None:
    """Real protocols from the simulator (snapshot, MJPEG, HLS via FFmpeg); faults injected mid-run, then cleared."""
    servers = pytest.importorskip("simulate.servers")
    scene = pytest.importorskip("simulate.scene")
    ids = {
        "snap-ok": "snapshot",
        "snap-stall": "snapshot",
        "mj-ok": "mjpeg",
        "mj-stop": "mjpeg",
        "mj-garbage": "mjpeg",
        "snap-frozen": "snapshot",
        "hls-ok": "hls",
    }
    cams = [scene.SimCamera(cid, seed=i, width=320, height=180, fps=5) for i, cid in enumerate(ids)]
    store = LocalObjectStore(tmp_path / "store")
    faults = {"snap-stall": "stall", "mj-stop": "stop", "mj-garbage": "garbage", "snap-frozen": "frozen"}
    with servers.SimServer(cams, hls=["hls-ok"], segment_s=1.0) as srv:
        assert srv.wait_hls_ready(30)
        specs = [CameraSpec(cid, srv.url(cid, kind), kind) for cid, kind in ids.items()]
        stop = threading.Event()
        cfg = WorkerConfig(
            connect_timeout_s=1.0, read_timeout_s=1.5, backoff_base_s=0.3, backoff_max_s=1.0, max_threads=8
        )
        out: dict[str, object] = {}
        th = threading.Thread(
            target=lambda: out.setdefault(
                "stats",
                run_worker(
                    specs,
                    store,
                    interval_s=0.4,
                    flush_every_s=1.0,
                    stop_event=stop,
                    analyzer_factory=PassthroughAnalyzer,
                    config=cfg,
                    blur=None,
                ),
            )
        )
        th.start()
        _wait_for_files(store, 1, timeout=60)  # the worker is up (first start imports pyarrow/pandas)
        time.sleep(2.0)
        t_fault = time.time()
        for cid, kind in faults.items():
            srv.set_fault(cid, kind)
        time.sleep(5.0)
        t_clear = time.time()
        for cid in faults:
            srv.clear_fault(cid)
        time.sleep(5.0)
        stop.set()
        th.join(timeout=30)
        assert not th.is_alive()
    rows = _landed(store)
    assert len(rows) == out["stats"].samples  # type: ignore[attr-defined]

    def statuses(cid: str, lo: float, hi: float) -> Counter[str]:
        return Counter(r["status"] for r in rows if r["camera_id"] == cid and lo <= r["captured_at"].timestamp() < hi)

    for cid in ("snap-ok", "mj-ok", "hls-ok"):  # unaffected cameras keep flowing during the faults
        during = statuses(cid, t_fault, t_clear)
        assert during["ok"] >= 5, (cid, during)
    assert statuses("snap-stall", t_fault + 2, t_clear)["offline"] >= 1
    assert statuses("mj-stop", t_fault + 1, t_clear)["offline"] >= 1
    assert statuses("mj-garbage", t_fault + 1, t_clear)["decode_error"] >= 1
    assert statuses("snap-frozen", t_fault, t_clear)["frozen"] >= 1
    for cid in faults:  # reconnected after the fault cleared
        assert statuses(cid, t_clear + 3, 1e12)["ok"] >= 1, (cid, statuses(cid, t_clear, 1e12))


def test_default_analyzer_is_the_vision_pipeline_when_importable(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, _ = server
    try:
        from analytics.vision import MODEL_VERSION
    except ImportError:
        MODEL_VERSION = "passthrough-1"
    store = LocalObjectStore(tmp_path / "store")
    cams = [CameraSpec("v1", f"{base}/v1.jpg", "snapshot"), CameraSpec("v2", _dead_url(), "snapshot")]
    capture_for(cams, store, 1.5, interval_s=0.3, config=FAST, blur=None)  # analyzer_factory left to default
    rows = _landed(store)
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and {r["model_version"] for r in ok} == {MODEL_VERSION}
    for r in rows:  # unknown scores are NULL, never NaN (NaN would poison max() in the lake)
        for k in ("fire", "smoke", "flood", "persons", "crowd", "motion"):
            assert r[k] is None or 0.0 <= r[k] <= max(1.0, r[k]), (k, r[k])
    assert all(r["fire"] is None for r in rows if r["camera_id"] == "v2")


class _FlakyStore(LocalObjectStore):
    """Fails the first ``fail`` landing writes (an S3 outage), then works."""

    def __init__(self, root: Path, fail: int) -> None:
        super().__init__(root)
        self.fail = fail

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        if key.startswith(LANDING_PREFIX) and self.fail > 0:
            self.fail -= 1
            raise ConnectionError("store unavailable")
        return super().put_bytes(key, data, content_type)


def test_failed_flush_keeps_rows_for_the_next_one(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, _ = server
    store = _FlakyStore(tmp_path / "store", fail=2)
    stats = run_worker(
        [CameraSpec("f1", f"{base}/f1.jpg", "snapshot")],
        store,
        interval_s=0.2,
        flush_every_s=0.4,
        max_runtime_s=2.0,
        analyzer_factory=PassthroughAnalyzer,
        config=FAST,
        blur=None,
    )
    assert stats.flush_errors == 2
    rows = _landed(store)
    assert len(rows) == stats.samples == stats.rows_flushed
    assert len({r["captured_at"] for r in rows}) == len(rows)


def test_capture_command_from_file(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    from ingest.cameras.worker import run_capture_command

    base, _ = server
    f = tmp_path / "cams.json"
    f.write_text(json.dumps([{"camera_id": f"j{i}", "stream_url": f"{base}/j{i}.jpg"} for i in range(4)]))
    store = LocalObjectStore(tmp_path / "store")
    out = run_capture_command(
        None,
        store,
        cameras_file=str(f),
        camera_ids=["j1", "j2"],
        interval_s=0.3,
        duration_s=2.0,
        public_keyframes=False,
    )
    assert out["cameras"] == 2 and out["samples"] >= 2
    assert {r["camera_id"] for r in _landed(store)} == {"j1", "j2"}


class _ShapeRecorder(PassthroughAnalyzer):
    """The pass-through analyzer, recording the shape of every frame it was given."""

    def __init__(self, camera_id: str, shapes: list[tuple[int, ...]]) -> None:
        super().__init__(camera_id)
        self.shapes = shapes

    def process(self, frame: np.ndarray | None, ts: float, health: str = "ok", context: object = None) -> Any:
        if frame is not None:
            self.shapes.append(frame.shape)
        return super().process(frame, ts, health)


@pytest.mark.parametrize(
    ("decode_min_size", "analysed"),
    [((640, 360), (360, 640, 3)), ((320, 180), (180, 320, 3)), (None, (720, 1280, 3))],
)
def test_reduced_decode_analyses_small_and_keeps_full_keyframes(
    server: tuple[str, dict[str, str]], tmp_path: Path, decode_min_size: tuple[int, int] | None, analysed: tuple
) -> None:
    """An HD camera is analysed at the reduced size; rows report the camera's size and the keyframes (private as
    served, public blurred) stay full size."""
    base, modes = server
    modes["hd"] = "hd"
    store = LocalObjectStore(tmp_path / "store")
    shapes: list[tuple[int, ...]] = []
    blurred: list[tuple[int, ...]] = []

    def blur(img: np.ndarray) -> np.ndarray:
        blurred.append(img.shape)
        return cv2.GaussianBlur(img, (0, 0), 8)

    cfg = WorkerConfig(keyframe_every_s=0.0, public_every_s=0.0, read_timeout_s=2.0, decode_min_size=decode_min_size)
    capture_for(
        [CameraSpec("hd", f"{base}/hd.jpg", "snapshot")],
        store,
        1.0,
        interval_s=0.3,
        analyzer_factory=lambda cid: _ShapeRecorder(cid, shapes),
        config=cfg,
        blur=blur,
    )
    rows = [r for r in _landed(store) if r["status"] == "ok"]
    assert rows and shapes and set(shapes) == {analysed}
    assert {(r["width"], r["height"]) for r in rows} == {(1280, 720)}
    private = [o.key for o in store.list(KEYFRAME_PREFIX)]
    assert private and set(blurred) == {(720, 1280, 3)}
    for key in private:
        img = cv2.imdecode(np.frombuffer(store.get_bytes(key), np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape == (720, 1280, 3)
