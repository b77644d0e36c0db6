"""JPEG snapshot URL: one HTTP GET and ``cv2.imdecode`` per read."""

from __future__ import annotations

import time

import numpy as np

from ingest.cameras.readers.http import HttpBody, HttpReader, http_get


class SnapshotReader(HttpReader):
    """JPEG snapshot URL: one HTTP GET and ``cv2.imdecode`` per ``read()``."""

    kind = "snapshot"

    def read(self) -> np.ndarray:
        self._check_open()
        t0 = time.monotonic()
        deadline = t0 + self.read_timeout_s
        resp = http_get(self.session, self.url, self.connect_timeout_s, self.read_timeout_s)
        try:
            body = HttpBody(resp, self.url).read_all(deadline)
        finally:
            resp.close()
        t1 = time.monotonic()
        img = self._decode(body)
        self.last_fetch_ms = (t1 - t0) * 1000.0
        self.last_decode_ms = (time.monotonic() - t1) * 1000.0
        self.frames_read += 1
        return img
