from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import dagster as dg
import numpy as np
import pyarrow as pa
import pytest

from assets.cameras import (
    camera_events_daily,
    camera_frames,
    camera_landing_sensor,
    camera_snapshots,
    defs,
)
from ingest.cameras.passthrough import PassthroughAnalyzer
from ingest.cameras.registry import load_cameras_lake
from ingest.cameras.worker import capture_for
from orchestration.resources import LakeResource, ObjectStoreResource
from warehouse.lake import MIGRATIONS_DIR, Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore


class _Snap(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if "missing" in self.path:
            self.send_error(404)
            return
        img = np.full((120, 200, 3), 100, np.uint8)
        x = int(time.time() * 60) % 180
        cv2.rectangle(img, (x, 60), (x + 20, 80), (250, 250, 250), -1)
        img = np.clip(img + np.random.default_rng().normal(0, 3, img.shape), 0, 255).astype(np.uint8)
        body = cv2.imencode(".jpg", img)[1].tobytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Snap)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server: str) -> dict:
    root = tmp_path_factory.mktemp("cam-assets")
    mig = root / "migrations"
    mig.mkdir()
    for f in MIGRATIONS_DIR.glob("*.sql"):
        if f.name.startswith(("0001_", "01", "02", "0820_", "0821_")):  # reference, capture, marts, registry, vehicles
            shutil.copy(f, mig / f.name)
    data = root / "pantau-data"
    lake = Lake(LakeConfig(root=data))
    migrate(lake, mig)
    lake.append(
        "cameras",
        pa.table(
            {
                "camera_id": ["cam-a", "cam-b", "cam-gone"],
                "stream_url": [f"{server}/a.jpg", f"{server}/b.jpg", f"{server}/missing.jpg"],
                "stream_kind": ["snapshot"] * 3,
                "active": [True, True, True],
            }
        ),
    )
    lake.close()
    resources = {
        "lake": LakeResource(data_dir=str(data)),
        "store": ObjectStoreResource(root=str(data / "store")),
    }
    return {"data": data, "resources": resources, "store": LocalObjectStore(data / "store")}


def _lake(env: dict) -> Lake:
    return env["resources"]["lake"].get_lake()


def test_defs_load() -> None:
    full = dg.Definitions.merge(
        defs, dg.Definitions(resources={"lake": LakeResource(), "store": ObjectStoreResource()})
    )
    repo = full.get_repository_def()
    assert {"camera_snapshots", "camera_frames", "camera_events_daily"} <= {
        k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()
    }
    assert repo.get_sensor_def("camera_landing_sensor")


def test_snapshots_capture_and_ingest(env: dict) -> None:
    cfg = {"duration_s": 1.5, "interval_s": 0.3, "camera_ids": ["cam-a", "cam-gone"], "public_keyframes": False}
    res = dg.materialize(
        [camera_snapshots],
        resources=env["resources"],
        run_config={"ops": {"camera_snapshots": {"config": cfg}}},
    )
    assert res.success
    md = res.asset_materializations_for_node("camera_snapshots")[0].metadata
    assert md["capture_cameras"].value == 2
    lk = _lake(env)
    try:
        gone = lk.query("SELECT DISTINCT status FROM frames WHERE camera_id = 'cam-gone'").column(0).to_pylist()
        assert gone == ["offline"]
        assert lk.scalar("SELECT count(*) FROM frames WHERE camera_id = 'cam-a' AND status = 'ok'") >= 3
        assert lk.scalar("SELECT count(*) FROM frames WHERE camera_id = 'cam-b'") == 0  # not selected
        assert lk.scalar("SELECT count(*) FROM camera_events") >= 2
    finally:
        lk.close()


def test_sensor_then_ingest_exactly_once(env: dict) -> None:
    lk = _lake(env)
    try:
        cams = load_cameras_lake(lk)
    finally:
        lk.close()
    capture_for(cams, env["store"], 1.0, interval_s=0.3, analyzer_factory=PassthroughAnalyzer, blur=None)
    ctx = dg.build_sensor_context(resources=env["resources"])
    result = camera_landing_sensor(ctx)
    assert isinstance(result, dg.SensorResult) and len(result.run_requests) == 1
    for _ in range(2):  # a second run finds nothing new
        assert dg.materialize([camera_frames], resources=env["resources"]).success
    lk = _lake(env)
    try:
        assert lk.scalar("SELECT count(*) FROM frames") == lk.scalar(
            "SELECT count(*) FROM (SELECT DISTINCT camera_id, captured_at FROM frames)"
        )
        assert lk.scalar("SELECT count(DISTINCT camera_id) FROM frames") == 3
    finally:
        lk.close()
    assert isinstance(camera_landing_sensor(dg.build_sensor_context(resources=env["resources"])), dg.SkipReason)


def test_daily_partition(env: dict) -> None:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    for _ in range(2):
        res = dg.materialize([camera_events_daily], resources=env["resources"], partition_key=day)
        assert res.success
    lk = _lake(env)
    try:
        rows = lk.query("SELECT * FROM camera_events_daily ORDER BY camera_id").to_pylist()
    finally:
        lk.close()
    assert [r["camera_id"] for r in rows] == ["cam-a", "cam-b", "cam-gone"]  # once each, camera as a column
    gone = rows[2]
    assert gone["uptime"] == 0.0 and gone["frames_offline"] == gone["samples"] > 0
    assert rows[0]["uptime"] > 0.5
