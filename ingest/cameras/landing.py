"""Landing zone -> lake, exactly once.

``ingest_landed_batches(lake, store)`` lists ``landing/frames/**.parquet``, drops the keys already in the
``landed_batches`` ledger and ingests the rest in groups. Each group is ONE lake transaction
(``lake.write``) that

1. re-reads the ledger inside the transaction (a concurrent run may have ingested some keys meanwhile),
2. inserts the rows into ``frames``, ``frame_scores`` (analysed samples) and ``camera_health_transitions``,
3. recomputes ``camera_events`` for every (camera, 5-minute window) the group touched (delete + insert from
   ``frames``/``frame_scores``, so a window fed by several batches or workers is always complete),
4. records the keys in ``landed_batches``.

All or nothing: a crash before the commit leaves no rows and no ledger entries, so the next run redoes the
group; after the commit the ledger stops a second run. Running twice therefore gives each row once.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.cameras.worker import LANDING_PREFIX, LANDING_SCHEMA

log = logging.getLogger(__name__)

WINDOW_S = 300
MOTION_EVENT = 0.02  # share of changed pixels that counts as a motion event
HAZARD_FRAME = 0.5  # score at or above which a frame counts as a fire/smoke/flood frame

SELECT_LEDGER_KEYS = "SELECT key FROM landed_batches"
INSERT_FRAMES = (
    "INSERT INTO frames BY NAME SELECT camera_id, captured_at, batch_id, seq, keyframe_uri, public_uri, width, "
    "height, status, decode_ms, fetch_ms, worker_id, reason FROM _landing"
)
INSERT_SCORES = (
    "INSERT INTO frame_scores BY NAME SELECT camera_id, captured_at, batch_id, fire, smoke, flood, "
    "flood_depth_class, persons, crowd_density, crowd_level, crowd, motion, health, risk_level, risk_hazard, "
    "model_version, features, level_fire, level_smoke, level_flood, level_crowd, cars, motorcycles, buses_trucks, "
    "vehicles FROM _landing WHERE scored"
)
INSERT_TRANSITIONS = (
    'INSERT INTO camera_health_transitions BY NAME SELECT camera_id, captured_at AS "at", '
    "transition_from AS from_status, status AS to_status, reason, batch_id FROM _landing WHERE is_transition"
)
DELETE_WINDOWS = (
    "DELETE FROM camera_events WHERE (camera_id, window_start) IN (SELECT (camera_id, window_start) FROM _touched)"
)
INSERT_WINDOWS = """
INSERT INTO camera_events BY NAME
SELECT f.camera_id,
       t.window_start,
       t.window_start + to_microseconds(?::BIGINT) AS window_end,
       count(*) FILTER (WHERE f.status = 'ok')::INTEGER AS frames_ok,
       count(*) FILTER (WHERE f.status <> 'ok')::INTEGER AS frames_failed,
       max(s.persons) AS persons_max,
       avg(s.persons) AS persons_mean,
       count(*) FILTER (WHERE s.motion >= ?)::INTEGER AS motion_events,
       count(*) FILTER (WHERE s.fire >= ?)::INTEGER AS fire_frames,
       count(*) FILTER (WHERE s.smoke >= ?)::INTEGER AS smoke_frames,
       count(*) FILTER (WHERE s.flood >= ?)::INTEGER AS flood_frames,
       (count(*) FILTER (WHERE f.status = 'ok'))::DOUBLE / count(*) AS uptime,
       count(*) FILTER (WHERE f.status IN ('offline', 'decode_error'))::INTEGER AS frames_offline,
       count(*) FILTER (WHERE f.status = 'frozen')::INTEGER AS frames_frozen,
       count(*) FILTER (WHERE f.status = 'tampered')::INTEGER AS frames_tampered,
       max(s.fire) AS fire_max,
       max(s.smoke) AS smoke_max,
       max(s.flood) AS flood_max,
       max(s.vehicles) AS vehicles_max,
       avg(s.vehicles) AS vehicles_mean,
       avg(s.cars) AS cars_mean,
       avg(s.motorcycles) AS motorcycles_mean,
       avg(s.buses_trucks) AS buses_trucks_mean
FROM _touched t
JOIN frames f
  ON f.camera_id = t.camera_id
 AND f.captured_at >= t.window_start
 AND f.captured_at < t.window_start + to_microseconds(?::BIGINT)
LEFT JOIN frame_scores s
  ON s.camera_id = f.camera_id AND s.captured_at = f.captured_at AND s.batch_id = f.batch_id
