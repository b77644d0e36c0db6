"""HTTP readers take proxies from the environment once per camera, and still honour them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import cv2
import numpy as np
import pytest

from ingest.cameras.readers import SnapshotReader, StreamError

JPEG = cv2.imencode(".jpg", np.full((36, 64, 3), 90, np.uint8))[1].tobytes()


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers every absolute-URI GET itself and remembers what it was asked for."""

    seen: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(JPEG)))
        self.end_headers()
        self.wfile.write(JPEG)


@pytest.fixture
def proxy() -> Iterator[str]:
    _Proxy.seen = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_snapshot_reader_goes_through_the_environment_proxy(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    reader = SnapshotReader("http://camera.invalid/snap.jpg", connect_timeout_s=2, read_timeout_s=2)
    try:
        assert not reader.session.trust_env  # the environment was read once, at construction
        monkeypatch.delenv("HTTP_PROXY")  # so later changes do not reach this camera's session
        for _ in range(2):
            assert reader.read().shape == (36, 64, 3)
    finally:
        reader.close()
    assert _Proxy.seen == ["http://camera.invalid/snap.jpg"] * 2


def test_no_proxy_sends_the_camera_direct(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "camera.invalid")
    reader = SnapshotReader("http://camera.invalid/snap.jpg", connect_timeout_s=2, read_timeout_s=2)
    try:
        with pytest.raises(StreamError):  # direct: the .invalid name does not resolve
            reader.read()
    finally:
        reader.close()
    assert _Proxy.seen == []
