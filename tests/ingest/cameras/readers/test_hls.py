"""HLS end to end: SimServer pipes frames to a real FFmpeg HLS muxer; the reader polls playlist and segments."""

from __future__ import annotations

import functools
import itertools
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ingest.cameras.readers import HlsReader, StreamError, open_stream
from simulate.scene import SimCamera
from simulate.servers import SimServer, ffmpeg_exe

pytestmark = pytest.mark.slow

W, H = 320, 180


@pytest.fixture(scope="module")
def hls_server() -> Iterator[SimServer]:
    cams = [SimCamera(c, seed=i, width=W, height=H, fps=10.0) for i, c in enumerate(["h-ok", "h-fault"])]
    srv = SimServer(cams, hls=True, segment_s=1.0, max_stall_s=10.0).start()
    assert srv.wait_hls_ready(30.0), "ffmpeg produced no HLS segment"
    yield srv
    pids = srv.hls_pids()
    srv.stop()
    for pid in pids:  # clean shutdown: no ffmpeg left behind
        with pytest.raises(OSError):
            os.kill(pid, 0)


def test_hls_end_to_end_consecutive_frames(hls_server: SimServer) -> None:
    with open_stream(hls_server.url("h-ok", "hls"), "hls", connect_timeout_s=2, read_timeout_s=5) as r:
        assert isinstance(r, HlsReader)
        frames = [r.read() for _ in range(15)]  # crosses at least one segment boundary (10 frames per segment)
        assert r.segments_fetched >= 2
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    assert any(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    # the picture is the simulator's scene (H.264 at ultrafast: compare blurred)
    ref = hls_server.cams["h-ok"].cam.render(1.0)[0].astype(float)
    sky = frames[0][: H // 5].astype(float).mean(axis=(0, 1))
    assert np.abs(sky - ref[: H // 5].mean(axis=(0, 1))).max() < 25


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"kind": "stop"}, "offline"),
        ({"kind": "stall"}, "timeout"),
        ({"kind": "garbage"}, "decode_error"),
        ({"kind": "http_error", "status": 404}, "http_error"),
        ({"kind": "slow", "delay_s": 3.0}, "timeout"),
    ],
)
def test_hls_faults_then_recovery(hls_server: SimServer, fault: dict, reason: str) -> None:
    r = open_stream(hls_server.url("h-fault", "hls"), "hls", connect_timeout_s=1, read_timeout_s=2.0)
    r.read()
    hls_server.set_fault("h-fault", **fault)
    try:
        with pytest.raises(StreamError) as err:
            for _ in range(40):  # frames of the already downloaded segment come first
                r.read()
        assert err.value.reason == reason, str(err.value)
    finally:
        hls_server.clear_fault("h-fault")
    assert r.read().shape == (H, W, 3)
    r.close()


def test_hls_vod_playlist_ends_with_eof(tmp_path: Path) -> None:
    out = tmp_path / "vod"
    out.mkdir()
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10",
           "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-f", "hls", "-hls_time", "1",
           "-hls_playlist_type", "vod", str(out / "index.m3u8")]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=60)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/index.m3u8"
        with open_stream(url, "hls", connect_timeout_s=2, read_timeout_s=3) as r:
            n = 0
            with pytest.raises(StreamError) as err:
                while n < 100:
                    r.read()
                    n += 1
        assert err.value.reason == "eof"
        assert n == 20  # 2 s at 10 fps, from the first segment to the last
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_playlist_that_stops_advancing_times_out(hls_server: SimServer, tmp_path: Path) -> None:
    st = hls_server.cams["h-ok"]
    assert st.hls_dir is not None
    live = (st.hls_dir / "index.m3u8").read_text()
    (tmp_path / "index.m3u8").write_text(live.replace("seg_", f"{hls_server.base_url}/cam/h-ok/hls/seg_"))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/index.m3u8"
        with open_stream(url, "hls", connect_timeout_s=1, read_timeout_s=1.5) as r:
            t0 = time.monotonic()
            with pytest.raises(StreamError) as err:
                for _ in range(40):
                    r.read()
        assert err.value.reason in ("timeout", "http_error")  # frozen playlist, or its oldest segment deleted
        assert time.monotonic() - t0 < 10
    finally:
        httpd.shutdown()
        httpd.server_close()
