"""A minimal loopback RTSP server (RFC 2326, TCP-interleaved RTP only) for simulated cameras.

FFmpeg cannot act as an RTSP *server* for a camera (``-rtsp_flags listen`` only makes the demuxer accept a pushed
stream), so this module splits the job: per camera an ``ffmpeg`` process encodes the raw frames to H.264 and
packetises them as RTP (``-f rtp``, RFC 6184) to a loopback UDP port, writing the SDP it generated; a small Python
RTSP server answers OPTIONS / DESCRIBE (that SDP) / SETUP (``RTP/AVP/TCP;interleaved=0-1`` only; UDP is refused with
461) / PLAY / GET_PARAMETER / TEARDOWN and relays every RTP packet to the playing clients as ``$``-framed
interleaved data. Clients joining mid-stream decode from the next keyframe (SPS/PPS are repeated in-band and given in
``sprop-parameter-sets``).

Faults (same names as the HTTP server, read from the shared camera state): ``stop`` closes playing sessions and
drops new connections; ``stall`` keeps sessions open but forwards nothing; ``garbage`` sends random bytes as RTP
payload; ``http_error`` answers DESCRIBE with that RTSP status (404, 500...); ``slow`` delays every response;
``frozen`` is applied by the frame feeder (same image).
"""

from __future__ import annotations

import logging
import os
import select
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)

RTSP_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 454: "Session Not Found", 455: "Method Not Valid",
                461: "Unsupported Transport", 500: "Internal Server Error", 503: "Service Unavailable"}  # fmt: skip


class RtpRelay:
    """Receives one camera's RTP packets on a loopback UDP port and fans them out to interleaved TCP clients."""

    def __init__(self, camera_id: str, fault: Callable[[], Any]) -> None:
        self.camera_id = camera_id
        self.fault = fault
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.port = int(self.rtp.getsockname()[1])
        # RTCP goes to port + 1; bind it when free so ffmpeg gets no ICMP "port unreachable"
        self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.rtcp.bind(("127.0.0.1", self.port + 1))
        except OSError:
            pass
        self.rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.clients: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"rtp-{camera_id}", daemon=True)
        self.packets = 0

    def start(self) -> None:
        self.thread.start()

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.clients.append(sock)

    def remove(self, sock: socket.socket) -> None:
        with self.lock:
            if sock in self.clients:
                self.clients.remove(sock)

    def _run(self) -> None:
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.rtp, self.rtcp], [], [], 0.2)
            for s in ready:
                try:
                    pkt = s.recv(65536)
                except OSError:
                    continue
                if s is not self.rtp:
                    continue
                self.packets += 1
                f = self.fault()
                if f is not None and f.kind in ("stall", "stop"):
                    continue
                if f is not None and f.kind == "garbage":
                    pkt = pkt[:12] + os.urandom(max(0, len(pkt) - 12))
                frame = b"$\x00" + len(pkt).to_bytes(2, "big") + pkt
                with self.lock:
                    clients = list(self.clients)
                for c in clients:
                    try:
                        c.sendall(frame)
                    except OSError:
                        self.remove(c)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=2)
        self.rtp.close()
        self.rtcp.close()