WHERE f.captured_at >= ? AND f.captured_at < ?
GROUP BY f.camera_id, t.window_start
"""
INSERT_LEDGER = "INSERT INTO landed_batches BY NAME SELECT * FROM _ledger"


@dataclass
class LandingStats:
    files_seen: int = 0
    files_ingested: int = 0
    files_already: int = 0
    bad_files: list[str] = field(default_factory=list)
    frames: int = 0
    scores: int = 0
    transitions: int = 0
    windows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "files_ingested": self.files_ingested,
            "files_already": self.files_already,
            "bad_files": len(self.bad_files),
            "frames": self.frames,
            "scores": self.scores,
            "transitions": self.transitions,
            "windows": self.windows,
        }


def _ledger_keys(reader: Any) -> set[str]:
    return {str(k) for k in reader.query(SELECT_LEDGER_KEYS).column(0).to_pylist()}


def pending_keys(lake: Any, store: Any, prefix: str = LANDING_PREFIX) -> list[tuple[str, float]]:
    """(key, mtime) of landing Parquet files not yet in the ledger, oldest key first."""
    done = _ledger_keys(lake)
    return sorted((o.key, o.mtime) for o in store.list(prefix) if o.key.endswith(".parquet") and o.key not in done)


def read_landing_file(store: Any, key: str) -> pa.Table:
    """One landing file as a table with exactly ``LANDING_SCHEMA`` (missing optional columns become NULL)."""
    table = pq.read_table(io.BytesIO(store.get_bytes(key)))
    cols = []
    for f in LANDING_SCHEMA:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=LANDING_SCHEMA)


def _touched_windows(table: pa.Table, window_s: int) -> pa.Table:
    """Distinct (camera_id, window_start) of a landing table; window_start = floor(captured_at / window)."""
    us = table.column("captured_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    w = int(window_s * 1_000_000)
    starts = (us // w) * w
    cams = np.asarray(table.column("camera_id").to_pylist(), dtype=object)
    pairs = sorted(set(zip(cams.tolist(), starts.tolist(), strict=True)))
    return pa.table(
        {
            "camera_id": pa.array([p[0] for p in pairs], pa.string()),
            "window_start": pa.array([p[1] for p in pairs], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        }
    )


def _ingest_group(lake: Any, files: list[tuple[str, float, pa.Table]], window_s: int, stats: LandingStats) -> None:
    def _do(cur: Any) -> tuple[int, int, int, int, int, int]:
        done = {str(r[0]) for r in cur.execute(SELECT_LEDGER_KEYS).fetchall()}
        todo = [f for f in files if f[0] not in done]
        if not todo:
            return 0, 0, 0, 0, len(files), 0
        landing = pa.concat_tables([t for _, _, t in todo])
        now = datetime.now(UTC)
        ledger = pa.table(
            {
                "batch_id": [(t.column("batch_id")[0].as_py() if t.num_rows else None) for _, _, t in todo],
                "key": [k for k, _, _ in todo],
                "camera_count": pa.array([len(pc.unique(t.column("camera_id"))) for _, _, t in todo], pa.int32()),
                "rows": pa.array([t.num_rows for _, _, t in todo], pa.int64()),
                "landed_at": pa.array(
                    [datetime.fromtimestamp(m, UTC) for _, m, _ in todo], pa.timestamp("us", tz="UTC")
                ),
                "ingested_at": pa.array([now] * len(todo), pa.timestamp("us", tz="UTC")),
                "worker_id": [(t.column("worker_id")[0].as_py() if t.num_rows else None) for _, _, t in todo],
            }
        )
        touched = _touched_windows(landing, window_s)
        n_scores = int(pc.sum(landing.column("scored").fill_null(False)).as_py() or 0)
        n_trans = int(pc.sum(landing.column("is_transition").fill_null(False)).as_py() or 0)
        cur.register("_landing", landing)
        cur.register("_touched", touched)
        cur.register("_ledger", ledger)
        try:
            if landing.num_rows:
                cur.execute(INSERT_FRAMES)
                cur.execute(INSERT_SCORES)
                cur.execute(INSERT_TRANSITIONS)
            if touched.num_rows:
                w_us = int(window_s * 1_000_000)
                lo = touched.column("window_start").to_pylist()
                cur.execute(DELETE_WINDOWS)
                cur.execute(
                    INSERT_WINDOWS,
                    [
                        w_us,
                        MOTION_EVENT,
                        HAZARD_FRAME,
                        HAZARD_FRAME,
                        HAZARD_FRAME,
                        w_us,
                        min(lo),
                        max(lo) + timedelta(seconds=window_s),
                    ],
                )
            cur.execute(INSERT_LEDGER)
        finally:
            for name in ("_landing", "_touched", "_ledger"):
                cur.unregister(name)
        return len(todo), landing.num_rows, n_scores, n_trans, len(files) - len(todo), touched.num_rows

    n_files, n_frames, n_scores, n_trans, n_already, n_windows = lake.write(_do)
    stats.files_ingested += n_files
    stats.files_already += n_already
    stats.frames += n_frames
    stats.scores += n_scores
    stats.transitions += n_trans
    stats.windows += n_windows


def ingest_landed_batches(
    lake: Any,
    store: Any,
    *,
    prefix: str = LANDING_PREFIX,
    files_per_transaction: int = 50,
    window_s: int = WINDOW_S,
    max_files: int | None = None,
) -> LandingStats:
    """Ingest every landing file not yet in the ledger; each file's rows land exactly once."""
    stats = LandingStats()
    keys = pending_keys(lake, store, prefix)
    if max_files is not None:
        keys = keys[:max_files]
    stats.files_seen = len(keys)
    group: list[tuple[str, float, pa.Table]] = []
    for key, mtime in keys:
        try:
            table = read_landing_file(store, key)
        except Exception as exc:  # unreadable: leave it out of the ledger so an operator can look at it
            log.error("landing file %s is unreadable (%s); skipped", key, exc)
            stats.bad_files.append(key)
            continue
        group.append((key, mtime, table))
        if len(group) >= files_per_transaction:
            _ingest_group(lake, group, window_s, stats)
            group = []
    if group:
        _ingest_group(lake, group, window_s, stats)
    log.info("landing ingest: %s", stats.as_dict())
    return stats


