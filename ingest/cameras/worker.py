"""The capture worker: many cameras per process, per-camera state, micro-batches to the landing zone.

Design
------
* One scheduler loop (the calling thread) keeps a heap of per-camera due times and hands due samples to a
  thread pool; a camera is never sampled twice at once, and a stalled camera holds one pool thread for at
  most its read timeout, so the other cameras keep flowing.
* Per camera: one ``StreamReader`` (reconnects by itself after an error), a ``CameraHealth`` state machine,
  an analyzer (vision pipeline or pass-through) and a ``Backoff``. Sampling keeps its cadence while a camera
  is down: every due slot records a row (``offline`` etc.), but a reconnect is only attempted once the
  backoff delay (exponential with jitter) has passed, so uptime stays honest and dead cameras cost nothing.
* Every ``flush_every_s`` the buffered rows become ONE Parquet file put with a single ``store.put_bytes``
  (atomic: temp + rename locally, single PUT on S3) at
  ``landing/frames/dt=YYYY-MM-DD/<worker_id>-<batch_id>.parquet``. kill -9 loses at most the rows buffered
  since the last flush and never leaves a partial file. SIGTERM/SIGINT (``install_signal_handlers``) set the
  stop event: in-flight reads finish (bounded by the read timeout), the last batch is flushed, and
  ``run_worker`` returns. A restarted worker simply continues with new batch ids.
* Keyframes: the decoded frame as JPEG at ``keyframes/<camera_id>/<ts>.jpg`` (private) every
  ``keyframe_every_s`` per camera and on each health transition; a face/plate-blurred copy at
  ``public/keyframes/<camera_id>/<ts>.jpg`` every ``public_every_s`` (only those may leave the private zone).
  Rows carry the object-store keys (``keyframe_uri``, ``public_uri``), never a path or ``s3://`` URI, so every
  reader resolves them through its own store (folder or S3) and releases copy the blurred thumbnails.

The landing row layout is ``LANDING_SCHEMA``: frame columns, score columns and the health transition
(``is_transition``/``transition_from``) of each sample; ``ingest.cameras.landing`` splits it into tables.
"""

from __future__ import annotations

import heapq
import io
import json
import logging
import math
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.cameras.health import CameraHealth, HealthConfig
from ingest.cameras.passthrough import Analyzer, AnalyzerFactory
from ingest.cameras.passthrough import analyzer_factory as make_analyzer_factory
from ingest.cameras.priority import LakePriorityRequests, PriorityRequest, PriorityRequests
from ingest.cameras.readers import Backoff, StreamError, StreamReader, open_stream
from ingest.cameras.registry import CameraSpec, Shard, select_shard
from ingest.context.flood import FloodContextProvider
from ingest.registry.secrets import SecretResolver, redact

log = logging.getLogger(__name__)

#: (lat, lon, kelurahan code) -> per-hazard context for the level engine (ingest.context.flood.FloodContextProvider)
ContextFn = Callable[[float | None, float | None, str | None], Mapping[str, str] | None]

LANDING_PREFIX = "landing/frames/"
KEYFRAME_PREFIX = "keyframes/"
PUBLIC_KEYFRAME_PREFIX = "public/keyframes/"

