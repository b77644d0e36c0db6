"""`probe`: protocol detection, resolution, frame rate and latency for every simulator protocol, and viewer
pages shaped like Jakarta's public ones (Flussonic ``embed.html`` players of Bali Tower on :7028 and
``:8011/...embed.html?proto=hls``, Streetside's Next.js ``/camera/<n>`` pages, an ``<img>`` MJPEG page)
resolved to the stream they embed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import pytest
import requests

from ingest.cameras.probe import probe
from ingest.cameras.viewer import stream_candidates
from simulate.scene import SimCamera
from simulate.servers import SimServer

pytestmark = pytest.mark.slow

W, H = 320, 180
TOKEN = "501844_JKP_DISHUB_JL.-MH.-THAMRIN-C01_CCTV-01"
JSC = "Bendungan-Hilir-003-700014_1"

FLUSSONIC_EMBED = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{token}</title>
<link rel="stylesheet" href="/flu/assets/embed.css"><script src="/flu/assets/embed.js"></script></head>
<body><div id="player" data-autoplay="true"></div>
<script>window.onload = function() {{ new FlussonicEmbed(document.getElementById("player"), {{ name: "{token}" }}); }}</script>
</body></html>"""
JSC_EMBED = """<!DOCTYPE html><html><head><title>{token}</title></head><body>
<video id="player" autoplay muted playsinline><source src="index.m3u8" type="application/x-mpegURL"></video>
<img src="/static/logo-balitower.png" alt="Bali Tower"></body></html>"""
NEXT_PAGE = """<!DOCTYPE html><html><head><title>{name} | Streetside Jakarta</title>
<link rel="icon" href="/favicon.ico"></head><body><div id="__next"><main><h1>{name}</h1></main></div>
<script id="__NEXT_DATA__" type="application/json">{data}</script>
<script src="/_next/static/chunks/main.js" defer></script></body></html>"""
IMG_PAGE = """<html><body><h2>CCTV Pintu Air</h2><img src="/static/logo.png">
<img id="cctv" src="{mjpeg}" width="640"></body></html>"""
EMPTY_PAGE = """<html><body><p>Kamera sedang dalam perbaikan</p><img src="/static/logo.png"></body></html>"""


