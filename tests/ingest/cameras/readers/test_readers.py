"""Stream readers end to end on loopback through SimServer: snapshot, MJPEG, files; faults; backoff; sampling."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from ingest.cameras.readers import (
    STREAM_KINDS,
    Backoff,
    Sampler,
    StreamError,
    decode_jpeg,
    jpeg_size,
    open_stream,
    parse_m3u8,
)
from simulate.scene import Incident, Script, SimCamera
from simulate.servers import SimServer

W, H = 320, 180
CAMS = ["ok-1", "ok-2", "f-stop", "f-stall", "f-garbage", "f-404", "f-500", "f-slow", "f-frozen", "f-midstop", "f-http"]


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    cams = [
        SimCamera(cid, seed=i, width=W, height=H, fps=20.0, script=Script(incidents=(Incident("crowd", 0.0, peak=30),)))
        for i, cid in enumerate(CAMS)
    ]
    with SimServer(cams, max_stall_s=10.0) as srv:
        yield srv


def read_ok(url: str, kind: str, n: int = 1) -> list[np.ndarray]:
    with open_stream(url, kind, connect_timeout_s=2.0, read_timeout_s=3.0) as r:
        return [r.read() for _ in range(n)]


@pytest.mark.parametrize("kind", ["snapshot", "mjpeg"])
def test_http_protocols_end_to_end(server: SimServer, kind: str) -> None:
    frames = read_ok(server.url("ok-1", kind), kind, n=3)
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    # the decoded image is the simulator's frame (up to JPEG loss)
    ref = server.cams["ok-1"].cam
    with requests.get(server.url("ok-1", "snapshot"), timeout=3) as resp:
        t = float(resp.headers["X-Pantau-Sim-T"])
        img = decode_jpeg(resp.content)
    expected = ref.render(t)[0]
    other = server.cams["ok-2"].cam.render(t)[0]
    err = np.abs(cv2.blur(img, (5, 5)).astype(int) - cv2.blur(expected, (5, 5)).astype(int)).mean()
    assert err < 4
    assert err < 0.3 * np.abs(cv2.blur(img, (5, 5)).astype(int) - cv2.blur(other, (5, 5)).astype(int)).mean()


def test_mjpeg_gives_consecutive_frames_and_timings(server: SimServer) -> None:
    with open_stream(server.url("ok-2", "mjpeg"), "mjpeg", connect_timeout_s=2, read_timeout_s=3) as r:
        a = r.read()
        b = r.read()
        assert r.frames_read == 2
        assert r.last_fetch_ms >= 0 and r.last_decode_ms > 0
    assert not np.array_equal(a, b)  # the scene moves between frames


CASES = [
    # (camera, fault kwargs, reader kind, expected reason)
    ("f-stop", {"kind": "stop"}, "snapshot", "offline"),
    ("f-stop", {"kind": "stop"}, "mjpeg", "offline"),
    ("f-stall", {"kind": "stall"}, "snapshot", "timeout"),
    ("f-stall", {"kind": "stall"}, "mjpeg", "timeout"),
    ("f-garbage", {"kind": "garbage"}, "snapshot", "decode_error"),
    ("f-garbage", {"kind": "garbage"}, "mjpeg", "decode_error"),
    ("f-404", {"kind": "http_error", "status": 404}, "snapshot", "http_error"),
    ("f-404", {"kind": "http_error", "status": 404}, "mjpeg", "http_error"),
    ("f-500", {"kind": "http_error", "status": 500}, "snapshot", "http_error"),
    ("f-500", {"kind": "http_error", "status": 500}, "mjpeg", "http_error"),
    ("f-slow", {"kind": "slow", "delay_s": 2.0}, "snapshot", "timeout"),
    ("f-slow", {"kind": "slow", "delay_s": 2.0}, "mjpeg", "timeout"),
]


@pytest.mark.parametrize(("cam_id", "fault", "kind", "reason"), CASES)
def test_fault_gives_reason_then_recovers(server: SimServer, cam_id: str, fault: dict, kind: str, reason: str) -> None:
    reader = open_stream(server.url(cam_id, kind), kind, connect_timeout_s=1.0, read_timeout_s=0.8)
    try:
        server.set_fault(cam_id, **fault)
        t0 = time.monotonic()
        with pytest.raises(StreamError) as err:
            reader.read()
        assert err.value.reason == reason, str(err.value)
        assert time.monotonic() - t0 < 2 * 0.8 + 1.0  # bounded: never hangs
        if reason == "http_error":
            assert err.value.status == fault["status"]
        assert cam_id in err.value.url
    finally:
        server.clear_fault(cam_id)
    frame = reader.read()  # the same reader reconnects once the fault clears
    assert frame.shape == (H, W, 3)
    reader.close()


@pytest.mark.parametrize("kind", ["snapshot", "mjpeg"])
def test_slow_but_within_timeout_succeeds(server: SimServer, kind: str) -> None:
    server.set_fault("f-slow", "slow", delay_s=0.3)
    try:
        with open_stream(server.url("f-slow", kind), kind, connect_timeout_s=1, read_timeout_s=2.0) as r:
            t0 = time.monotonic()
            assert r.read().shape == (H, W, 3)
            assert time.monotonic() - t0 >= 0.3
    finally:
        server.clear_fault("f-slow")


def test_stop_mid_stream_gives_eof_then_reconnects(server: SimServer) -> None:
    r = open_stream(server.url("f-midstop", "mjpeg"), "mjpeg", connect_timeout_s=1, read_timeout_s=2)
    r.read()
    server.set_fault("f-midstop", "stop")
    try:
        with pytest.raises(StreamError) as err:
            for _ in range(100):  # frames already in flight may still arrive
                r.read()
        assert err.value.reason in ("eof", "offline")
        with pytest.raises(StreamError) as err2:
            r.read()  # reconnect while the camera is down
        assert err2.value.reason == "offline"
    finally:
        server.clear_fault("f-midstop")
    assert r.read().shape == (H, W, 3)
    r.close()


@pytest.mark.parametrize("kind", ["snapshot", "mjpeg"])
def test_frozen_image_repeats(server: SimServer, kind: str) -> None:
    server.set_fault("f-frozen", "frozen")
    try:
        with open_stream(server.url("f-frozen", kind), kind, connect_timeout_s=1, read_timeout_s=2) as r:
            a = r.read()
            time.sleep(0.25)
            b = r.read()
        assert np.array_equal(a, b)
    finally:
        server.clear_fault("f-frozen")
    with open_stream(server.url("f-frozen", kind), kind, connect_timeout_s=1, read_timeout_s=2) as r:
        c = r.read()
        time.sleep(0.25)
        d = r.read()
    assert not np.array_equal(c, d)


def test_fault_api_over_http(server: SimServer) -> None:
    base = f"{server.base_url}/cam/f-http/fault"
    assert requests.post(base, json={"kind": "http_error", "status": 404}, timeout=3).status_code == 200
    assert requests.get(base, timeout=3).json()["status"] == 404
    assert requests.get(server.url("f-http", "snapshot"), timeout=3).status_code == 404
    assert requests.post(base, json={"kind": "nonsense"}, timeout=3).status_code == 400
    assert requests.delete(base, timeout=3).status_code == 200
    assert requests.get(base, timeout=3).json() is None
    assert requests.get(server.url("f-http", "snapshot"), timeout=3).status_code == 200


def test_truth_json_and_listing(server: SimServer) -> None:
    truth = requests.get(server.url("ok-1", "truth"), params={"t": 12.0}, timeout=3).json()
    assert truth["camera_id"] == "ok-1" and truth["t"] == 12.0
    assert truth["persons"] == server.cams["ok-1"].cam.truth_at(12.0).persons
    listing = requests.get(f"{server.base_url}/cameras", timeout=3).json()
    assert {c["camera_id"] for c in listing} == set(CAMS)
    assert requests.get(f"{server.base_url}/cam/nope/snapshot.jpg", timeout=3).status_code == 404
    with pytest.raises(ValueError):
        server.url("ok-1", "hls")  # HLS not enabled for this camera


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["snapshot", "mjpeg", "hls"])
def test_nothing_listening_is_offline(kind: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/cam/x/{'index.m3u8' if kind == 'hls' else 'x'}"
    with open_stream(url, kind, connect_timeout_s=1, read_timeout_s=1) as r, pytest.raises(StreamError) as err:
        r.read()
    assert err.value.reason == "offline"


class _WrongType(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>camera login</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("kind", ["snapshot", "mjpeg"])
def test_html_instead_of_image_is_decode_error(kind: str) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _WrongType)
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    try:
        with open_stream(f"http://127.0.0.1:{httpd.server_address[1]}/", kind) as r, pytest.raises(StreamError) as err:
            r.read()
        assert err.value.reason == "decode_error"
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------- files


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    cam = SimCamera("vid", seed=1, width=W, height=H, fps=10.0)
    path = tmp_path / "clip.avi"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (W, H))
    for k in range(12):
        vw.write(cam.render(k / 10.0)[0])
    vw.release()
    return path


def test_file_video_reads_to_eof(video_file: Path) -> None:
    with open_stream(str(video_file), "file") as r:
        frames = [r.read() for _ in range(12)]
        with pytest.raises(StreamError) as err:
            r.read()
    assert err.value.reason == "eof"
    assert all(f.shape == (H, W, 3) for f in frames)


def test_file_video_loops(video_file: Path) -> None:
    with open_stream(f"file://{video_file}", "file", loop=True) as r:
        frames = [r.read() for _ in range(30)]
    assert len(frames) == 30


def test_image_folder(tmp_path: Path) -> None:
    cam = SimCamera("img", seed=2, width=W, height=H)
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"{k:03d}.jpg"), cam.render(k)[0])
    (tmp_path / "notes.txt").write_text("ignored")
    with open_stream(str(tmp_path), "file") as r:
        assert [r.read().shape for _ in range(3)] == [(H, W, 3)] * 3
        with pytest.raises(StreamError) as err:
            r.read()
        assert err.value.reason == "eof"
    (tmp_path / "004.jpg").write_bytes(b"not a jpeg")
    with open_stream(str(tmp_path), "file") as r:
        for _ in range(3):
            r.read()
        with pytest.raises(StreamError) as err:
            r.read()
        assert err.value.reason == "decode_error"


@pytest.mark.parametrize(
    ("name", "content", "reason"), [("missing.mp4", None, "offline"), ("bad.mp4", b"xx", "decode_error")]
)
def test_file_errors(tmp_path: Path, name: str, content: bytes | None, reason: str) -> None:
    p = tmp_path / name
    if content is not None:
        p.write_bytes(content)
    with open_stream(str(p), "file") as r, pytest.raises(StreamError) as err:
        r.read()
    assert err.value.reason == reason


def test_open_stream_validates_kind_and_closed_reader() -> None:
    assert set(STREAM_KINDS) == {"hls", "rtsp", "mjpeg", "snapshot", "file"}
    with pytest.raises(ValueError):
        open_stream("http://x", "webrtc")
    r = open_stream("http://127.0.0.1:9/", "snapshot")
    r.close()
    r.close()
    with pytest.raises(StreamError):
        r.read()
    with pytest.raises(ValueError):
        StreamError("weird", "x")


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("attempt", "nominal"),
    [(0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 32.0), (7, 60.0), (50, 60.0), (10_000, 60.0)],
)
def test_backoff_table(attempt: int, nominal: float) -> None:
    b = Backoff(base_s=1.0, max_s=60.0, jitter=0.25, seed=1)
    assert b.nominal(attempt) == nominal
    for _ in range(50):
        d = b.delay(attempt)
        assert nominal * 0.75 - 1e-9 <= d <= min(60.0, nominal * 1.25) + 1e-9


def test_backoff_failure_success_cycle() -> None:
    b = Backoff(base_s=0.5, max_s=4.0, jitter=0.0)
    assert [b.failure() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert b.attempts == 6
    b.success()
    assert b.attempts == 0 and b.failure() == 0.5
    jittered = Backoff(base_s=1.0, max_s=60.0, jitter=0.5, seed=3)
    assert len({round(jittered.delay(3), 6) for _ in range(20)}) > 1  # jitter spreads reconnects


@pytest.mark.parametrize("kw", [{"base_s": 0}, {"base_s": 5, "max_s": 1}, {"jitter": 1.0}, {"factor": 0.5}])
def test_backoff_rejects_bad_params(kw: dict) -> None:
    with pytest.raises(ValueError):
        Backoff(**kw)


def test_sampler_interval_phase_and_no_burst() -> None:
    s = Sampler(10.0)
    ids = [f"cam-{i}" for i in range(50)]
    first = [s.next_due(c, now=0.0) for c in ids]
    assert all(0.0 <= f < 10.0 for f in first)
    assert len({round(f, 3) for f in first}) > 40  # spread over the interval
    c = ids[0]
    due0 = s.next_due(c)
    assert not s.due(c, due0 - 0.01) and s.due(c, due0)
    assert s.mark(c, due0) == pytest.approx(due0 + 10.0)
    assert s.mark(c, due0 + 95.0) == pytest.approx(due0 + 105.0)  # after a stall: no burst of missed samples
    assert s.delay_until_due(c, due0 + 100.0) == pytest.approx(5.0)
    with pytest.raises(ValueError):
        Sampler(0.0)


def test_parse_m3u8_media_and_master() -> None:
    media = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:2.0,\nseg41.ts\n#EXTINF:1.5,\nseg42.ts\n"
    )
    pl = parse_m3u8(media, "http://h/cam/1/index.m3u8")
    assert pl.segments == [(41, 2.0, "http://h/cam/1/seg41.ts"), (42, 1.5, "http://h/cam/1/seg42.ts")]
    assert not pl.ended and pl.target_duration_s == 2.0
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n"
    assert parse_m3u8(master, "http://h/a/master.m3u8").variants == ["http://h/a/low/index.m3u8"]
    assert parse_m3u8(media + "#EXT-X-ENDLIST\n", "http://h/").ended
    with pytest.raises(ValueError):
        parse_m3u8("<html>", "http://h/")


def _encoded(w: int, h: int, ext: str = ".jpg") -> bytes:
    img = np.random.default_rng(w * h).integers(0, 256, (h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize(
    ("size", "ext", "min_size", "decoded"),
    [
        ((640, 360), ".jpg", None, (640, 360)),
        ((640, 360), ".jpg", (640, 360), (640, 360)),
        ((640, 360), ".jpg", (320, 180), (320, 180)),
        ((1280, 720), ".jpg", (640, 360), (640, 360)),
        ((1280, 720), ".jpg", (320, 180), (320, 180)),
        ((1920, 1080), ".jpg", (640, 360), (960, 540)),
        ((2560, 1440), ".jpg", (320, 180), (320, 180)),
        ((641, 361), ".jpg", (320, 180), (321, 181)),  # libjpeg rounds a reduced side up
        ((637, 357), ".jpg", (320, 180), (637, 357)),  # a half would be under the minimum: full size
        ((640, 360), ".png", (320, 180), (640, 360)),  # not a JPEG: full size
    ],
)
def test_decode_jpeg_reduced_size(
    size: tuple[int, int], ext: str, min_size: tuple[int, int] | None, decoded: tuple[int, int]
) -> None:
    data = _encoded(*size, ext)
    assert jpeg_size(data) == (size if ext == ".jpg" else None)
    img = decode_jpeg(data, min_size=min_size)
    assert (img.shape[1], img.shape[0]) == decoded and img.dtype == np.uint8


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x02", b"GIF89a....", b"\xff\xd8\x00\x00"])
def test_jpeg_size_without_a_frame_header(data: bytes) -> None:
    assert jpeg_size(data) is None


@pytest.mark.parametrize("kind", ["snapshot", "mjpeg"])
def test_readers_keep_the_encoded_frame(server: SimServer, kind: str) -> None:
    with open_stream(server.url("ok-1", kind), kind, connect_timeout_s=2.0, read_timeout_s=3.0) as r:
        r.decode_min_size = (W // 2, H // 2)
        img = r.read()
        assert img.shape == (H // 2, W // 2, 3)
        assert r.last_source_size == (W, H)
        assert r.last_encoded is not None and decode_jpeg(r.last_encoded).shape == (H, W, 3)