SCORE_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("fire", pa.float64()),
    ("smoke", pa.float64()),
    ("flood", pa.float64()),
    ("flood_depth_class", pa.int32()),
    ("persons", pa.float64()),
    ("crowd_density", pa.float64()),
    ("crowd_level", pa.string()),
    ("crowd", pa.float64()),
    ("motion", pa.float64()),
    ("health", pa.string()),
    ("risk_level", pa.string()),
    ("risk_hazard", pa.string()),
    ("model_version", pa.string()),
    ("features", pa.string()),
    # per-hazard confirmed levels (analytics.levels): the one level every downstream view shows
    ("level_fire", pa.string()),
    ("level_smoke", pa.string()),
    ("level_flood", pa.string()),
    ("level_crowd", pa.string()),
    # road users per frame (the road_users detector's counts, from the features JSON)
    ("cars", pa.float64()),
    ("motorcycles", pa.float64()),
    ("buses_trucks", pa.float64()),
    ("vehicles", pa.float64()),
)
#: landing column -> key of the road_users detector's features
ROAD_USER_FIELDS: dict[str, str] = {
    "cars": "car", "motorcycles": "motorcycle", "buses_trucks": "bus_truck", "vehicles": "vehicles",
}  # fmt: skip
LANDING_SCHEMA = pa.schema(
    [
        ("camera_id", pa.string()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("batch_id", pa.string()),
        ("seq", pa.int64()),
        ("keyframe_uri", pa.string()),
        ("public_uri", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("decode_ms", pa.float64()),
        ("fetch_ms", pa.float64()),
        ("worker_id", pa.string()),
        ("is_transition", pa.bool_()),
        ("transition_from", pa.string()),
        ("scored", pa.bool_()),
        *SCORE_FIELDS,
    ]
)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def road_user_counts(features: str | None) -> dict[str, float | None]:
    """Vehicle counts of one frame from the analyzer's features JSON (``road_users``); None when absent."""
    try:
        ru = json.loads(features).get("road_users") if features else None
    except (ValueError, AttributeError):
        ru = None
    if not isinstance(ru, dict):
        return {}
    out: dict[str, float | None] = {}
    for col, key in ROAD_USER_FIELDS.items():
        v = ru.get(key)
        out[col] = float(v) if isinstance(v, int | float) and math.isfinite(v) else None
    return out


def safe_key_part(text: str) -> str:
    """An object-key segment from any id (camera ids may contain spaces or slashes)."""
    return _SAFE.sub("_", text).strip("._") or "x"


def ts_key(ts: float) -> str:
    """Sortable UTC timestamp for object keys: 20261127T210501.123Z."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y%m%dT%H%M%S.") + f"{dt.microsecond // 1000:03d}Z"


def default_worker_id(shard: Shard) -> str:
    return safe_key_part(f"{socket.gethostname()}-{os.getpid()}-s{shard.index}of{shard.count}")


@dataclass
class WorkerConfig:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    max_threads: int = 32
    keyframe_every_s: float = 60.0  # private keyframe per camera at most this often (and on transitions)
    public_every_s: float = (
        900.0  # blurred public copy per camera at most this often (CenterFace ~0.15 s CPU at 640x360); <0 disables
    )
    jpeg_quality: int = 85
    # JPEG frames (snapshot, MJPEG) are decoded at the largest 1/2, 1/4, 1/8 reduction keeping at least this
    # (width, height) (keyframes keep the camera's own full-size JPEG); None decodes every frame in full. The
    # detectors are evaluated at 640x360 (`pantau eval --clips`), so an HD camera is analysed at about that size;
    # (320, 180) also halves a 640x360 camera (about 1.2 CPU-ms less per sample, clip figures within a frame or two
    # of full size, see docs/operations.md)
    decode_min_size: tuple[int, int] | None = (640, 360)
    backoff_base_s: float = 1.0
    backoff_max_s: float = 120.0
    backoff_jitter: float = 0.2
    health: HealthConfig = field(default_factory=HealthConfig)
    # panic-button priority requests (ingest/cameras/priority.py): polled this often; a served camera is sampled
    # every priority_interval_s for priority_boost_s seconds (bounded), starting at once
    priority_poll_s: float = 5.0
    priority_interval_s: float = 1.0
    priority_boost_s: float = 120.0
    # a worker given a registry follower asks it for changes this often (added, retired and changed cameras of its
    # shard take effect at the next poll, without a restart)
    registry_poll_s: float = 5.0


@dataclass
class WorkerStats:
    worker_id: str = ""
    cameras: int = 0
    samples: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    batches: list[str] = field(default_factory=list)
    rows_flushed: int = 0
    priority_served: int = 0
    keyframes: int = 0
    public_keyframes: int = 0
    flush_errors: int = 0
    registry_updates: int = 0
    runtime_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "worker_id": self.worker_id,
            "cameras": self.cameras,
            "samples": self.samples,
            "statuses": dict(self.statuses),
            "batches": len(self.batches),
            "rows_flushed": self.rows_flushed,
            "priority_served": self.priority_served,
            "keyframes": self.keyframes,
            "public_keyframes": self.public_keyframes,
            "flush_errors": self.flush_errors,
            "registry_updates": self.registry_updates,
            "runtime_s": round(self.runtime_s, 3),
        }


class _CameraState:
    """Everything one camera carries between samples. Touched by one pool thread at a time."""

    def __init__(self, spec: CameraSpec, interval_s: float, cfg: WorkerConfig) -> None:
        self.spec = spec
        self.interval_s = spec.interval_s or interval_s
        self.health = CameraHealth(cfg.health)
        self.backoff = Backoff(base_s=cfg.backoff_base_s, max_s=cfg.backoff_max_s, jitter=cfg.backoff_jitter)
        self.reader: StreamReader | None = None
        self.analyzer: Analyzer | None = None
        self.retry_at = 0.0
        self.last_error = ""
        self.last_keyframe = -1e18
        self.last_public = -1e18
        self.busy = False
        self.serial = 0  # schedule generation (leased capture reopens a camera under a new one)
        self.gen = 0  # schedule generation of the plain worker (a priority boost starts a new one)
        self.boost_until = 0.0  # monotonic time a priority boost ends
        self.boost_interval_s = 0.0

    def next_interval(self, now: float) -> float:
        """The sampling interval from ``now``: shorter while a priority request's boost lasts."""
        return self.boost_interval_s if now < self.boost_until else self.interval_s

    def close(self) -> None:
        if self.reader is not None:
            try:
                self.reader.close()
            except Exception:  # closing must never take the worker down
                log.debug("close failed for %s", self.spec.camera_id, exc_info=True)
            self.reader = None


class CaptureWorker:
    """See the module docstring. Use ``run_worker`` / ``capture_for`` rather than this class directly."""

    def __init__(
        self,
        cameras: Iterable[CameraSpec],
        store: Any,
        *,
        interval_s: float,
        flush_every_s: float,
        analyzer_factory: AnalyzerFactory,
        worker_id: str,
        config: WorkerConfig,
        blur: Callable[[np.ndarray], np.ndarray] | None,
        secrets: SecretResolver | None = None,
        priority: PriorityRequests | None = None,
        context: ContextFn | None = None,
        follow: Any = None,
        select: Callable[[list[CameraSpec]], list[CameraSpec]] | None = None,
    ) -> None:
        self.store = store
        # registry following (``ingest.cameras.registry.RegistryFollower``): ``select`` keeps this worker's cameras
        self.follow = follow
        self.select = select or (lambda cams: cams)
        self.interval_s = interval_s
        self._closing: list[_CameraState] = []
        self.priority = priority
        self.context = context
        self.secrets = secrets or SecretResolver()
        self.cfg = config
        self.flush_every_s = flush_every_s
        self.analyzer_factory = analyzer_factory
        self.worker_id = worker_id
        self.blur = blur
        self.states = [_CameraState(c, interval_s, config) for c in cameras]
        self.stats = WorkerStats(worker_id=worker_id, cameras=len(self.states))
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        _warm_up()

    # -- one sample ---------------------------------------------------------------------
    def sample(self, st: _CameraState) -> None:
        try:
            self._sample(st)
        except Exception:  # a bug in one camera's path must not kill the worker
            log.exception("sample failed for camera %s", st.spec.camera_id)
        finally:
            st.busy = False

    def _sample(self, st: _CameraState) -> None:
        spec = st.spec
        now_m = time.monotonic()
        ts = time.time()
        row: dict[str, Any] = {"camera_id": spec.camera_id, "worker_id": self.worker_id, "scored": False}
        frame: np.ndarray | None = None
        if now_m < st.retry_at:
            hs = st.health.observe_error(st.last_error or "offline", ts)
            row["reason"] = f"waiting to reconnect ({st.last_error})"
        else:
            try:
                if st.reader is None:
                    st.reader = open_stream(
                        self._stream_url(spec),
                        spec.stream_kind,
                        connect_timeout_s=self.cfg.connect_timeout_s,
                        read_timeout_s=self.cfg.read_timeout_s,
                    )
                    st.reader.decode_min_size = self.cfg.decode_min_size
                frame = st.reader.read()
            except StreamError as exc:
                st.last_error = exc.reason
                st.retry_at = time.monotonic() + st.backoff.failure()
                hs = st.health.observe_error(exc.reason, ts)
                row["reason"] = redact(f"{exc.reason}: {exc.message}")[:300]
            except Exception as exc:  # a reader bug is a decode error for this camera, not a crash
                log.exception("reader crashed for camera %s", spec.camera_id)
                st.close()
                st.last_error = "decode_error"
                st.retry_at = time.monotonic() + st.backoff.failure()
                hs = st.health.observe_error("decode_error", ts)
                row["reason"] = redact(f"reader error: {exc}")[:300]
            else:
                st.backoff.success()
                st.last_error = ""
                row["fetch_ms"] = float(getattr(st.reader, "last_fetch_ms", 0.0))
                row["decode_ms"] = float(getattr(st.reader, "last_decode_ms", 0.0))
                row["width"], row["height"] = _source_size(st.reader, frame)
                hs = st.health.observe_frame(frame, ts)
                row["reason"] = hs.reason or None
        transitions = st.health.pop_transitions()
        row.update(
            captured_at=datetime.fromtimestamp(ts, UTC),
            seq=int(ts * 1000),
            status=hs.status,
            is_transition=bool(transitions),
            transition_from=transitions[-1].from_status if transitions else None,
        )
        self._score(st, frame, ts, hs.status, row)  # failed samples too: the analyzer tracks health over time
        if frame is not None:
            self._keyframes(st, frame, ts, bool(transitions), row)
        with self._lock:
            self._rows.append(row)
            self.stats.samples += 1
            self.stats.statuses[hs.status] += 1

    def _stream_url(self, spec: CameraSpec) -> str:
        """The URL to open, with the credentials of the camera's secret reference (in memory only)."""
        try:
            return self.secrets.stream_url(spec.stream_url, spec.secret_ref)
        except (KeyError, ValueError) as exc:
            raise StreamError("offline", f"credentials unavailable: {exc}") from None

    def _score(self, st: _CameraState, frame: np.ndarray | None, ts: float, status: str, row: dict[str, Any]) -> None:
        """Analyzer scores into ``row``; ``frame`` is None for failed reads. NaN (unknown) becomes NULL."""
        try:
            if st.analyzer is None:
                st.analyzer = self.analyzer_factory(st.spec.camera_id)
            ctx = (
                self.context(st.spec.lat, st.spec.lon, st.spec.kelurahan_code)
                if self.context is not None and frame is not None
                else None
            )
            # context only when there is some: analyzers that know none keep their three-argument call
            res = st.analyzer.process(frame, ts, status, context=ctx) if ctx else st.analyzer.process(frame, ts, status)  # type: ignore[arg-type]
            scores = res.to_row()
        except Exception:
            log.exception("analyzer failed for camera %s", st.spec.camera_id)
            return
        scores.update(road_user_counts(scores.get("features")))
        for name, _ in SCORE_FIELDS:
            v = scores.get(name)
            row[name] = None if isinstance(v, float) and not math.isfinite(v) else v
        row["health"] = status
        row["scored"] = True

    def _keyframes(self, st: _CameraState, frame: np.ndarray, ts: float, transition: bool, row: dict[str, Any]) -> None:
        cfg = self.cfg
        if not transition and ts - st.last_keyframe < cfg.keyframe_every_s:
            return
        name = f"{safe_key_part(st.spec.camera_id)}/{ts_key(ts)}.jpg"
        try:
            # the camera's own JPEG is stored as it came (full size even when decoded reduced, never re-encoded)
            encoded = _full_jpeg(st.reader)
            if encoded is None:
                ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality])
                if not ok:
                    return
                encoded = buf.tobytes()
            self.store.put_bytes(KEYFRAME_PREFIX + name, encoded, "image/jpeg")
            row["keyframe_uri"] = KEYFRAME_PREFIX + name  # the store key: the same in every store mode
            st.last_keyframe = ts
            with self._lock:
                self.stats.keyframes += 1
            if self.blur is not None and cfg.public_every_s >= 0 and ts - st.last_public >= cfg.public_every_s:
                reduced = _source_size(st.reader, frame) != (int(frame.shape[1]), int(frame.shape[0]))
                full = _decode_full(encoded) if reduced else frame
                ok, pbuf = cv2.imencode(".jpg", self.blur(full), [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality])
                if ok:
                    self.store.put_bytes(PUBLIC_KEYFRAME_PREFIX + name, pbuf.tobytes(), "image/jpeg")
                    row["public_uri"] = PUBLIC_KEYFRAME_PREFIX + name
                    st.last_public = ts
                    with self._lock:
                        self.stats.public_keyframes += 1
        except Exception:  # the store being down costs the keyframe, not the sample
            log.exception("keyframe write failed for camera %s", st.spec.camera_id)

    # -- flushing -----------------------------------------------------------------------
    def flush(self) -> str | None:
        """Write buffered rows as one Parquet object; returns its key (None when nothing to write)."""
        with self._flush_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return None
            now = datetime.now(UTC)
            batch_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:12]
            for r in rows:
                r["batch_id"] = batch_id
            key = f"{LANDING_PREFIX}dt={now:%Y-%m-%d}/{self.worker_id}-{batch_id}.parquet"
            try:
                table = pa.Table.from_pylist(rows, schema=LANDING_SCHEMA)
                sink = io.BytesIO()
                pq.write_table(table, sink, compression="zstd")
                self.store.put_bytes(key, sink.getvalue(), "application/vnd.apache.parquet")
            except Exception:
                log.exception("flush of %d rows failed; keeping them for the next flush", len(rows))
                with self._lock:
                    self._rows[:0] = rows
                self.stats.flush_errors += 1
                return None
            self.stats.batches.append(key)
            self.stats.rows_flushed += len(rows)
            log.info("landed %s (%d rows)", key, len(rows))
            return key

    def _served(self, polling: Future[list[PriorityRequest]]) -> list[PriorityRequest]:
        """The priority requests a finished poll claimed (none when the lake could not be read)."""
        try:
            served = polling.result()
        except Exception:  # the lake being unreachable must not stop capture: retried at the next poll
            log.exception("priority requests could not be read")
            return []
        self.stats.priority_served += len(served)
        return served

    # -- following the registry --------------------------------------------------------
    def _follow_registry(
        self, following: Future[Any], heap: list[tuple[float, int, int]], by_id: dict[str, int], now: float
    ) -> None:
        """Apply a finished registry poll: retired (or re-sharded) cameras stop, new ones start, changed ones
        (URL, kind, secret, interval) are reopened with their new spec. An unreadable registry keeps the cameras."""
        try:
            upd = following.result()
        except Exception as exc:  # the registry being unreadable for a moment keeps the cameras we have
            log.warning("registry poll failed (%s): keeping %d cameras", exc, len(by_id))
            return
        if upd is None:
            return
        new = {c.camera_id: c for c in self.select(list(upd[0]))}
        before = set(by_id)
        gone = before - set(new)
        fresh = set(new) - before
        changed = {cid for cid in before & set(new) if self.states[by_id[cid]].spec != new[cid]}
        for cid in gone | changed:
            st = self.states[by_id.pop(cid)]
            st.gen += 1  # its schedule entries are skipped from now on
            self._closing.append(st)  # closed once an in-flight sample (bounded by the read timeout) is done
        for k, cid in enumerate(sorted(fresh | changed)):
            st = _CameraState(new[cid], self.interval_s, self.cfg)
            self.states.append(st)
            by_id[cid] = len(self.states) - 1
            heapq.heappush(heap, (now + (k % 97) / 97 * st.interval_s, by_id[cid], st.gen))
        self.stats.cameras = len(by_id)
        self.stats.registry_updates += 1
        log.info(
            "registry version %s: %d cameras in this shard (%d added, %d removed, %d changed)",
            upd[1], len(new), len(fresh), len(gone), len(changed),
        )  # fmt: skip

    # -- the loop -----------------------------------------------------------------------
    def run(self, stop_event: threading.Event, max_runtime_s: float | None) -> WorkerStats:
        t0 = time.monotonic()
        heap: list[tuple[float, int, int]] = []
        for i, st in enumerate(self.states):
            # phase-spread the cameras over their interval: a steady stream of fetches, never a burst
            offset = (i / max(len(self.states), 1)) * st.interval_s
            heap.append((t0 + offset, i, st.gen))
        heapq.heapify(heap)
        next_flush = t0 + self.flush_every_s
        next_poll = t0
        by_id = {st.spec.camera_id: i for i, st in enumerate(self.states)}
        pool = ThreadPoolExecutor(max_workers=max(1, self.cfg.max_threads), thread_name_prefix="capture")
        flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flush")  # never stall the schedule
        poller = ThreadPoolExecutor(max_workers=1, thread_name_prefix="priority") if self.priority else None
        follower = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry") if self.follow else None
        pending: Future[str | None] | None = None
        polling: Future[list[PriorityRequest]] | None = None
        following: Future[Any] | None = None
        next_follow = t0 + self.cfg.registry_poll_s
        try:
            while not stop_event.is_set():
                now = time.monotonic()
                if max_runtime_s is not None and now - t0 >= max_runtime_s:
                    break
                if following is not None and following.done():
                    self._follow_registry(following, heap, by_id, now)
                    following = None
                if follower is not None and following is None and now >= next_follow:
                    following = follower.submit(self.follow.poll)
                    next_follow = now + self.cfg.registry_poll_s
                self._closing = [st for st in self._closing if st.busy or _closed(st)]
                if polling is not None and polling.done():
                    for req in self._served(polling):
                        i = by_id.get(req.camera_id, -1)
                        if i < 0:
                            continue  # left this worker (retired or re-sharded) since the poll
                        st = self.states[i]
                        st.boost_interval_s = min(self.cfg.priority_interval_s, st.interval_s)
                        st.boost_until = now + self.cfg.priority_boost_s
                        st.gen += 1  # drop the old schedule: the boosted one starts now
                        heapq.heappush(heap, (now, i, st.gen))
                    polling = None
                if poller is not None and polling is None and now >= next_poll:
                    polling = poller.submit(self.priority.claim, list(by_id), self.worker_id)  # type: ignore[union-attr]
                    next_poll = now + self.cfg.priority_poll_s
                while heap and heap[0][0] <= now:
                    due, i, gen = heapq.heappop(heap)
                    st = self.states[i]
                    if gen != st.gen:
                        continue  # superseded by a priority boost
                    interval = st.next_interval(now)
                    nxt = due + interval
                    if nxt <= now:  # fell behind (pool saturated or camera slower than its interval)
                        nxt = now + interval
                    heapq.heappush(heap, (nxt, i, gen))
                    if st.busy:
                        continue  # still reading the previous sample: skip this slot
                    st.busy = True
                    pool.submit(self.sample, st)
                if now >= next_flush and (pending is None or pending.done()):
                    pending = flusher.submit(self.flush)
                    next_flush = now + self.flush_every_s
                wake = min(heap[0][0] if heap else now + 0.5, next_flush)
                if max_runtime_s is not None:
                    wake = min(wake, t0 + max_runtime_s)
                stop_event.wait(max(0.0, min(wake - time.monotonic(), 0.5)))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            flusher.shutdown(wait=True)
            if poller is not None:
                poller.shutdown(wait=True)
            if follower is not None:
                follower.shutdown(wait=True)
            self.flush()
            for st in self.states:
                st.close()
            self.stats.runtime_s = time.monotonic() - t0
        return self.stats