class _Fixture(BaseHTTPRequestHandler):
    sim: SimServer
    pages: dict[str, str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        for prefix in (f"/dki/{TOKEN}/", f"/jsc/{JSC}/"):
            if path.startswith(prefix) and not path.endswith(".html"):
                rest = path[len(prefix) :]
                target = (
                    self.sim.url("cam-h", "snapshot")
                    if rest == "preview.jpg"
                    else self.sim.url("cam-h", "hls").rsplit("/", 1)[0] + "/" + rest
                )
                r = requests.get(target, timeout=5)
                return self._send(r.status_code, r.content, r.headers.get("Content-Type", "application/octet-stream"))
        if path in self.pages:
            return self._send(200, self.pages[path].encode(), "text/html; charset=utf-8")
        self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SimServer, str]]:
    cams = [SimCamera("cam-h", seed=1, width=W, height=H, fps=10.0), SimCamera("cam-r", seed=2, width=W, height=H)]
    sim = SimServer(cams, hls=["cam-h"], rtsp=["cam-r"]).start()
    sim.wait_ready()
    handler = type("Fixture", (_Fixture,), {"sim": sim, "pages": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{httpd.server_port}"
    next_embed = {
        "props": {
            "pageProps": {
                "camera": {
                    "id": 1377,
                    "name": "Bale Kambang 001",
                    "channels": [{"id": "c1", "embedUrl": f"{base}/dki/{TOKEN}/embed.html", "sourceUrl": None}],
                }
            }
        },
        "page": "/camera/[id]",
    }
    next_source = {"props": {"pageProps": {"camera": {"id": 2001, "name": "Glodok 002", "channels": [
        {"id": "c1", "embedUrl": None, "sourceUrl": sim.url("cam-h", "mjpeg")}]}}}, "page": "/camera/[id]"}  # fmt: skip
    handler.pages.update(
        {
            f"/dki/{TOKEN}/embed.html": FLUSSONIC_EMBED.format(token=TOKEN),
            f"/jsc/{JSC}/embed.html": JSC_EMBED.format(token=JSC),
            "/camera/1377": NEXT_PAGE.format(name="Bale Kambang 001", data=json.dumps(next_embed)),
            # Next.js escapes "/" as "\/" in some builds: the resolver must read both
            "/camera/2001": NEXT_PAGE.format(name="Glodok 002", data=json.dumps(next_source).replace("/", "\\/")),
            "/pintu-air/manggarai.html": IMG_PAGE.format(mjpeg=sim.url("cam-h", "mjpeg")),
            "/camera/9999": EMPTY_PAGE,
        }
    )
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield sim, base
    finally:
        httpd.shutdown()
        sim.stop()


@pytest.mark.parametrize(
    ("target", "detected", "protocol", "via"),
    [
        ("snapshot", "snapshot", "snapshot", 0),
        ("mjpeg", "mjpeg", "mjpeg", 0),
        ("hls", "hls", "hls", 0),
        ("rtsp", "rtsp", "rtsp", 0),
        (f"/dki/{TOKEN}/embed.html", "viewer", "hls", 1),
        (f"/jsc/{JSC}/embed.html?proto=hls", "viewer", "hls", 1),
        ("/camera/1377", "viewer", "hls", 2),
        ("/camera/2001", "viewer", "mjpeg", 1),
        ("/pintu-air/manggarai.html", "viewer", "mjpeg", 1),
    ],
)
def test_probe_detects_and_measures(
    servers: tuple[SimServer, str], target: str, detected: str, protocol: str, via: int
) -> None:
    sim, base = servers
    url = base + target if target.startswith("/") else sim.url("cam-r" if target == "rtsp" else "cam-h", target)
    res = probe(url, timeout_s=5.0, frames=6)
    assert res.ok, res.error
    assert (res.detected, res.protocol, len(res.via)) == (detected, protocol, via)
    assert (res.width, res.height) == (W, H)
    assert res.latency_ms is not None and 0 < res.latency_ms < 8000
    if protocol == "snapshot":
        assert res.fps is None
    else:
        assert res.fps is not None and 5.0 <= res.fps <= 15.0, res.fps  # the simulator runs at 10 fps
    if via:
        assert res.via[0] == url and res.stream_url != url


def test_viewer_without_a_stream_and_dead_urls_fail_with_a_reason(servers: tuple[SimServer, str]) -> None:
    _, base = servers
    res = probe(base + "/camera/9999", timeout_s=2.0)
    assert not res.ok and res.detected == "viewer" and res.error == "no stream found in the viewer page"
    res = probe(base + "/camera/404", timeout_s=2.0)
    assert not res.ok and res.error == "http_error: HTTP 404"


def test_blurred_test_frame_and_no_credentials_in_the_result(servers: tuple[SimServer, str], tmp_path: Path) -> None:
    from ingest.cameras.worker import _default_blur

    sim, _ = servers
    blur = _default_blur()
    assert blur is not None
    url = sim.url("cam-h", "snapshot").replace("http://", "http://viewer:S3cret-Probe@")
    res = probe(url, test_frame=tmp_path / "t.jpg", blur=blur)
    assert res.ok and res.test_frame == str(tmp_path / "t.jpg")
    img = cv2.imread(res.test_frame)
    assert img is not None and img.shape[:2] == (H, W)
    assert "S3cret-Probe" not in json.dumps(res.as_dict())


def test_candidates_are_ranked_and_skip_assets() -> None:
    page = (
        '<img src="/img/logo.png"><img src="snap/preview.jpg"><iframe src="/player/embed.html"></iframe>'
        '<script>var a = "https:\\/\\/cdn.example\\/live\\/cam.m3u8"; var b = "/static/app.js";</script>'
    )
    cands = stream_candidates(page, "http://host.example/camera/7")
    assert [(c.kind, c.url) for c in cands] == [
        ("hls", "https://cdn.example/live/cam.m3u8"),
        ("snapshot", "http://host.example/camera/snap/preview.jpg"),
        ("page", "http://host.example/player/embed.html"),
    ]


def test_a_viewer_camera_becomes_capturable_with_the_probed_stream(servers: tuple[SimServer, str], lake: Any) -> None:
    from ingest.cameras.registry import load_cameras_lake
    from ingest.reference.loaders import load_kelurahan
    from ingest.registry import ops, store

    _, base = servers
    lake.replace("kelurahan", load_kelurahan().table)
    ops.import_cameras(lake, [{"camera_id": "streetside-1377", "name": "Bale Kambang 001", "lat": -6.273009784,
                               "lon": 106.8572427, "stream_url": f"{base}/camera/1377"}], actor="seed")  # fmt: skip
    assert store.get_camera(lake, "streetside-1377")["stream_kind"] == "viewer"
    assert load_cameras_lake(lake) == []  # a viewer page is not captured
    res = probe(f"{base}/camera/1377")
    assert res.ok and res.protocol == "hls" and res.stream_url
    change = ops.save_probed_stream(lake, "streetside-1377", stream_url=res.stream_url, protocol=res.protocol,
                                    detected=res.detected, actor="ops")  # fmt: skip
    assert change is not None and change.fields["stream_kind"] == ["viewer", "hls"]
    assert [(c.camera_id, c.stream_kind) for c in load_cameras_lake(lake)] == [("streetside-1377", "hls")]
    assert ops.save_probed_stream(lake, "streetside-1377", stream_url=res.stream_url, protocol="hls",
                                  detected="viewer", actor="ops") is None  # fmt: skip
