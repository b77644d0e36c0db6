"""SimServer: URLs, specs, fault validation, frame cache, truth alignment, shutdown."""

from __future__ import annotations

import pytest
import requests

from simulate.scenario import demo_scenario
from simulate.scene import SimCamera
from simulate.servers import FAULT_KINDS, ServerFault, SimServer


def test_urls_and_validation() -> None:
    srv = SimServer([SimCamera("a b/c", width=160, height=90)], port=0)
    with srv:
        assert srv.port > 0
        assert srv.url("a b/c", "snapshot").endswith("/cam/a%20b%2Fc/snapshot.jpg")
        with pytest.raises(KeyError):
            srv.url("missing", "mjpeg")
        with pytest.raises(ValueError):
            srv.url("a b/c", "webrtc")
        with pytest.raises(ValueError):
            srv.url("a b/c", "rtsp")
        resp = requests.get(srv.url("a b/c", "snapshot"), timeout=3)
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/jpeg"
        assert resp.content[:2] == b"\xff\xd8"
        t = float(resp.headers["X-Pantau-Sim-T"])
        assert int(resp.headers["X-Pantau-Frame"]) == srv.cams["a b/c"].cam.frame_index(t)
        with pytest.raises(ValueError):
            srv.add_camera(SimCamera("a b/c"))
    srv.stop()  # idempotent


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault_kinds_accepted(kind: str) -> None:
    assert ServerFault(kind).kind == kind


@pytest.mark.parametrize("kw", [{"kind": "explode"}, {"kind": "http_error", "status": 99}])
def test_bad_faults_rejected(kw: dict) -> None:
    with pytest.raises(ValueError):
        ServerFault(**kw)


def test_frame_cache_one_encode_per_frame_and_manual_clock() -> None:
    now = [100.0]
    srv = SimServer([SimCamera("c", width=160, height=90, fps=10.0)], clock=lambda: now[0])
    with srv:
        st = srv.cams["c"]
        a, ta = srv.jpeg(st)
        b, _ = srv.jpeg(st)
        assert a is b  # cached
        now[0] += 0.5
        c, tc = srv.jpeg(st)
        assert tc.frame_index == ta.frame_index + 5 and c != a
        srv.set_fault("c", "frozen")
        now[0] += 3.0
        d, td = srv.jpeg(st)
        assert td.frame_index == tc.frame_index and d == c


def test_from_specs_enables_hls_only_for_hls_specs() -> None:
    specs = demo_scenario(9, seed=1, hls_cameras=1)
    srv = SimServer.from_specs(specs, width=160, height=90, fps=5.0)
    hls = [s.camera_id for s in specs if s.kind == "hls"]
    assert len(hls) == 1
    assert srv.url(hls[0], "hls").endswith("/hls/index.m3u8")
    other = next(s.camera_id for s in specs if s.kind != "hls")
    with pytest.raises(ValueError):
        srv.url(other, "hls")
    assert len(srv.cams) == 9


def test_demo_server_rows_are_readable_through_their_protocol() -> None:
    from ingest.cameras.readers import open_stream
    from simulate.serve import camera_rows, start_demo_server

    srv, specs = start_demo_server(8, seed=2, hls_cameras=0, width=160, height=90, fps=5.0)
    try:
        rows = camera_rows(srv, specs)
        assert [r["camera_id"] for r in rows] == [s.camera_id for s in specs]
        assert {r["stream_kind"] for r in rows} <= {"mjpeg", "snapshot"}
        for r in rows:
            with open_stream(r["stream_url"], r["stream_kind"], connect_timeout_s=2, read_timeout_s=3) as reader:
                assert reader.read().shape == (90, 160, 3)
            truth = requests.get(r["truth_url"], params={"t": 59.0}, timeout=3).json()
            if r["role"] == "flood":
                assert truth["flood_depth_class"] == 4
            if r["role"] == "fault:moved":
                assert truth["fault"] == "moved"
    finally:
        srv.stop()


def test_wait_ready_returns_once_hls_streams_and_names_cameras_that_do_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with SimServer([SimCamera("cam-h", seed=1, width=160, height=90)], hls=["cam-h"]) as srv:
        srv.wait_ready(timeout_s=60)
        assert requests.get(srv.url("cam-h", "hls"), timeout=5).status_code == 200  # playable at once
        srv.cams["cam-h"].hls_dir = tmp_path / "never-written"
        with pytest.raises(RuntimeError, match="cam-h"):
            srv.wait_ready(timeout_s=0.3)