def _source_size(reader: StreamReader | None, frame: np.ndarray) -> tuple[int, int]:
    """(width, height) of the camera's picture: the JPEG's own size when the frame was decoded reduced."""
    size = getattr(reader, "last_source_size", None)
    if size is not None and _full_jpeg(reader) is not None:
        return int(size[0]), int(size[1])
    return int(frame.shape[1]), int(frame.shape[0])


def _full_jpeg(reader: StreamReader | None) -> bytes | None:
    """The camera's own JPEG of the last frame read (snapshot and MJPEG readers keep it), else None (video)."""
    data = getattr(reader, "last_encoded", None)
    return data if isinstance(data, bytes) and getattr(reader, "frames_read", 0) > 0 else None


def _decode_full(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("the camera's JPEG could not be decoded in full")
    return img


def _closed(st: _CameraState) -> bool:
    """Close a camera that left the worker; False, so it leaves the closing list."""
    st.close()
    return False


def _warm_up() -> None:
    """Import the lazily loaded parts of pyarrow's Parquet writer now, not during the first flush."""
    pq.write_table(pa.Table.from_pylist([], schema=LANDING_SCHEMA), io.BytesIO())


def _default_blur() -> Callable[[np.ndarray], np.ndarray]:
    from privacy import blur_image

    return blur_image


def run_worker(
    cameras: Iterable[CameraSpec],
    store: Any,
    *,
    shard: str | Shard | tuple[int, int] | None = None,
    interval_s: float = 10.0,
    flush_every_s: float = 10.0,
    stop_event: threading.Event | None = None,
    analyzer_factory: AnalyzerFactory | None = None,
    max_runtime_s: float | None = None,
    worker_id: str | None = None,
    config: WorkerConfig | None = None,
    blur: Callable[[np.ndarray], np.ndarray] | bool | None = True,
    secrets: SecretResolver | None = None,
    scoring: str = "vision",
    priority: PriorityRequests | None = None,
    context: ContextFn | None = None,
    follow: Any = None,
    camera_ids: Iterable[str] | None = None,
) -> WorkerStats:
    """Capture the cameras of ``shard`` until ``stop_event`` is set (or ``max_runtime_s`` passed).

    ``blur``: True = the default face + plate blur for public keyframes, a callable = that blur,
    None/False = no public copies. ``scoring``: ``vision`` or ``passthrough`` (see ``analyzer_factory``), unless
    ``analyzer_factory`` is given. ``follow`` (``ingest.cameras.registry.RegistryFollower``): every
    ``config.registry_poll_s`` the worker asks for registry changes and applies those of its shard (and of
    ``camera_ids``, when given) without a restart. Returns the run's statistics after the final flush.
    """
    s = Shard.parse(shard)
    wanted = set(camera_ids) if camera_ids is not None else None

    def select(cams: list[CameraSpec]) -> list[CameraSpec]:
        return [c for c in select_shard(cams, s) if wanted is None or c.camera_id in wanted]

    mine = select(list(cameras))
    cfg = config or WorkerConfig()
    blur_fn: Callable[[np.ndarray], np.ndarray] | None
    blur_fn = _default_blur() if blur is True else (blur or None)  # type: ignore[assignment]
    worker = CaptureWorker(
        mine,
        store,
        interval_s=interval_s,
        flush_every_s=flush_every_s,
        analyzer_factory=analyzer_factory or make_analyzer_factory(scoring),
        worker_id=worker_id or default_worker_id(s),
        config=cfg,
        blur=blur_fn,
        secrets=secrets,
        priority=priority,
        context=context,
        follow=follow,
        select=select,
    )
    log.info("worker %s: %d cameras (shard %s), interval %.1fs", worker.worker_id, len(mine), s, interval_s)
    return worker.run(stop_event or threading.Event(), max_runtime_s)


def capture_for(
    cameras: Iterable[CameraSpec],
    store: Any,
    duration_s: float,
    *,
    interval_s: float = 10.0,
    camera_ids: Iterable[str] | None = None,
    **kwargs: Any,
) -> WorkerStats:
    """Bounded mode: capture ``duration_s`` seconds from all (or the selected) cameras, flush, return."""
    cams = list(cameras)
    if camera_ids is not None:
        wanted = set(camera_ids)
        cams = [c for c in cams if c.camera_id in wanted]
    kwargs.setdefault("flush_every_s", min(10.0, max(duration_s, 0.5)))
    return run_worker(cams, store, interval_s=interval_s, max_runtime_s=duration_s, **kwargs)


def install_signal_handlers(stop_event: threading.Event) -> dict[int, Any]:
    """SIGTERM / SIGINT set ``stop_event`` (call from the main thread): the worker flushes and returns.

    Returns the previous handlers (``restore_signal_handlers`` puts them back)."""

    def _handler(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping after the current samples", signum)
        stop_event.set()

    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, _handler)
    return previous


def restore_signal_handlers(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def run_capture(
    cameras: Iterable[CameraSpec],
    store: Any,
    *,
    shard: str | None = None,
    interval_s: float = 10.0,
    flush_every_s: float = 10.0,
    duration_s: float | None = None,
    **kwargs: Any,
) -> WorkerStats:
    """Entry point for ``pantau capture``: long-running (or ``duration_s``) with SIGTERM handling."""
    stop = threading.Event()
    in_main = threading.current_thread() is threading.main_thread()
    previous: dict[int, Any] = install_signal_handlers(stop) if in_main else {}
    try:
        return run_worker(
            cameras,
            store,
            shard=shard,
            interval_s=interval_s,
            flush_every_s=flush_every_s,
            stop_event=stop,
            max_runtime_s=duration_s,
            **kwargs,
        )
    finally:
        restore_signal_handlers(previous)


def run_capture_command(
    lake: Any,
    store: Any,
    *,
    shard: str | None = None,
    interval_s: float = 10.0,
    flush_every_s: float = 10.0,
    duration_s: float | None = None,
    cameras_file: str | None = None,
    camera_ids: Iterable[str] | None = None,
    max_threads: int = 32,
    public_keyframes: bool = True,
    secrets_file: str | None = None,
    scoring: str = "vision",
    priority: bool = True,
    priority_interval_s: float = 1.0,
    priority_boost_s: float = 120.0,
    lake_factory: Callable[[], Any] | None = None,
    registry_poll_s: float = 5.0,
) -> dict[str, Any]:
    """What ``pantau capture`` runs: cameras from the lake (or a CSV/JSON file), this shard, until SIGTERM
    (or ``duration_s``); returns the run statistics as a dict. With ``priority`` (and a lake), panic-button
    priority requests for these cameras are served: sampled every ``priority_interval_s`` for ``priority_boost_s``.

    The worker follows registry changes of its shard every ``registry_poll_s`` (``RegistryFollower``): the file by
    modification time, or the lake through ``lake_factory`` (a fresh read-only handle per poll, so commits of
    other processes are seen); without either it keeps its first list."""
    from ingest.cameras.registry import RegistryFollower, load_cameras_file, load_cameras_lake

    follow: RegistryFollower | None = None
    if cameras_file:
        follow = RegistryFollower(cameras_file=cameras_file)
    elif lake_factory is not None:
        follow = RegistryFollower(lake_factory=lake_factory)
    first = follow.poll() if follow is not None else None
    if first is not None:
        cams = first[0]
    else:
        cams = load_cameras_file(cameras_file) if cameras_file else load_cameras_lake(lake)
    stats = run_capture(
        cams,
        store,
        shard=shard,
        interval_s=interval_s,
        flush_every_s=flush_every_s,
        duration_s=duration_s,
        config=WorkerConfig(
            max_threads=max_threads,
            priority_interval_s=priority_interval_s,
            priority_boost_s=priority_boost_s,
            registry_poll_s=registry_poll_s,
        ),
        blur=public_keyframes,
        secrets=SecretResolver(secrets_file),
        scoring=scoring,
        priority=LakePriorityRequests(lake) if priority and lake is not None else None,
        context=FloodContextProvider(lake) if lake is not None else None,
        follow=follow,
        camera_ids=list(camera_ids) if camera_ids else None,
    )
    return stats.as_dict()
