"""Loopback camera servers for simulated cameras: MJPEG, JPEG snapshots, HLS (real FFmpeg), truth JSON, faults.

API::

    from simulate.scene import SimCamera
    from simulate.servers import SimServer

    with SimServer([SimCamera("cam-1", seed=1)], hls=["cam-1"]) as srv:   # port 0 = a free port on 127.0.0.1
        srv.url("cam-1", "snapshot")   # http://127.0.0.1:PORT/cam/cam-1/snapshot.jpg
        srv.url("cam-1", "mjpeg")      # http://127.0.0.1:PORT/cam/cam-1/mjpeg    multipart/x-mixed-replace
        srv.url("cam-1", "hls")        # http://127.0.0.1:PORT/cam/cam-1/hls/index.m3u8  (only cameras in ``hls``)
        srv.url("cam-1", "truth")      # http://127.0.0.1:PORT/cam/cam-1/truth   JSON GroundTruth; ?t=SECONDS
        srv.set_fault("cam-1", "stall")   # or via HTTP: POST /cam/cam-1/fault {"kind": "stall", ...}
        srv.clear_fault("cam-1")          # DELETE /cam/cam-1/fault
        srv.sim_time()                 # seconds of simulated time since start (the camera clock)

Every image response carries ``X-Pantau-Sim-T`` (the simulated time rendered) and ``X-Pantau-Frame`` (frame
index), also as headers of each MJPEG part, so an evaluator can fetch the matching truth (``/truth?t=``).
``GET /cameras`` lists the cameras with their URLs.

Faults (``FAULT_KINDS``), per camera, until cleared:

* ``stop``: the camera goes away: open MJPEG streams are cut mid-stream and new connections are closed without a
  response (reader: ``eof`` for a cut stream, ``offline`` for new requests).
* ``stall``: headers are sent, then no bytes until the fault clears (reader: ``timeout``).
* ``garbage``: 200 responses whose image/segment/playlist bytes are random (reader: ``decode_error``).
* ``http_error``: status ``status`` (default 500; e.g. 404) (reader: ``http_error``).
* ``slow``: every response, and every MJPEG part, is delayed by ``delay_s`` (default 2 s).
* ``frozen``: the image of the moment the fault began is served again and again (reader: frames; health: frozen).

HLS: per HLS camera a feeder thread renders frames in real time and pipes raw BGR frames to an ``ffmpeg`` process
(the binary of ``imageio_ffmpeg``: libx264 ultrafast, ``-f hls``, ``segment_s`` segments, a 6-segment sliding
live playlist, atomic segment writes); the server serves the playlist and ``.ts`` files from a temp folder.
``stop()`` closes the pipes, terminates (then kills) every ffmpeg process and removes the folder.

RTSP (``rtsp=[ids]`` or ``True``): ``srv.url(cam, "rtsp")`` = ``rtsp://127.0.0.1:RTSP_PORT/cam/<id>``. FFmpeg
cannot be a camera-like RTSP *server* (``-rtsp_flags listen`` only makes its demuxer accept a pushed stream), so
``simulate.rtsp`` pairs an ffmpeg RTP encoder per camera (H.264, ``-f rtp`` to a loopback UDP port, SDP with
``sprop-parameter-sets``) with a small Python RTSP server (TCP-interleaved RTP only) relaying the packets. Faults
apply to RTSP too (``stop`` cuts sessions, ``stall`` stops the packets, ``http_error`` answers DESCRIBE with the
status, ``slow`` delays responses, ``garbage`` scrambles payloads, ``frozen`` repeats the image).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

import numpy as np

from simulate.rtsp import RtpRelay, RtspServer
from simulate.scene import GroundTruth, SimCamera

log = logging.getLogger(__name__)

FAULT_KINDS: tuple[str, ...] = ("stop", "stall", "garbage", "http_error", "slow", "frozen")
URL_KINDS: tuple[str, ...] = ("snapshot", "mjpeg", "hls", "truth")
BOUNDARY = "pantauframe"


@dataclass
class ServerFault:
    kind: str
    status: int = 500
    delay_s: float = 2.0
    since: float = 0.0  # sim time when set (frozen image time)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")


@dataclass
class _CamState:
    cam: SimCamera
    fault: ServerFault | None = None
    generation: int = 0  # bumped on every fault change; streams compare it to notice a cut
    cache: tuple[int, bytes, GroundTruth] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    hls_dir: Path | None = None
    encoders: list[tuple[subprocess.Popen[bytes], threading.Thread]] = field(default_factory=list)
    served: int = 0


def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary shipped by ``imageio-ffmpeg``."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sim http %s - %s", self.address_string(), format % args)

    # ------------------------------------------------------------------ plumbing
    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

    def _drop(self) -> None:
        """Close the socket without any response (connection reset for the client)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stall(self, st: _CamState, ctype: str) -> None:
        gen = st.generation
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + self.server.sim.max_stall_s
        while st.generation == gen and not self.server.sim.stopping.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _route(self) -> tuple[str, _CamState | None, str]:
        parts = [unquote(p) for p in urlparse(self.path).path.split("/") if p]
        if len(parts) >= 3 and parts[0] == "cam":
            st = self.server.sim.cams.get(parts[1])
            return "/".join(parts[2:]), st, parts[1]
        return "/".join(parts), None, ""

    def _pre_fault(self, st: _CamState, ctype: str) -> bool:
        """Apply the fault before a response; True when the request has been fully handled."""
        f = st.fault
        if f is None:
            return False
        if f.kind == "stop":
            self._drop()
            return True
        if f.kind == "http_error":
            self._send(f.status, f"simulated HTTP {f.status}".encode(), "text/plain")
            return True
        if f.kind == "stall":
            self._stall(st, ctype)
            return True
        if f.kind == "slow":
            time.sleep(f.delay_s)
        return False

    # ------------------------------------------------------------------ verbs
    def do_GET(self) -> None:
        sim = self.server.sim
        rest, st, cam_id = self._route()
        query = parse_qs(urlparse(self.path).query)
        try:
            if st is None:
                if rest == "cameras":
                    self._json(200, [sim.describe(c) for c in sim.cams])
                elif rest == "health":
                    self._json(200, {"ok": True, "sim_time": sim.sim_time()})
                else:
                    self._send(404, b"not found", "text/plain")
                return
            if rest == "truth":
                t = float(query["t"][0]) if "t" in query else sim.sim_time()
                self._json(200, st.cam.truth_at(t).to_dict())
                return
            if rest == "fault":
                f = st.fault
                self._json(200, None if f is None else {"kind": f.kind, "status": f.status, "delay_s": f.delay_s})
                return
            if rest == "snapshot.jpg":
                self._snapshot(st)
            elif rest == "mjpeg":
                self._mjpeg(st, query)
            elif rest.startswith("hls/"):
                self._hls(st, rest[4:])
            else:
                self._send(404, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            log.debug("client of %s went away", cam_id)

    def do_POST(self) -> None:
        rest, st, cam_id = self._route()
        if st is None or rest != "fault":
            self._send(404, b"not found", "text/plain")
            return
        n = int(self.headers.get("Content-Length") or 0)
        try:
            spec = json.loads(self.rfile.read(n) or b"{}")
            self.server.sim.set_fault(cam_id, **spec)
        except (ValueError, TypeError) as exc:
            self._send(400, str(exc).encode(), "text/plain")
            return
        self._json(200, {"ok": True})

    def do_DELETE(self) -> None:
        rest, st, cam_id = self._route()
        if st is None or rest != "fault":
            self._send(404, b"not found", "text/plain")
            return
        self.server.sim.clear_fault(cam_id)
        self._json(200, {"ok": True})

    # ------------------------------------------------------------------ protocols
    def _image(self, st: _CamState) -> tuple[bytes, GroundTruth]:
        f = st.fault
        if f is not None and f.kind == "garbage":
            rng = np.random.default_rng()
            data = rng.integers(0, 256, size=4096, dtype=np.uint8).tobytes()
            return data, st.cam.truth_at(self.server.sim.sim_time())
        return self.server.sim.jpeg(st)

    def _snapshot(self, st: _CamState) -> None:
        if self._pre_fault(st, "image/jpeg"):
            return
        data, truth = self._image(st)
        st.served += 1
        self._send(
            200, data, "image/jpeg", {"X-Pantau-Sim-T": f"{truth.t:.3f}", "X-Pantau-Frame": str(truth.frame_index)}
        )

    def _mjpeg(self, st: _CamState, query: dict[str, list[str]]) -> None:
        sim = self.server.sim
        ctype = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        if self._pre_fault(st, ctype):
            return
        fps = float(query.get("fps", [st.cam.fps])[0])
        period = 1.0 / max(0.1, min(fps, 120.0))
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        next_t = time.monotonic()
        while not sim.stopping.is_set():
            f = st.fault
            if f is not None:
                if f.kind == "stop":
                    return  # cut mid-stream: the socket is closed (FIN) without a closing boundary
                if f.kind == "stall":
                    while st.fault is f and not sim.stopping.is_set():
                        time.sleep(0.05)
                    continue
                if f.kind == "http_error":
                    return  # stream ends; the next connect sees the status
                if f.kind == "slow":
                    time.sleep(f.delay_s)
            data, truth = self._image(st)
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n"
                f"X-Pantau-Sim-T: {truth.t:.3f}\r\nX-Pantau-Frame: {truth.frame_index}\r\n\r\n"
            ).encode("latin-1")
            self.wfile.write(head + data + b"\r\n")
            self.wfile.flush()
            st.served += 1
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_t = time.monotonic()

    def _hls(self, st: _CamState, name: str) -> None:
        if st.hls_dir is None:
            self._send(404, b"HLS not enabled for this camera", "text/plain")
            return
        is_playlist = name.endswith(".m3u8")
        ctype = "application/vnd.apple.mpegurl" if is_playlist else "video/mp2t"
        if self._pre_fault(st, ctype):
            return
        if "/" in name or name.startswith(".") or not (is_playlist or name.endswith(".ts")):
            self._send(404, b"not found", "text/plain")
            return
        path = st.hls_dir / name
        try:
            data = path.read_bytes()
        except OSError:
            self._send(404, b"no such segment", "text/plain")
            return
        f = st.fault
        if f is not None and f.kind == "garbage":
            data = np.random.default_rng().integers(0, 256, size=max(1024, len(data)), dtype=np.uint8).tobytes()
            if is_playlist:
                data = b"\x00garbage" + data[:256]
        self._send(200, data, ctype)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], sim: SimServer) -> None:
        self.sim = sim
        super().__init__(addr, _Handler)


