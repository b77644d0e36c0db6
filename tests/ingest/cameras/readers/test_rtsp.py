"""RTSP end to end on loopback: ffmpeg RTP encoder + the simulator's RTSP server, read with the OpenCV reader."""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest

from ingest.cameras.readers import StreamError, open_stream, rtsp_describe
from simulate.scene import SimCamera
from simulate.servers import SimServer

pytestmark = pytest.mark.slow

W, H = 320, 180


@pytest.fixture(scope="module")
def rtsp_server() -> Iterator[SimServer]:
    cams = [SimCamera(c, seed=i, width=W, height=H, fps=10.0) for i, c in enumerate(["r-ok", "r-fault"])]
    srv = SimServer(cams, rtsp=True, max_stall_s=10.0).start()
    yield srv
    pids = srv.ffmpeg_pids()
    assert len(pids) == 2
    srv.stop()
    for pid in pids:
        with pytest.raises(OSError):
            os.kill(pid, 0)


def test_rtsp_end_to_end(rtsp_server: SimServer) -> None:
    url = rtsp_server.url("r-ok", "rtsp")
    assert url.startswith("rtsp://127.0.0.1:")
    assert rtsp_describe(url, 2.0) == 200
    with open_stream(url, "rtsp", connect_timeout_s=5, read_timeout_s=3) as r:
        frames = [r.read() for _ in range(5)]
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    assert any(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    ref = rtsp_server.cams["r-ok"].cam.render(1.0)[0].astype(float)
    assert np.abs(frames[0][: H // 5].astype(float).mean(axis=(0, 1)) - ref[: H // 5].mean(axis=(0, 1))).max() < 25


def test_rtsp_unknown_path_is_http_error(rtsp_server: SimServer) -> None:
    url = f"rtsp://127.0.0.1:{rtsp_server.rtsp_port}/cam/nope"
    with open_stream(url, "rtsp", connect_timeout_s=2, read_timeout_s=2) as r, pytest.raises(StreamError) as err:
        r.read()
    assert (err.value.reason, err.value.status) == ("http_error", 404)


@pytest.mark.parametrize(
    ("fault", "running", "fresh"),
    [
        ({"kind": "stall"}, "timeout", "timeout"),
        ({"kind": "stop"}, "eof", "offline"),
        ({"kind": "http_error", "status": 404}, None, "http_error"),
    ],
)
def test_rtsp_faults_then_recovery(rtsp_server: SimServer, fault: dict, running: str | None, fresh: str) -> None:
    url = rtsp_server.url("r-fault", "rtsp")
    r = open_stream(url, "rtsp", connect_timeout_s=3, read_timeout_s=1.5)
    r.read()
    rtsp_server.set_fault("r-fault", **fault)
    try:
        if running is not None:  # an open session notices the fault
            t0 = time.monotonic()
            with pytest.raises(StreamError) as err:
                for _ in range(50):
                    r.read()
            assert err.value.reason == running
            assert time.monotonic() - t0 < 5
        with (
            open_stream(url, "rtsp", connect_timeout_s=1.5, read_timeout_s=1.5) as fresh_reader,
            pytest.raises(StreamError) as err2,
        ):
            fresh_reader.read()
        assert err2.value.reason == fresh
    finally:
        rtsp_server.clear_fault("r-fault")
    assert r.read().shape == (H, W, 3)  # reconnects after the fault clears
    r.close()


def test_rtsp_nothing_listening_is_offline() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        open_stream(f"rtsp://127.0.0.1:{port}/x", "rtsp", connect_timeout_s=1, read_timeout_s=1) as r,
        pytest.raises(StreamError) as err,
    ):
        r.read()
    assert err.value.reason == "offline"