class _RtspHandler(socketserver.BaseRequestHandler):
    server: RtspServer

    def setup(self) -> None:
        self.request.settimeout(60.0)
        self.buf = b""
        self.relay: RtpRelay | None = None
        self.session = f"{int.from_bytes(os.urandom(4), 'big'):08X}"

    def _read_request(self) -> tuple[str, str, dict[str, str]] | None:
        while b"\r\n\r\n" not in self.buf:
            try:
                chunk = self.request.recv(4096)
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk
            # interleaved RTCP from the client ("$" frames) is skipped
            while self.buf.startswith(b"$") and len(self.buf) >= 4:
                n = int.from_bytes(self.buf[2:4], "big")
                if len(self.buf) < 4 + n:
                    break
                self.buf = self.buf[4 + n :]
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1", "replace").split("\r\n")
        parts = lines[0].split()
        if len(parts) < 2:
            return "", "", {}
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0") or 0)
        while len(self.buf) < n:
            chunk = self.request.recv(4096)
            if not chunk:
                return None
            self.buf += chunk
        self.buf = self.buf[n:]
        return parts[0].upper(), parts[1], headers

    def _reply(self, status: int, cseq: str, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        out = [f"RTSP/1.0 {status} {RTSP_REASONS.get(status, 'Error')}", f"CSeq: {cseq}", "Server: pantau-sim"]
        for k, v in (headers or {}).items():
            out.append(f"{k}: {v}")
        if body:
            out.append(f"Content-Length: {len(body)}")
        self.request.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)

    def handle(self) -> None:
        srv = self.server
        try:
            while not srv.stopping.is_set():
                req = self._read_request()
                if req is None:
                    return
                method, url, headers = req
                cseq = headers.get("cseq", "0")
                path = [unquote(p) for p in urlparse(url).path.split("/") if p]
                cam_id = path[1] if len(path) >= 2 and path[0] == "cam" else ""
                relay = srv.relays.get(cam_id)
                fault = srv.fault_of(cam_id) if relay is not None else None
                if fault is not None and fault.kind == "stop":
                    self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.delay_s)
                if method == "OPTIONS":
                    self._reply(200, cseq, {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"})
                elif relay is None:
                    self._reply(404, cseq)
                elif fault is not None and fault.kind == "http_error" and method == "DESCRIBE":
                    self._reply(fault.status if fault.status in RTSP_REASONS else 500, cseq)
                elif fault is not None and fault.kind == "stall" and method in ("DESCRIBE", "SETUP", "PLAY"):
                    while srv.fault_of(cam_id) is fault and not srv.stopping.is_set():
                        time.sleep(0.05)
                    return
                elif method == "DESCRIBE":
                    sdp = srv.sdp(cam_id).encode("utf-8")
                    base = url if url.endswith("/") else url + "/"
                    self._reply(200, cseq, {"Content-Type": "application/sdp", "Content-Base": base}, sdp)
                elif method == "SETUP":
                    transport = headers.get("transport", "")
                    if "RTP/AVP/TCP" not in transport.upper():
                        self._reply(461, cseq)
                        continue
                    self.relay = relay
                    self._reply(
                        200,
                        cseq,
                        {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1", "Session": f"{self.session};timeout=60"},
                    )
                elif method == "PLAY":
                    if self.relay is None:
                        self._reply(455, cseq)
                        continue
                    self._reply(200, cseq, {"Session": self.session, "Range": "npt=0.000-"})
                    self.relay.add(self.request)
                elif method == "GET_PARAMETER":
                    self._reply(200, cseq, {"Session": self.session})
                elif method == "TEARDOWN":
                    self._reply(200, cseq, {"Session": self.session})
                    return
                else:
                    self._reply(455, cseq)
        except OSError:
            return
        finally:
            if self.relay is not None:
                self.relay.remove(self.request)


class RtspServer(socketserver.ThreadingTCPServer):
    """RTSP listener; ``relays`` maps camera id to its ``RtpRelay``; ``sdp_files`` to the SDP ffmpeg wrote."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, fault_of: Callable[[str], Any]) -> None:
        self.relays: dict[str, RtpRelay] = {}
        self.sdp_files: dict[str, Path] = {}
        self.fault_of = fault_of
        self.stopping = threading.Event()
        super().__init__((host, port), _RtspHandler)

    def sdp(self, camera_id: str) -> str:
        """The SDP ffmpeg generated, rewritten for RTSP (no destination address/port, a track control URL)."""
        path = self.sdp_files[camera_id]
        text = ""
        for _ in range(50):
            if path.exists():
                text = path.read_text()
                if "m=video" in text:
                    break
            time.sleep(0.1)
        out = []
        for ln in text.splitlines():
            if ln.startswith("c="):
                ln = "c=IN IP4 0.0.0.0"
            elif ln.startswith("m=video"):
                parts = ln.split()
                parts[1] = "0"
                ln = " ".join(parts)
            out.append(ln)
        out.append("a=control:trackID=0")
        return "\r\n".join(out) + "\r\n"

    def cut_sessions(self, camera_id: str) -> None:
        relay = self.relays.get(camera_id)
        if relay is None:
            return
        with relay.lock:
            clients = list(relay.clients)
            relay.clients.clear()
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        for cam_id in list(self.relays):
            self.cut_sessions(cam_id)
        self.shutdown()
        self.server_close()
        for relay in self.relays.values():
            relay.stop()