class SimServer:
    """Serves many ``SimCamera`` over loopback HTTP (MJPEG, snapshot, HLS, truth JSON) with fault injection."""

    def __init__(
        self,
        cameras: Iterable[SimCamera] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hls: Iterable[str] | bool = (),
        segment_s: float = 1.0,
        jpeg_quality: int = 80,
        clock: Callable[[], float] | None = None,
        max_stall_s: float = 120.0,
        rtsp: Iterable[str] | bool = (),
        rtsp_port: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.cams: dict[str, _CamState] = {}
        for cam in cameras:
            self.add_camera(cam)
        self._hls_ids = set(self.cams) if hls is True else (set() if hls is False else set(hls))
        self._rtsp_ids = set(self.cams) if rtsp is True else (set() if rtsp is False else set(rtsp))
        self.rtsp_port = int(rtsp_port)
        self._rtsp: RtspServer | None = None
        self._rtsp_thread: threading.Thread | None = None
        self.segment_s = float(segment_s)
        self.jpeg_quality = int(jpeg_quality)
        self._clock = clock or time.monotonic
        self._t0 = 0.0
        self.max_stall_s = float(max_stall_s)
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._hls_root: Path | None = None

    @classmethod
    def from_specs(
        cls, specs: Iterable[Any], *, width: int = 640, height: int = 360, fps: float = 10.0, **kw: Any
    ) -> SimServer:
        """A server for ``scenario.SimCameraSpec`` rows; HLS is enabled for the specs whose ``kind`` is ``hls``."""
        specs = list(specs)
        cams = [s.camera(width, height, fps) for s in specs]
        return cls(cams, hls=[s.camera_id for s in specs if s.kind == "hls"], **kw)

    def stream_url(self, camera_id: str, kind: str) -> str:
        """Alias of ``url`` for stream kinds (what goes into ``cameras.stream_url``)."""
        return self.url(camera_id, kind)

    # ------------------------------------------------------------------ lifecycle
    def add_camera(self, cam: SimCamera) -> None:
        if cam.camera_id in self.cams:
            raise ValueError(f"duplicate camera id {cam.camera_id!r}")
        self.cams[cam.camera_id] = _CamState(cam)

    def start(self) -> SimServer:
        if self._httpd is not None:
            return self
        self._t0 = self._clock()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sim-http", daemon=True)
        self._thread.start()
        if self._hls_ids or self._rtsp_ids:
            self._hls_root = Path(tempfile.mkdtemp(prefix="pantau-hls-"))
        for cam_id in sorted(self._hls_ids):
            self._start_hls(self.cams[cam_id])
        if self._rtsp_ids:
            self._start_rtsp()
        log.info("SimServer on %s with %d cameras (%d HLS)", self.base_url, len(self.cams), len(self._hls_ids))
        return self

    def stop(self) -> None:
        """Stop HTTP, close ffmpeg pipes, terminate/kill ffmpeg, remove HLS files. Idempotent."""
        self.stopping.set()
        if self._rtsp is not None:
            self._rtsp.stop()
            self._rtsp = None
        for st in self.cams.values():
            self._stop_encoders(st)
        if self._rtsp_thread is not None:
            self._rtsp_thread.join(timeout=5)
            self._rtsp_thread = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._hls_root is not None:
            shutil.rmtree(self._hls_root, ignore_errors=True)
            self._hls_root = None

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Block until every HLS camera has its first playlist (ffmpeg writes it after the first segment).

        A city's cameras are streaming before capture starts; without this, the first seconds of an HLS
        simulator camera read as ``offline`` and raise a camera-fault alert for the simulator's own warm-up.
        """
        deadline = time.monotonic() + timeout_s
        waiting = [st for st in self.cams.values() if st.hls_dir is not None]
        while waiting:
            waiting = [st for st in waiting if not (st.hls_dir / "index.m3u8").exists()]  # type: ignore[operator]
            if not waiting:
                return
            if time.monotonic() > deadline:
                ids = ", ".join(st.cam.camera_id for st in waiting)
                raise RuntimeError(f"simulated HLS cameras not streaming after {timeout_s:.0f} s: {ids}")
            time.sleep(0.1)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ clock, urls, faults
    def sim_time(self) -> float:
        return max(0.0, self._clock() - self._t0)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, camera_id: str, kind: str) -> str:
        if camera_id not in self.cams:
            raise KeyError(camera_id)
        cid = quote(camera_id, safe="")
        paths = {"snapshot": "snapshot.jpg", "mjpeg": "mjpeg", "hls": "hls/index.m3u8", "truth": "truth"}
        if kind == "rtsp":
            if camera_id not in self._rtsp_ids:
                raise ValueError(f"RTSP is not enabled for {camera_id!r}")
            return f"rtsp://{self.host}:{self.rtsp_port}/cam/{cid}"
        if kind not in paths:
            raise ValueError(f"unknown url kind {kind!r}; expected one of {URL_KINDS}")
        if kind == "hls" and camera_id not in self._hls_ids:
            raise ValueError(f"HLS is not enabled for {camera_id!r}")
        return f"{self.base_url}/cam/{cid}/{paths[kind]}"

    def describe(self, camera_id: str) -> dict[str, Any]:
        kinds = ["snapshot", "mjpeg", "truth"] + (["hls"] if camera_id in self._hls_ids else [])
        kinds += ["rtsp"] if camera_id in self._rtsp_ids else []
        cam = self.cams[camera_id].cam
        return {
            "camera_id": camera_id,
            "width": cam.width,
            "height": cam.height,
            "fps": cam.fps,
            "urls": {k: self.url(camera_id, k) for k in kinds},
        }

    def set_fault(self, camera_id: str, kind: str, *, status: int = 500, delay_s: float = 2.0) -> None:
        st = self.cams[camera_id]
        st.fault = ServerFault(kind, status=int(status), delay_s=float(delay_s), since=self.sim_time())
        st.generation += 1
        if kind == "stop" and self._rtsp is not None:
            self._rtsp.cut_sessions(camera_id)
        log.info("fault %s on %s", kind, camera_id)

    def clear_fault(self, camera_id: str) -> None:
        st = self.cams[camera_id]
        st.fault = None
        st.generation += 1

    # ------------------------------------------------------------------ frames
    def frame_time(self, st: _CamState) -> float:
        f = st.fault
        if f is not None and f.kind == "frozen":
            return f.since
        return self.sim_time()

    def jpeg(self, st: _CamState) -> tuple[bytes, GroundTruth]:
        """JPEG of the camera's current frame, cached per frame index (many clients, one encode)."""
        t = self.frame_time(st)
        k = st.cam.frame_index(t)
        with st.lock:
            if st.cache is not None and st.cache[0] == k:
                return st.cache[1], st.cache[2]
            data, truth = st.cam.jpeg_at(t, self.jpeg_quality)
            st.cache = (k, data, truth)
            return data, truth

    # ------------------------------------------------------------------ HLS
    def _encoder_input(self, cam: SimCamera, gop: int) -> list[str]:
        return [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{cam.width}x{cam.height}",
            "-r",
            f"{cam.fps:g}",
            "-i",
            "pipe:0",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-pix_fmt",
            "yuv420p",
            "-g",
            str(gop),
            "-keyint_min",
            str(gop),
            "-sc_threshold",
            "0",
            "-threads",
            "1",
        ]

    def _start_hls(self, st: _CamState) -> None:
        assert self._hls_root is not None
        cam = st.cam
        out = self._hls_root / "".join(c if c.isalnum() or c in "-_" else "_" for c in cam.camera_id)
        out.mkdir(parents=True, exist_ok=True)
        gop = max(1, round(cam.fps * self.segment_s))
        cmd = [
            *self._encoder_input(cam, gop),
            "-f",
            "hls",
            "-hls_time",
            f"{self.segment_s:g}",
            "-hls_list_size",
            "6",
            "-hls_flags",
            "delete_segments+temp_file+independent_segments",
            "-hls_segment_filename",
            str(out / "seg_%06d.ts"),
            str(out / "index.m3u8"),
        ]
        st.hls_dir = out
        self._spawn_encoder(st, cmd, "hls")

    def _spawn_encoder(self, st: _CamState, cmd: list[str], what: str) -> None:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        th = threading.Thread(target=self._feed, args=(st, proc), name=f"{what}-{st.cam.camera_id}", daemon=True)
        st.encoders.append((proc, th))
        th.start()

    def _start_rtsp(self) -> None:
        assert self._hls_root is not None
        self._rtsp = RtspServer(
            self.host, self.rtsp_port, lambda cid: self.cams[cid].fault if cid in self.cams else None
        )
        self.rtsp_port = int(self._rtsp.server_address[1])
        for cam_id in sorted(self._rtsp_ids):
            st = self.cams[cam_id]
            relay = RtpRelay(cam_id, functools.partial(getattr, st, "fault"))
            relay.start()
            sdp = self._hls_root / f"rtsp-{len(self._rtsp.relays)}.sdp"
            self._rtsp.relays[cam_id] = relay
            self._rtsp.sdp_files[cam_id] = sdp
            gop = max(1, round(st.cam.fps))
            cmd = [
                *self._encoder_input(st.cam, gop),
                "-flags",
                "+global_header",
                "-x264-params",
                "repeat-headers=1",
                "-f",
                "rtp",
                "-payload_type",
                "96",
                "-sdp_file",
                str(sdp),
                f"rtp://127.0.0.1:{relay.port}?pkt_size=1200",
            ]
            self._spawn_encoder(st, cmd, "rtsp")
        self._rtsp_thread = threading.Thread(target=self._rtsp.serve_forever, name="sim-rtsp", daemon=True)
        self._rtsp_thread.start()

    def _feed(self, st: _CamState, proc: subprocess.Popen[bytes]) -> None:
        cam = st.cam
        period = 1.0 / cam.fps
        k = 0
        start = time.monotonic()
        assert proc.stdin is not None
        try:
            while not self.stopping.is_set() and proc.poll() is None:
                img, _truth = cam.render(self.frame_time(st))
                proc.stdin.write(img.tobytes())
                k += 1
                delay = start + k * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -5 * period:  # fell behind (loaded machine): skip ahead, keep real time
                    k = math.ceil((time.monotonic() - start) / period)
        except (BrokenPipeError, OSError, ValueError):
            if not self.stopping.is_set():
                err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
                log.warning("ffmpeg for %s exited: %s", cam.camera_id, err[-500:])

    def _stop_encoders(self, st: _CamState) -> None:
        for proc, thread in st.encoders:
            thread.join(timeout=3)
            self._stop_proc(proc)
        st.encoders.clear()

    @staticmethod
    def _stop_proc(proc: subprocess.Popen[bytes]) -> None:
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)
        if proc.stderr is not None:
            proc.stderr.close()

    def ffmpeg_pids(self) -> list[int]:
        """PIDs of the running ffmpeg processes (for tests of clean shutdown)."""
        return [proc.pid for st in self.cams.values() for proc, _ in st.encoders]

    hls_pids = ffmpeg_pids

    def wait_hls_ready(self, timeout_s: float = 20.0) -> bool:
        """Block until every HLS camera has a playlist with at least one segment (or the timeout passes)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready = True
            for cam_id in self._hls_ids:
                d = self.cams[cam_id].hls_dir
                pl = d / "index.m3u8" if d is not None else None
                if pl is None or not pl.exists() or ".ts" not in pl.read_text(errors="replace"):
                    ready = False
                    break
            if ready:
                return True
            time.sleep(0.1)
        return False


def _env_flag(name: str) -> bool:  # pragma: no cover - convenience for manual runs
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
