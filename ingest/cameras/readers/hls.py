"""HLS over HTTP: playlist parsing, ``.ts`` segments fetched with bounded GETs and decoded locally."""

from __future__ import annotations

import os
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import cv2
import numpy as np

from ingest.cameras.readers.base import StreamError
from ingest.cameras.readers.http import HttpBody, HttpReader, http_get


@dataclass
class HlsPlaylist:
    """A parsed media playlist: ``segments`` are (sequence number, duration s, absolute URL)."""

    target_duration_s: float
    media_sequence: int
    segments: list[tuple[int, float, str]]
    ended: bool
    variants: list[str] = field(default_factory=list)


def parse_m3u8(text: str, base_url: str) -> HlsPlaylist:
    """Parse an HLS master or media playlist (RFC 8216 subset: what live cameras publish)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("#EXTM3U"):
        raise ValueError("playlist does not start with #EXTM3U")
    target = 2.0
    seq0 = 0
    ended = False
    segs: list[tuple[int, float, str]] = []
    variants: list[str] = []
    pending_dur: float | None = None
    expect_variant = False
    for ln in lines[1:]:
        if ln.startswith("#EXT-X-TARGETDURATION:"):
            target = float(ln.split(":", 1)[1])
        elif ln.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            seq0 = int(ln.split(":", 1)[1])
        elif ln.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif ln.startswith("#EXTINF:"):
            pending_dur = float(ln.split(":", 1)[1].split(",")[0])
        elif ln.startswith("#EXT-X-STREAM-INF"):
            expect_variant = True
        elif ln.startswith("#"):
            continue
        elif expect_variant:
            variants.append(urljoin(base_url, ln))
            expect_variant = False
        else:
            segs.append((seq0 + len(segs), pending_dur if pending_dur is not None else target, urljoin(base_url, ln)))
            pending_dur = None
    return HlsPlaylist(target, seq0, segs, ended, variants)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class HlsReader(HttpReader):
    """HLS over HTTP: polls the playlist, downloads ``.ts`` segments with bounded GETs, decodes them locally.

    The first read starts at the newest segment (live edge); later reads return consecutive frames, then move to
    the next segment. A playlist that stops advancing for ``read_timeout_s`` gives ``timeout``; ``#EXT-X-ENDLIST``
    after the last segment gives ``eof``.
    """

    kind = "hls"

    def __init__(self, url: str, **kw: Any) -> None:
        super().__init__(url, **kw)
        self._media_url = url
        self._last_seq: int | None = None
        self._cap: Any = None
        self._tmp: Path | None = None  # created on the first segment, removed by close()
        self.segments_fetched = 0

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        self._release()
        if self._tmp is not None:
            try:
                self._tmp.unlink(missing_ok=True)
            except OSError:  # pragma: no cover
                pass
            self._tmp = None
        super().close()

    def _get_bytes(self, url: str, deadline: float, what: str) -> bytes:
        remaining = max(0.05, deadline - time.monotonic())
        resp = http_get(self.session, url, min(self.connect_timeout_s, remaining), min(self.read_timeout_s, remaining))
        try:
            return HttpBody(resp, url).read_all(deadline, limit=64 * 1024 * 1024)
        finally:
            resp.close()

    def _playlist(self, deadline: float) -> HlsPlaylist:
        for _ in range(3):
            raw = self._get_bytes(self._media_url, deadline, "playlist")
            try:
                pl = parse_m3u8(raw.decode("utf-8", "replace"), self._media_url)
            except ValueError as exc:
                raise StreamError("decode_error", f"bad playlist: {exc}", url=self._media_url) from exc
            if pl.variants and not pl.segments:
                self._media_url = pl.variants[0]
                continue
            return pl
        raise StreamError("decode_error", "playlist nesting too deep", url=self.url)

    def _next_segment(self, deadline: float) -> None:
        while True:
            pl = self._playlist(deadline)
            if pl.segments:
                newest = pl.segments[-1][0]
                if self._last_seq is None and pl.ended and self.frames_read == 0:
                    want = pl.segments[0][0]  # a finished (VOD) playlist is read from its start
                elif self._last_seq is None or self._last_seq + 1 < pl.segments[0][0]:
                    want = newest
                else:
                    want = self._last_seq + 1
                for seq, _dur, seg_url in pl.segments:
                    if seq == want:
                        data = self._get_bytes(seg_url, deadline, "segment")
                        if self._tmp is None:
                            fd, name = tempfile.mkstemp(prefix="pantau-hls-", suffix=".ts")
                            os.close(fd)
                            self._tmp = Path(name)
                            weakref.finalize(self, _unlink_quietly, name)  # even if close() is never called
                        self._tmp.write_bytes(data)
                        cap = cv2.VideoCapture(str(self._tmp), cv2.CAP_FFMPEG)
                        self._last_seq = seq
                        self.segments_fetched += 1
                        if not cap.isOpened():
                            cap.release()
                            raise StreamError("decode_error", f"segment {seq} is not decodable video", url=seg_url)
                        self._cap = cap
                        return
            if pl.ended:
                raise StreamError("eof", "playlist ended (#EXT-X-ENDLIST)", url=self._media_url)
            wait = min(max(pl.target_duration_s / 4.0, 0.05), deadline - time.monotonic())
            if wait <= 0:
                raise StreamError("timeout", "playlist did not advance before the read deadline", url=self._media_url)
            time.sleep(wait)

    def read(self) -> np.ndarray:
        self._check_open()
        t0 = time.monotonic()
        deadline = t0 + self.read_timeout_s
        if self.max_idle_s is not None and self._last_ok and t0 - self._last_ok > self.max_idle_s:
            self._release()
            self._last_seq = None  # resync to the live edge
        decode_s = 0.0
        try:
            for _ in range(4):
                if self._cap is None:
                    self._next_segment(deadline)
                td = time.monotonic()
                ok, frame = self._cap.read()
                decode_s += time.monotonic() - td
                if ok and frame is not None:
                    break
                empty_segment = self._cap.get(cv2.CAP_PROP_POS_FRAMES) == 0
                self._release()
                if empty_segment:
                    raise StreamError("decode_error", f"segment {self._last_seq} has no decodable frame", url=self.url)
            else:
                raise StreamError("decode_error", "no frame in consecutive segments", url=self.url)
        except StreamError as exc:
            self._release()
            if exc.reason != "decode_error":
                self._last_seq = None  # after an outage, resume at the live edge (a bad segment is skipped)
            raise
        now = time.monotonic()
        self.last_decode_ms = decode_s * 1000.0
        self.last_fetch_ms = (now - t0) * 1000.0 - self.last_decode_ms
        self._last_ok = now
        self.frames_read += 1
        return np.ascontiguousarray(frame)
