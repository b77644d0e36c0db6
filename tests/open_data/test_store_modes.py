"""Capture -> lake -> release -> API through one object store, as a folder and as S3 (moto server on loopback).

A camera that produced a blurred keyframe gets a thumbnail in the release's ``camera_inventory``, in both store
modes, and the API (reading the same store) serves it; private keyframes stay unreachable.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pytest
import requests

from ingest.cameras.landing import ingest_landed_batches
from ingest.cameras.passthrough import PassthroughAnalyzer
from ingest.cameras.registry import load_cameras_lake
from ingest.cameras.worker import PUBLIC_KEYFRAME_PREFIX, WorkerConfig, capture_for
from open_data.api import ApiServer
from open_data.datasets import DATASETS
from open_data.release import build_release
from tests.conftest import free_port
from warehouse.lake import MIGRATIONS_DIR, Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore, ObjectStore, S3ObjectStore

INVENTORY = tuple(d for d in DATASETS if d.name == "camera_inventory")


class _Snap(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if "missing" in self.path:
            self.send_error(404)
            return
        img = np.full((90, 160, 3), 110, np.uint8)
        cv2.circle(img, (int(time.time() * 50) % 160, 45), 12, (240, 240, 240), -1)
        body = cv2.imencode(".jpg", img)[1].tobytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def cameras_url() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Snap)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "store")
    s3 = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return S3ObjectStore(s3["endpoint"], bucket, s3["access_key"], s3["secret_key"], prefix="store")


def _camera_lake(root: Path, url: str) -> Lake:
    mig = root / "migrations"
    mig.mkdir()
    for f in MIGRATIONS_DIR.glob("*.sql"):
        if f.name.startswith(("0001_", "01", "02", "0820_", "0821_")):  # reference, capture, marts, registry, vehicles
            shutil.copy(f, mig / f.name)
    lake = Lake(LakeConfig(root=root / "pantau-data"))
    migrate(lake, mig)
    lake.append(
        "cameras",
        pa.table(
            {
                "camera_id": ["cam-a", "cam-b", "cam-gone"],
                "name": ["A", "B", "Gone"],
                "stream_url": [f"{url}/a.jpg", f"{url}/b.jpg", f"{url}/missing.jpg"],
                "stream_kind": ["snapshot"] * 3,
                "lat": [-6.19, -6.2, -6.21],
                "lon": [106.82, 106.83, 106.84],
                "active": [True, True, True],
            }
        ),
    )
    return lake


def test_release_thumbnails_and_api_in_both_store_modes(store: ObjectStore, cameras_url: str, tmp_path: Path) -> None:
    lake = _camera_lake(tmp_path, cameras_url)
    try:
        stats = capture_for(
            load_cameras_lake(lake),
            store,
            1.5,
            interval_s=0.4,
            analyzer_factory=PassthroughAnalyzer,
            config=WorkerConfig(keyframe_every_s=0.0, public_every_s=0.0, read_timeout_s=2.0),
            blur=lambda img: cv2.GaussianBlur(img, (15, 15), 0),
        )
        assert stats.public_keyframes >= 2
        ingest_landed_batches(lake, store)
        # rows carry store keys, never a path or s3:// URI of one deployment
        uris = lake.query("SELECT DISTINCT public_uri FROM frames WHERE public_uri IS NOT NULL").column(0).to_pylist()
        assert uris and all(u.startswith(PUBLIC_KEYFRAME_PREFIX) for u in uris)
        blurred = {k.split("/")[2] for k in (o.key for o in store.list(PUBLIC_KEYFRAME_PREFIX))}
        assert blurred == {"cam-a", "cam-b"}

        result = build_release(lake, store, version="v1", datasets=INVENTORY)
    finally:
        lake.close()
    assert result.written
    thumbs = sorted(p for p in result.files if p.startswith("thumbnails/"))
    assert thumbs == ["thumbnails/cam-a.jpg", "thumbnails/cam-b.jpg"]  # one per camera with a blurred keyframe

    with ApiServer(store, free_port()) as server, requests.Session() as http:
        r = http.get(f"{server.url}/api/3/action/datastore_search", params={"resource_id": "camera_inventory"})
        assert r.status_code == 200, r.text
        rows = {rec["camera_id"]: rec["thumbnail"] for rec in r.json()["result"]["records"]}
        assert rows == {"cam-a": "thumbnails/cam-a.jpg", "cam-b": "thumbnails/cam-b.jpg", "cam-gone": None}
        img = http.get(f"{server.url}/releases/v1/{rows['cam-a']}")
        assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
        assert img.content == store.get_bytes("releases/v1/thumbnails/cam-a.jpg")
        assert cv2.imdecode(np.frombuffer(img.content, np.uint8), cv2.IMREAD_COLOR) is not None
        manifest = http.get(f"{server.url}/releases/v1/release.json").json()
        assert manifest["version"] == "v1"
        # the public zone is served from the same store; the private zone never is
        public_key = uris[0]
        assert http.get(f"{server.url}/{public_key}").content == store.get_bytes(public_key)
        private_key = public_key.removeprefix("public/")
        assert store.exists(private_key)
        for path in (private_key, f"public/../{private_key}", "releases/../" + private_key, "landing/frames/"):
            assert http.get(f"{server.url}/{path}").status_code == 404
        assert http.get(f"{server.url}/releases/v1/nope.csv").status_code == 404
        sums = http.get(f"{server.url}/releases/v1/SHA256SUMS")
        assert sums.status_code == 200 and "thumbnails/cam-a.jpg" in sums.text
        etag = img.headers.get("etag")
        assert etag and http.get(img.url, headers={"If-None-Match": etag}).status_code == 304


def test_release_resolves_public_uris_written_as_paths_or_s3_uris(tmp_path: Path) -> None:
    """Rows landed before keys were stored hold the store's own URI for the key; those still resolve."""
    store = LocalObjectStore(tmp_path / "store")
    key = "public/keyframes/cam-a/20261120T001000.000Z.jpg"
    store.put_bytes(key, cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    assert store.key_of(store.uri(key)) == key
    assert store.key_of("file://" + store.uri(key)) == key
    assert store.key_of(key) == key
    assert store.key_of("/elsewhere/" + key) is None
    assert store.key_of("s3://bucket/" + key) is None


@pytest.mark.services
def test_s3_key_of(s3_server: dict[str, str], s3_bucket: str) -> None:
    st = S3ObjectStore(s3_server["endpoint"], s3_bucket, s3_server["access_key"], s3_server["secret_key"], prefix="p")
    key = "public/keyframes/c/1.jpg"
    assert st.key_of(st.uri(key)) == key
    assert st.key_of(f"s3://other/p/{key}") is None
    assert st.key_of(f"s3://{s3_bucket}/q/{key}") is None