# -- daily roll-up and keyframe retention (called by assets/cameras.py) ------------------------------------------
DELETE_DAY = "DELETE FROM camera_events_daily WHERE day = ?::DATE"
INSERT_DAY = """
INSERT INTO camera_events_daily BY NAME
SELECT ?::DATE AS day, camera_id,
       sum(frames_ok + frames_failed)::INTEGER AS samples,
       sum(frames_ok)::INTEGER AS frames_ok,
       sum(frames_failed)::INTEGER AS frames_failed,
       sum(frames_ok)::DOUBLE / nullif(sum(frames_ok + frames_failed), 0) AS uptime,
       sum(frames_offline)::INTEGER AS frames_offline,
       sum(frames_frozen)::INTEGER AS frames_frozen,
       sum(frames_tampered)::INTEGER AS frames_tampered,
       max(persons_max) AS persons_max,
       sum(motion_events)::INTEGER AS motion_events,
       sum(fire_frames)::INTEGER AS fire_frames,
       sum(smoke_frames)::INTEGER AS smoke_frames,
       sum(flood_frames)::INTEGER AS flood_frames,
       max(fire_max) AS fire_max, max(smoke_max) AS smoke_max, max(flood_max) AS flood_max,
       now() AS computed_at
FROM camera_events
WHERE window_start >= ?::DATE::TIMESTAMPTZ AND window_start < (?::DATE + INTERVAL 1 DAY)::TIMESTAMPTZ
GROUP BY camera_id
"""


def rollup_camera_day(lake: Any, day: str) -> int:
    """Recompute ``camera_events_daily`` for one UTC day (YYYY-MM-DD) from ``camera_events``; idempotent."""

    def _do(cur: Any) -> int:
        cur.execute(DELETE_DAY, [day])
        cur.execute(INSERT_DAY, [day, day, day])
        row = cur.execute("SELECT count(*) FROM camera_events_daily WHERE day = ?::DATE", [day]).fetchone()
        return int(row[0]) if row else 0

    return int(lake.write(_do))


def _key_time(key: str) -> datetime | None:
    """The capture time encoded in a keyframe key (``.../20261127T210501.123Z.jpg``), if any."""
    name = key.rsplit("/", 1)[-1].removesuffix(".jpg")
    try:
        return datetime.strptime(name, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def prune_keyframes(
    store: Any,
    *,
    private_days: float = 7.0,
    public_days: float = 30.0,
    landing_days: float | None = None,
    lake: Any = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Delete private keyframes older than ``private_days``, public (blurred) ones older than ``public_days``
    and, when ``landing_days`` and ``lake`` are given, landing files older than that which the ledger shows
    as ingested (never one that is not yet in the lake). Returns deletions per kind."""
    from ingest.cameras.worker import KEYFRAME_PREFIX, PUBLIC_KEYFRAME_PREFIX

    now = now or datetime.now(UTC)
    out = {"private": 0, "public": 0, "landing": 0}
    for kind, prefix, days in (
        ("private", KEYFRAME_PREFIX, private_days),
        ("public", PUBLIC_KEYFRAME_PREFIX, public_days),
    ):
        cutoff = now - timedelta(days=days)
        for o in list(store.list(prefix)):
            t = _key_time(o.key) or datetime.fromtimestamp(o.mtime, UTC)
            if t < cutoff:
                store.delete(o.key)
                out[kind] += 1
    if landing_days is not None and lake is not None:
        done = _ledger_keys(lake)
        cutoff_ts = (now - timedelta(days=landing_days)).timestamp()
        for o in list(store.list(LANDING_PREFIX)):
            if o.key in done and o.mtime < cutoff_ts:
                store.delete(o.key)
                out["landing"] += 1
    return out
