"""Panic-button priority requests: a real ``pantau capture`` worker process serves the request (marks it served,
with when and by whom) and samples that camera faster than the others, for a bounded time."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.cameras.priority import LakePriorityRequests
from ingest.cameras.worker import LANDING_PREFIX
from ingest.jaki.signals import PRIORITY_REQUEST_SCHEMA
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore

REPO = Path(__file__).resolve().parents[3]
SCHEMA = PRIORITY_REQUEST_SCHEMA


class _Snapshots(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        img = np.full((180, 320, 3), 90, np.uint8)
        x = int((time.time() * 80) % 280)
        cv2.rectangle(img, (x, 100), (x + 40, 140), (240, 240, 250), -1)
        img = np.clip(img + np.random.default_rng().normal(0, 3, img.shape), 0, 255).astype(np.uint8)
        body = cv2.imencode(".jpg", img)[1].tobytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def snapshots() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Snapshots)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _request(rid: str, camera_id: str, pressed_at: datetime) -> dict:
    return {
        "request_id": rid, "camera_id": camera_id, "panic_id": rid.split(":")[0], "pressed_at": pressed_at,
        "kelurahan_code": "31.71.01.1001", "kind": "crime", "distance_m": 40.0, "radius_m": 300.0, "priority": 1,
        "reason": "panic button (crime) 40 m away", "status": "pending", "requested_at": pressed_at,
    }  # fmt: skip


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "pantau-data"
    lake = Lake(LakeConfig(root=data))
    migrate(lake)
    now = datetime.now(UTC)
    lake.append(
        "camera_priority_requests",
        pa.Table.from_pylist(
            [
                _request("p1:cam-near", "cam-near", now),
                _request("p0:cam-far", "cam-far", now - timedelta(hours=3)),  # stale: expired, not served
            ],
            schema=SCHEMA,
        ),
    )
    lake.close()
    return data


@pytest.mark.slow
def test_a_real_worker_serves_the_request_and_samples_that_camera_faster(
    data_dir: Path, snapshots: str, tmp_path: Path
) -> None:
    cams = tmp_path / "cameras.json"
    cams.write_text(
        json.dumps(
            [
                {"camera_id": c, "stream_url": f"{snapshots}/{c}.jpg", "stream_kind": "snapshot"}
                for c in ("cam-near", "cam-far", "cam-other")
            ]
        )
    )
    cmd = [
        sys.executable, "-m", "orchestration.cli", "capture", "--data-dir", str(data_dir), "--cameras-file", str(cams),
        "--interval", "4", "--flush-every", "1", "--duration", "14", "--priority-interval", "0.5",
        "--priority-boost", "60", "--no-public-keyframes",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    env["PYTHONPATH"] = str(REPO)
    res = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    store = LocalObjectStore(data_dir / "store")
    rows: list[dict] = []
    for o in store.list(LANDING_PREFIX):
        rows += pq.read_table(io.BytesIO(store.get_bytes(o.key))).to_pylist()
    n = Counter(r["camera_id"] for r in rows)
    # interval 4 s for 14 s: ~4 samples each; the served camera every 0.5 s once the request is seen
    assert n["cam-far"] <= 5 and n["cam-other"] <= 5, n
    assert n["cam-near"] >= 3 * max(n["cam-far"], n["cam-other"]), n

    lake = Lake(LakeConfig(root=data_dir), read_only=True)
    try:
        got = {
            r["request_id"]: r
            for r in lake.query(
                "SELECT request_id, status, served_at, served_by FROM camera_priority_requests"
            ).to_pylist()
        }
    finally:
        lake.close()
    near, far = got["p1:cam-near"], got["p0:cam-far"]
    assert near["status"] == "served" and near["served_at"] is not None and near["served_by"]
    assert far["status"] == "expired"


def test_claim_serves_each_request_once(data_dir: Path) -> None:
    lake = Lake(LakeConfig(root=data_dir))
    try:
        q = LakePriorityRequests(lake)
        first = q.claim(["cam-near", "cam-far"], "w1")
        assert [r.request_id for r in first] == ["p1:cam-near"]
        assert q.claim(["cam-near", "cam-far"], "w2") == []  # served (and expired) rows are not handed out again
        assert q.claim(["cam-x"], "w1") == []
    finally:
        lake.close()
