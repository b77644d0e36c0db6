"""Camera leases in PostgreSQL: capture workers split the inventory without a coordinator.

Every camera has one row in ``camera_leases`` (camera_id, worker_id, expires_at, generation). A worker

1. heartbeats its row in ``capture_workers`` (so every worker knows how many are alive),
2. renews its own unexpired leases (``expires_at = now() + ttl``),
3. claims free or expired rows up to its fair share ``ceil(active cameras / live workers)`` with
   ``SELECT ... FOR UPDATE SKIP LOCKED`` (two workers never block on, nor take, the same row),
4. gives back cameras above its fair share (after it stopped capturing them) so a new worker gets some.

Guarantees (all times are PostgreSQL's ``now()``; a worker's local view only ever shrinks a lease):

* no double capture: a row has one ``worker_id``; a worker captures a camera only while its *local* lease
  deadline (taken before the renew request was sent, minus ``safety_s``) has not passed, so a worker cut off
  from PostgreSQL stops capturing before anybody else may claim the camera;
* no gap: every active row is either held or claimable; a dead worker's cameras become claimable at its
  ``expires_at`` and are claimed at the next heartbeat of a live worker, so takeover takes at most
  ``ttl_s + heartbeat_s`` (a cleanly stopped worker releases at once).

``LeaseManager`` is the protocol (pure psycopg2, no Dagster); ``run_leased_capture`` drives the capture worker
(``ingest.cameras.worker``) with the camera set the leases give, adding and dropping cameras at each heartbeat.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

SCHEMA_LOCK_KEY = 7_301_001  # pg_advisory_xact_lock key serialising the DDL below

DDL = (
    """
    CREATE TABLE IF NOT EXISTS camera_leases (
        camera_id   TEXT PRIMARY KEY,
        worker_id   TEXT,
        expires_at  TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
        acquired_at TIMESTAMPTZ,
        renewed_at  TIMESTAMPTZ,
        generation  BIGINT NOT NULL DEFAULT 0,
        active      BOOLEAN NOT NULL DEFAULT true
    )
    """,
    "CREATE INDEX IF NOT EXISTS camera_leases_worker ON camera_leases (worker_id)",
    """
    CREATE TABLE IF NOT EXISTS capture_workers (
        worker_id    TEXT PRIMARY KEY,
        hostname     TEXT,
        pid          INTEGER,
        started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        expires_at   TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS capture_inventory (
        id        INTEGER PRIMARY KEY,
        version   BIGINT NOT NULL,
        synced_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
)
# Registry-following workers sync the inventory only forward: a worker with an older registry view never
# re-activates a camera that a worker with a newer view has retired (the row lock orders concurrent syncs).
CLAIM_INVENTORY_VERSION = """
INSERT INTO capture_inventory (id, version) VALUES (1, %s)
ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, synced_at = now()
WHERE capture_inventory.version <= EXCLUDED.version
RETURNING version
"""
SYNC_INVENTORY = (
    "INSERT INTO camera_leases (camera_id) SELECT unnest(%s::text[]) "
    "ON CONFLICT (camera_id) DO UPDATE SET active = true WHERE NOT camera_leases.active"
)
DEACTIVATE_MISSING = "UPDATE camera_leases SET active = false WHERE active AND NOT (camera_id = ANY(%s::text[]))"
HEARTBEAT_WORKER = """
INSERT INTO capture_workers (worker_id, hostname, pid, expires_at)
VALUES (%s, %s, %s, now() + make_interval(secs => %s))
ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now(), expires_at = EXCLUDED.expires_at
"""
RENEW = """
UPDATE camera_leases SET expires_at = now() + make_interval(secs => %s), renewed_at = now()
WHERE worker_id = %s AND expires_at > now() AND active
RETURNING camera_id
"""
FAIR_SHARE = """
SELECT (SELECT count(*) FROM camera_leases WHERE active),
       (SELECT count(*) FROM capture_workers WHERE expires_at > now())
"""
CLAIM = """
WITH free AS (
    SELECT camera_id FROM camera_leases
    WHERE active AND (worker_id IS NULL OR expires_at <= now())
    ORDER BY md5(camera_id || %s)
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE camera_leases l
SET worker_id = %s, expires_at = now() + make_interval(secs => %s), acquired_at = now(), renewed_at = now(),
    generation = l.generation + 1
FROM free WHERE l.camera_id = free.camera_id
RETURNING l.camera_id
"""
RELEASE = (
    "UPDATE camera_leases SET worker_id = NULL, expires_at = '-infinity' "
    "WHERE worker_id = %s AND camera_id = ANY(%s::text[])"
)
RELEASE_ALL = "UPDATE camera_leases SET worker_id = NULL, expires_at = '-infinity' WHERE worker_id = %s"
DELETE_WORKER = "DELETE FROM capture_workers WHERE worker_id = %s"
FORGET_DEAD_WORKERS = "DELETE FROM capture_workers WHERE expires_at < now() - interval '1 hour'"
LEASE_TABLE = "SELECT camera_id, worker_id, expires_at > now() AS live, generation FROM camera_leases WHERE active"


@dataclass(frozen=True)
class LeaseConfig:
    """``ttl_s``: how long a lease lives without renewal (the takeover bound is ``ttl_s + heartbeat_s``).

    ``safety_s`` is subtracted from the local deadline: it must exceed the longest in-flight sample (the
    reader's timeout) plus clock-rate drift, so the old owner has stopped before a new one may start.
    """

    dsn: str
    ttl_s: float = 30.0
    heartbeat_s: float = 10.0
    safety_s: float = 5.0
    rebalance: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat_s < self.ttl_s:
            raise ValueError("need 0 < heartbeat_s < ttl_s")
        if not 0 <= self.safety_s < self.ttl_s - self.heartbeat_s:
            raise ValueError("need 0 <= safety_s < ttl_s - heartbeat_s (a renewed lease must outlive a heartbeat)")


@dataclass
class LeaseState:
    """What one heartbeat decided: the cameras this worker may capture now and the fair share."""

    owned: frozenset[str]
    claimed: frozenset[str]
    lost: frozenset[str]
    target: int
    live_workers: int
    total: int


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class LeaseManager:
    """One worker's side of the lease protocol. Not thread-safe: call from one thread."""

    def __init__(self, config: LeaseConfig, worker_id: str | None = None, connect: Callable[[], Any] | None = None):
        self.cfg = config
        self.worker_id = worker_id or default_worker_id()
        self._connect = connect or self._default_connect
        self._conn: Any = None
        self._deadline: dict[str, float] = {}  # camera_id -> local monotonic deadline
        self.errors = 0

    # -- connection -----------------------------------------------------------------------
    def _default_connect(self) -> Any:
        import psycopg2

        conn = psycopg2.connect(self.cfg.dsn, connect_timeout=max(1, int(self.cfg.heartbeat_s)))
        conn.autocommit = False
        return conn

    def _cursor_conn(self) -> Any:
        if self._conn is None or bool(getattr(self._conn, "closed", False)):
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a broken connection
                log.debug("lease connection close failed", exc_info=True)
            self._conn = None

    def _tx(self, fn: Callable[[Any], Any]) -> Any:
        conn = self._cursor_conn()
        try:
            with conn.cursor() as cur:
                out = fn(cur)
            conn.commit()
            return out
        except Exception:
            try:
                conn.rollback()
            except Exception:
                self.close()
            raise

    # -- schema and inventory ---------------------------------------------------------------
    def ensure_schema(self) -> None:
        def _do(cur: Any) -> None:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            for stmt in DDL:
                cur.execute(stmt)

        self._tx(_do)

    def sync_inventory(
        self, camera_ids: Sequence[str], *, deactivate_missing: bool = True, version: int | None = None
    ) -> bool:
        """Make the lease table list exactly ``camera_ids`` as active (idempotent; any worker may call it).

        With ``version`` (the registry version the ids come from) the sync happens only if no newer version was
        synced already; returns whether it happened."""
        ids = sorted(set(camera_ids))

        def _do(cur: Any) -> bool:
            if version is not None:
                cur.execute(CLAIM_INVENTORY_VERSION, (int(version),))
                if cur.fetchone() is None:
                    return False
            cur.execute(SYNC_INVENTORY, (ids,))
            if deactivate_missing:
                cur.execute(DEACTIVATE_MISSING, (ids,))
            return True

        return bool(self._tx(_do))

    # -- the heartbeat ------------------------------------------------------------------------
    def owned(self) -> frozenset[str]:
        """Cameras whose local lease deadline has not passed: the only ones this worker may capture."""
        now = time.monotonic()
        return frozenset(c for c, d in self._deadline.items() if d > now)

    def heartbeat(self) -> LeaseState:
        """Renew, then claim up to the fair share. On a database error the local leases simply run out."""
        before = self.owned()
        t_sent = time.monotonic()
        cfg = self.cfg

        def _do(cur: Any) -> tuple[set[str], set[str], int, int, int]:
            cur.execute(HEARTBEAT_WORKER, (self.worker_id, socket.gethostname(), os.getpid(), cfg.ttl_s))
            cur.execute(RENEW, (cfg.ttl_s, self.worker_id))
            renewed = {r[0] for r in cur.fetchall()}
            cur.execute(FAIR_SHARE)
            total, live = cur.fetchone()
            target = math.ceil(int(total) / max(int(live), 1))
            claimed: set[str] = set()
            want = target - len(renewed)
            if want > 0:
                cur.execute(CLAIM, (self.worker_id, want, self.worker_id, cfg.ttl_s))
                claimed = {r[0] for r in cur.fetchall()}
            return renewed, claimed, target, int(live), int(total)

        try:
            renewed, claimed, target, live, total = self._tx(_do)
        except Exception as exc:
            self.errors += 1
            log.warning("lease heartbeat failed for %s (%s): leases run out locally", self.worker_id, exc)
            owned = self.owned()
            return LeaseState(owned, frozenset(), before - owned, 0, 0, 0)
        deadline = t_sent + cfg.ttl_s - cfg.safety_s
        self._deadline = {c: deadline for c in renewed | claimed}
        owned = self.owned()
        return LeaseState(owned, frozenset(claimed - before), before - owned, target, live, total)

    def surplus(self, state: LeaseState) -> list[str]:
        """Cameras above the fair share this worker should give back (sorted; empty without rebalancing)."""
        if not self.cfg.rebalance or state.target <= 0 or len(state.owned) <= state.target:
            return []
        return sorted(state.owned)[state.target :]

    def release(self, camera_ids: Iterable[str]) -> None:
        """Give cameras back (call only after capture of them has stopped)."""
        ids = sorted(set(camera_ids))
        if not ids:
            return
        for c in ids:
            self._deadline.pop(c, None)
        self._tx(lambda cur: cur.execute(RELEASE, (self.worker_id, ids)))

    def release_all(self) -> None:
        """Clean shutdown: every lease is free at once and this worker no longer counts as live."""
        self._deadline.clear()

        def _do(cur: Any) -> None:
            cur.execute(RELEASE_ALL, (self.worker_id,))
            cur.execute(DELETE_WORKER, (self.worker_id,))
            cur.execute(FORGET_DEAD_WORKERS)

        try:
            self._tx(_do)
        except Exception as exc:  # the leases expire by themselves within ttl
            log.warning("could not release leases of %s: %s", self.worker_id, exc)


def lease_table(dsn: str) -> list[tuple[str, str | None, bool, int]]:
    """(camera_id, worker_id, live, generation) of every active camera: for operators and tests."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(LEASE_TABLE)
            return [(str(r[0]), r[1], bool(r[2]), int(r[3])) for r in cur.fetchall()]
    finally:
        conn.close()


# -- leased capture ------------------------------------------------------------------------------------------------
@dataclass
class LeasedRunStats:
    worker_id: str
    heartbeats: int = 0
    heartbeat_errors: int = 0
    claimed: int = 0
    lost: int = 0
    released: int = 0
    max_owned: int = 0
    registry_updates: int = 0
    capture: dict[str, Any] = field(default_factory=dict)


def run_leased_capture(
    cameras: Iterable[Any],
    store: Any,
    lease: LeaseConfig,
    *,
    interval_s: float = 10.0,
    flush_every_s: float = 10.0,
    stop_event: threading.Event | None = None,
    max_runtime_s: float | None = None,
    worker_id: str | None = None,
    analyzer_factory: Any = None,
    config: Any = None,
    blur: Any = True,
    on_heartbeat: Callable[[LeaseState], None] | None = None,
    sync_inventory: bool = True,
    metrics: Any = None,
    follow: Any = None,
    secrets: Any = None,
    scoring: str = "vision",
    priority: Any = None,
    context: Any = None,
) -> LeasedRunStats:
    """Capture whatever cameras of ``cameras`` (CameraSpec) the leases give this worker, until stopped.

    The scheduling, reading, scoring, keyframes and landing are the capture worker's (one ``CaptureWorker``
    whose camera set changes at each heartbeat); cameras lost or given back are dropped before the lease is
    released. On exit the last batch is flushed and all leases are released. ``metrics``
    (``ingest.cameras.metrics.CaptureMetrics``) is updated at every heartbeat.

    ``follow`` (``ingest.cameras.registry.RegistryFollower``) makes the worker follow the registry without a
    restart: before every heartbeat it asks for changes; a new camera joins the lease inventory (claimable at
    this heartbeat), a retired one leaves it and is dropped at once, and a changed one (URL, kind, secret,
    interval) is reopened with its new spec. A change is in effect within one heartbeat (< the lease ttl).
    ``scoring``: ``vision`` or ``passthrough`` (``ingest.cameras.passthrough.analyzer_factory``), unless
    ``analyzer_factory`` is given.
    """
    from ingest.cameras import worker as W
    from ingest.cameras.passthrough import analyzer_factory as make_analyzer_factory

    specs = {c.camera_id: c for c in cameras}
    stop = stop_event or threading.Event()
    wid = worker_id or W.safe_key_part(f"{default_worker_id()}-lease")
    mgr = LeaseManager(lease, wid)
    mgr.ensure_schema()
    version: int | None = None
    if follow is not None:
        first = follow.poll()
        if first is not None:
            specs = {c.camera_id: c for c in first[0]}
            version = first[1]
    if sync_inventory:
        mgr.sync_inventory(list(specs), version=version)
    cfg = config or W.WorkerConfig()
    blur_fn = W._default_blur() if blur is True else (blur or None)
    cw = W.CaptureWorker(
        [],
        store,
        interval_s=interval_s,
        flush_every_s=flush_every_s,
        analyzer_factory=analyzer_factory or make_analyzer_factory(scoring),
        worker_id=wid,
        config=cfg,
        blur=blur_fn,
        secrets=secrets,
        context=context,
    )
    stats = LeasedRunStats(worker_id=wid)
    states: dict[str, Any] = {}
    heap: list[tuple[float, str, int]] = []
    serial = 0
    pool = ThreadPoolExecutor(max_workers=max(1, cfg.max_threads), thread_name_prefix="leased-capture")
    flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leased-flush")
    t0 = time.monotonic()
    next_hb = t0
    next_flush = t0 + flush_every_s
    pending: Any = None
    # panic-button priority requests for the cameras this worker holds (ingest/cameras/priority.py)
    poller = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leased-priority") if priority else None
    polling: Any = None
    next_poll = t0

    def _drop(ids: Iterable[str]) -> None:
        for cid in ids:
            st = states.pop(cid, None)
            if st is None:
                continue
            while st.busy:  # an in-flight sample finishes (bounded by the reader timeout) before we let go
                time.sleep(0.01)
            st.close()

    try:
        while not stop.is_set():
            now = time.monotonic()
            if max_runtime_s is not None and now - t0 >= max_runtime_s:
                break
            if now >= next_hb:
                if follow is not None:
                    specs = _follow_registry(follow, specs, mgr, _drop, stats)
                state = mgr.heartbeat()
                stats.heartbeats += 1
                stats.heartbeat_errors = mgr.errors
                extra = mgr.surplus(state)
                _drop(set(states) - set(state.owned) | set(extra))
                if extra:
                    mgr.release(extra)
                    stats.released += len(extra)
                stats.lost += len(state.lost)
                for i, cid in enumerate(sorted(state.owned - set(extra) - set(states))):
                    if cid not in specs:
                        continue
                    st = W._CameraState(specs[cid], interval_s, cfg)
                    states[cid] = st
                    stats.claimed += 1
                    serial += 1
                    st.serial = serial
                    heapq.heappush(heap, (now + (i % 97) / 97 * st.interval_s, cid, serial))
                stats.max_owned = max(stats.max_owned, len(states))
                if metrics is not None:
                    metrics.update_from_worker(cw, list(states.values()))
                    metrics.observe_lease(len(states), mgr.errors)
                if on_heartbeat is not None:
                    on_heartbeat(state)
                next_hb = now + lease.heartbeat_s
            if polling is not None and polling.done():
                for req in cw._served(polling):
                    boosted = states.get(req.camera_id)
                    if boosted is None:
                        continue  # given up since the poll: the worker that holds it now serves the next ones
                    boosted.boost_interval_s = min(cfg.priority_interval_s, boosted.interval_s)
                    boosted.boost_until = now + cfg.priority_boost_s
                    serial += 1
                    boosted.serial = serial  # the boosted schedule replaces the old one, starting now
                    heapq.heappush(heap, (now, req.camera_id, serial))
                polling = None
            if poller is not None and polling is None and now >= next_poll and states:
                polling = poller.submit(priority.claim, sorted(states), wid)
                next_poll = now + cfg.priority_poll_s
            owned_now = mgr.owned()  # local deadlines: stop sampling a camera whose lease ran out
            while heap and heap[0][0] <= now:
                due, cid, ser = heapq.heappop(heap)
                cur_st = states.get(cid)
                if cur_st is None or cur_st.serial != ser:
                    continue  # dropped, or reopened under a newer schedule entry
                if cid not in owned_now:
                    _drop([cid])
                    continue
                interval = cur_st.next_interval(now)
                nxt = due + interval
                heapq.heappush(heap, (nxt if nxt > now else now + interval, cid, ser))
                if cur_st.busy:
                    continue
                cur_st.busy = True
                pool.submit(cw.sample, cur_st)
            if now >= next_flush and (pending is None or pending.done()):
                pending = flusher.submit(cw.flush)
                next_flush = now + flush_every_s
            wake = min(heap[0][0] if heap else now + 0.5, next_flush, next_hb)
            stop.wait(max(0.0, min(wake - time.monotonic(), 0.5)))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if poller is not None:
            poller.shutdown(wait=True)
        for st in states.values():  # no sample runs now; a cancelled (never started) one left its flag set
            st.busy = False
        flusher.shutdown(wait=True)
        cw.flush()
        _drop(list(states))
        mgr.release_all()
        mgr.close()
        cw.stats.runtime_s = time.monotonic() - t0
        if metrics is not None:
            metrics.update_from_worker(cw, [])
            metrics.observe_lease(0, mgr.errors)
        stats.capture = cw.stats.as_dict()
    return stats


def _follow_registry(
    follow: Any, specs: dict[str, Any], mgr: LeaseManager, drop: Callable[[Iterable[str]], None], stats: LeasedRunStats
) -> dict[str, Any]:
    """Apply a registry change (if any) to this worker: new specs, lease inventory, reopened cameras."""
    try:
        upd = follow.poll()
    except Exception as exc:  # the registry being unreadable for a moment keeps the cameras we have
        log.warning("registry poll failed (%s): keeping %d cameras", exc, len(specs))
        return specs
    if upd is None:
        return specs
    new = {c.camera_id: c for c in upd[0]}
    gone = set(specs) - set(new)
    changed = {cid for cid in set(specs) & set(new) if specs[cid] != new[cid]}
    drop(gone | changed)  # changed ones are reopened with the new spec right after the heartbeat
    mgr.sync_inventory(list(new), version=upd[1])
    stats.registry_updates += 1
    log.info(
        "registry version %s: %d cameras (%d added, %d removed, %d changed)",
        upd[1], len(new), len(set(new) - set(specs)), len(gone), len(changed),
    )  # fmt: skip
    return new


def run_leased_capture_command(
    lake: Any,
    store: Any,
    *,
    lease_dsn: str,
    ttl_s: float = 30.0,
    heartbeat_s: float = 10.0,
    safety_s: float = 5.0,
    interval_s: float = 10.0,
    flush_every_s: float = 10.0,
    duration_s: float | None = None,
    cameras_file: str | None = None,
    max_threads: int = 32,
    metrics_port: int = 0,
    public_keyframes: bool = True,
    worker_id: str | None = None,
    lake_factory: Callable[[], Any] | None = None,
    secrets_file: str | None = None,
    scoring: str = "vision",
    priority_lake: Any = None,
    priority_interval_s: float = 1.0,
    priority_boost_s: float = 120.0,
) -> dict[str, Any]:
    """What ``pantau capture --lease`` runs: cameras from the lake (or a file), leased from PostgreSQL, until
    SIGTERM/SIGINT (or ``duration_s``); serves Prometheus metrics on ``metrics_port`` (0 = off).

    The worker follows registry changes (``RegistryFollower``): the file by modification time, or the lake
    through ``lake_factory`` (a fresh read-only handle per poll); without either it keeps its first list.
    With ``priority_lake`` (a writable lake) it serves panic-button priority requests for the cameras it holds and
    passes flood context to scoring."""
    from ingest.cameras.metrics import CaptureMetrics, start_metrics_server
    from ingest.cameras.priority import LakePriorityRequests
    from ingest.cameras.registry import RegistryFollower, load_cameras_file, load_cameras_lake
    from ingest.cameras.worker import WorkerConfig, install_signal_handlers
    from ingest.context.flood import FloodContextProvider
    from ingest.registry.secrets import SecretResolver

    follow: RegistryFollower | None = None
    if cameras_file:
        follow = RegistryFollower(cameras_file=cameras_file)
    elif lake_factory is not None:
        follow = RegistryFollower(lake_factory=lake_factory)
    cams = [] if follow else (load_cameras_file(cameras_file) if cameras_file else load_cameras_lake(lake))
    stop = threading.Event()
    install_signal_handlers(stop)
    metrics = CaptureMetrics(worker_id=worker_id or default_worker_id())
    server = start_metrics_server(metrics_port, registry=metrics.registry) if metrics_port else None
    try:
        stats = run_leased_capture(
            cams,
            store,
            LeaseConfig(dsn=lease_dsn, ttl_s=ttl_s, heartbeat_s=heartbeat_s, safety_s=safety_s),
            interval_s=interval_s,
            flush_every_s=flush_every_s,
            stop_event=stop,
            max_runtime_s=duration_s,
            worker_id=worker_id,
            config=WorkerConfig(
                max_threads=max_threads,
                read_timeout_s=min(10.0, max(1.0, safety_s - 1.0)),
                priority_interval_s=priority_interval_s,
                priority_boost_s=priority_boost_s,
            ),
            blur=public_keyframes,
            metrics=metrics,
            follow=follow,
            secrets=SecretResolver(secrets_file),
            scoring=scoring,
            priority=LakePriorityRequests(priority_lake) if priority_lake is not None else None,
            context=FloodContextProvider(priority_lake) if priority_lake is not None else None,
        )
    finally:
        if server is not None:
            server.shutdown()
    return {
        "worker_id": stats.worker_id,
        "heartbeats": stats.heartbeats,
        "heartbeat_errors": stats.heartbeat_errors,
        "claimed": stats.claimed,
        "released": stats.released,
        "lost": stats.lost,
        "max_owned": stats.max_owned,
        "registry_updates": stats.registry_updates,
        **stats.capture,
    }
