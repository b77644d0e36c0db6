"""One evaluation cycle of the urgent-alert sensor: freshest frame_scores -> rules -> lifecycle.

``AlertEngine.run_cycle(cursor)`` reads frame_scores rows newer than the cursor (``captured_at``,
re-reading a small overlap so late rows are not missed; the rule state ignores rows it has
already seen), evaluates the rules per camera and hazard, and applies the decisions — rule
state, alert transitions, CAP messages and outbox rows all in one ops-DB transaction.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from alerts.cap import CapSettings
from alerts.db import OpsDB, rule_state_t, upsert_kv
from alerts.lifecycle import AlertLifecycle, TransitionResult, save_rule_state
from alerts.models import CameraInfo, Decision, Level, as_utc, utcnow
from alerts.rules import DEFAULT_RULES, HazardRule, RuleState, evaluate, observations
from analytics.levels import LEVEL_COLUMNS
from warehouse.lake import Lake

log = logging.getLogger(__name__)

CURSOR_KEY = "sensor.frame_scores.captured_at"
SCORE_COLUMNS = (
    "camera_id",
    "captured_at",
    "fire",
    "smoke",
    "flood",
    "flood_depth_class",
    "crowd",
    "crowd_level",
    "persons",
    "health",
    "risk_level",
    "risk_hazard",
    "model_version",
    "features",
    *LEVEL_COLUMNS.values(),
)
SELECT_CAMERAS = """
SELECT c.camera_id, c.name, c.lat, c.lon, c.kelurahan_code, c.kelurahan, c.kecamatan, c.kota, c.view_radius_m,
       k.kode_kecamatan, k.kode_kota, k.nama_kecamatan, k.nama_kota, k.nama_kelurahan
FROM cameras c LEFT JOIN kelurahan k ON k.kode_kelurahan = c.kelurahan_code
WHERE list_contains(?, c.camera_id)
"""
SELECT_GEOMETRY = "SELECT geometry FROM kelurahan WHERE kode_kelurahan = ? LIMIT 1"
SELECT_PUBLIC_URIS = """
SELECT camera_id, captured_at, public_uri FROM frames
WHERE captured_at >= ? AND captured_at <= ? AND public_uri IS NOT NULL AND list_contains(?, camera_id)
"""


@dataclass(frozen=True)
class EngineConfig:
    rules: Mapping[str, HazardRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    batch_limit: int = 50_000
    overlap_s: float = 30.0
    camera_cache_s: float = 300.0
    # a camera silent this long (in data time: while other cameras keep reporting) is offline
    stale_after_s: float | None = 300.0


@dataclass
class CycleResult:
    rows: int = 0
    decisions: list[Decision] = field(default_factory=list)
    transitions: list[TransitionResult] = field(default_factory=list)
    cursor: str | None = None

    @property
    def deliveries(self) -> int:
        return sum(t.deliveries for t in self.transitions)


def kelurahan_geometry(lake: Lake) -> Callable[[str | None], str | None]:
    """A cached lookup kelurahan code -> GeoJSON polygon text from the lake (None when unknown)."""
    cache: dict[str, str | None] = {}

    def lookup(code: str | None) -> str | None:
        if not code:
            return None
        if code not in cache:
            cache[code] = lake.scalar(SELECT_GEOMETRY, [code]) if "kelurahan" in lake.tables() else None
        return cache[code]

    return lookup


class AlertEngine:
    def __init__(
        self,
        ops: OpsDB,
        lake: Lake,
        *,
        cap_settings: CapSettings = CapSettings(),
        config: EngineConfig = EngineConfig(),
    ) -> None:
        self.ops = ops
        self.lake = lake
        self.config = config
        self.lifecycle = AlertLifecycle(ops, cap_settings, geometry_lookup=self._geometry)
        self._cameras: dict[str, tuple[float, CameraInfo]] = {}
        self._geometries: dict[str, str | None] = {}
        self._tables: set[str] | None = None
        self._tables_at = 0.0
        self._score_columns: list[str] | None = None

    # -- lake lookups ----------------------------------------------------------------------
    def _has(self, table: str) -> bool:
        now = time.monotonic()
        if self._tables is None or (
            table not in self._tables and now - self._tables_at > self.config.camera_cache_s / 10
        ):
            self._tables = set(self.lake.tables())
            self._tables_at = now
        return table in self._tables

    def _geometry(self, kelurahan_code: str | None) -> str | None:
        if not kelurahan_code or not self._has("kelurahan"):
            return None
        if kelurahan_code not in self._geometries:
            self._geometries[kelurahan_code] = self.lake.scalar(SELECT_GEOMETRY, [kelurahan_code])
        return self._geometries[kelurahan_code]

    def cameras(self, camera_ids: Sequence[str]) -> dict[str, CameraInfo]:
        now = time.monotonic()
        missing = [
            c
            for c in set(camera_ids)
            if c not in self._cameras or now - self._cameras[c][0] > self.config.camera_cache_s
        ]
        if missing and self._has("cameras"):
            for r in self.lake.query(SELECT_CAMERAS, [missing]).to_pylist():
                self._cameras[r["camera_id"]] = (
                    now,
                    CameraInfo(
                        camera_id=r["camera_id"],
                        name=r["name"] or "",
                        lat=r["lat"],
                        lon=r["lon"],
                        kelurahan_code=r["kelurahan_code"],
                        kelurahan=r["kelurahan"] or r["nama_kelurahan"],
                        kecamatan_code=r["kode_kecamatan"],
                        kecamatan=r["kecamatan"] or r["nama_kecamatan"],
                        kota_code=r["kode_kota"],
                        kota=r["kota"] or r["nama_kota"],
                        view_radius_m=r["view_radius_m"],
                    ),
                )
        return {c: self._cameras[c][1] if c in self._cameras else CameraInfo(camera_id=c) for c in set(camera_ids)}

    def read_scores(self, since: datetime | None) -> list[dict[str, Any]]:
        if not self._has("frame_scores"):
            return []
        if self._score_columns is None:
            present = set(self.lake.columns("frame_scores"))
            self._score_columns = [c for c in SCORE_COLUMNS if c in present]
        cols = self._score_columns
        sql = f"SELECT {', '.join(cols)} FROM frame_scores"  # column names from a fixed allow-list
        params: list[Any] = []
        if since is not None:
            sql += " WHERE captured_at > ?"
            params.append(since)
        sql += " ORDER BY captured_at, camera_id LIMIT ?"
        params.append(self.config.batch_limit)
        rows = self.lake.query(sql, params).to_pylist()
        if rows and self._has("frames"):
            ids = sorted({r["camera_id"] for r in rows})
            uris = {
                (u["camera_id"], as_utc(u["captured_at"])): u["public_uri"]
                for u in self.lake.query(
                    SELECT_PUBLIC_URIS, [rows[0]["captured_at"], rows[-1]["captured_at"], ids]
                ).to_pylist()
            }
            for r in rows:
                r["public_uri"] = uris.get((r["camera_id"], as_utc(r["captured_at"])))
        return rows

    # -- the cycle -------------------------------------------------------------------------
    def run_cycle(self, cursor: str | None = None) -> CycleResult:
        """Read scores newer than ``cursor`` (ISO time; default: the cursor stored in the ops DB)."""
        if cursor is None:
            cursor = self.ops.get_kv(CURSOR_KEY)
        since = datetime.fromisoformat(cursor) - timedelta(seconds=self.config.overlap_s) if cursor else None
        rows = self.read_scores(since)
        result = self.process_rows(rows)
        result.cursor = result.cursor or cursor
        return result

    def process_rows(self, rows: Sequence[Mapping[str, Any]]) -> CycleResult:
        """Evaluate rows (sorted by captured_at) and apply decisions in one ops transaction."""
        result = CycleResult(rows=len(rows))
        if not rows:
            return result
        cams = self.cameras([str(r["camera_id"]) for r in rows])
        enriched = []
        for r in rows:
            cam = cams[str(r["camera_id"])]
            enriched.append({**r, "kelurahan_code": cam.kelurahan_code})
        max_ts = max(as_utc(r["captured_at"]) for r in rows)
        ids = sorted(cams)
        with self.ops.begin() as conn:
            states: dict[tuple[str, str], RuleState] = {
                (s.camera_id, s.hazard): RuleState.from_json(s.state)
                for s in conn.execute(sa.select(rule_state_t).where(rule_state_t.c.camera_id.in_(ids)))
            }
            loaded = set(states)
            seen_until = {
                cam: datetime.fromisoformat(st.last_ts)
                for (cam, hz), st in states.items()
                if hz == "camera" and st.last_ts
            }
            changed: set[tuple[str, str]] = set()
            for r in enriched:
                done = seen_until.get(str(r["camera_id"]))
                if done is not None and as_utc(r["captured_at"]) <= done:
                    continue  # re-read overlap row: every hazard of this camera has seen it
                for obs in observations(r):
                    rule = self.config.rules.get(obs.hazard)
                    if rule is None:
                        continue
                    key = (obs.camera_id, obs.hazard)
                    old = states.get(key) or RuleState()
                    new, decision = evaluate(old, obs, rule)
                    if new is not old:
                        states[key] = new
                        changed.add(key)
                    if decision is not None:
                        result.decisions.append(decision)
                        tr = self.lifecycle.apply(decision, cams[obs.camera_id], conn)
                        if tr is not None:
                            result.transitions.append(tr)
            result.transitions += self._stale_cameras(conn, states, changed, max_ts)
            now = utcnow()
            updates = [{"c": k[0], "h": k[1], "s": states[k].to_json(), "u": now} for k in changed if k in loaded]
            inserts = [
                {"camera_id": k[0], "hazard": k[1], "state": states[k].to_json(), "updated_at": now}
                for k in changed
                if k not in loaded
            ]
            if updates:
                conn.execute(
                    sa.update(rule_state_t)
                    .where(rule_state_t.c.camera_id == sa.bindparam("c"), rule_state_t.c.hazard == sa.bindparam("h"))
                    .values(state=sa.bindparam("s"), updated_at=sa.bindparam("u")),
                    updates,
                )
            if inserts:
                conn.execute(sa.insert(rule_state_t), inserts)
            result.cursor = max_ts.isoformat()
            prev = conn.execute(sa.text("SELECT value FROM alert_kv WHERE key = :k"), {"k": CURSOR_KEY}).scalar()
            if prev is None or datetime.fromisoformat(prev) < max_ts:
                upsert_kv(conn, CURSOR_KEY, result.cursor)
        return result

    def _stale_cameras(
        self,
        conn: sa.Connection,
        states: dict[tuple[str, str], RuleState],
        changed: set[tuple[str, str]],
        now: datetime,
    ) -> list[TransitionResult]:
        """Open operator alerts for cameras that stopped sending frames while others did not."""
        if self.config.stale_after_s is None:
            return []
        cutoff = now - timedelta(seconds=self.config.stale_after_s)
        q = sa.select(rule_state_t).where(rule_state_t.c.hazard == "camera")
        out: list[TransitionResult] = []
        for row in conn.execute(q).all():
            key = (row.camera_id, "camera")
            st = states.get(key) or RuleState.from_json(row.state)
            last = datetime.fromisoformat(st.last_ts) if st.last_ts else None
            if st.active or last is None or last >= cutoff:
                continue
            silent = (now - last).total_seconds()
            decision = Decision(
                row.camera_id,
                "camera",
                "open",
                Level.WASPADA,
                now,
                f"camera offline: no frames for {silent:.0f} s while other cameras report",
                {"health": "stale", "last_frame_at": last.isoformat(), "silent_s": round(silent)},
            )
            tr = self.lifecycle.apply(decision, self.cameras([row.camera_id])[row.camera_id], conn)
            if tr is not None:
                out.append(tr)
            st.active, st.last_notified_at = int(Level.WASPADA), now.isoformat()
            st.streak_dir, st.streak_frames, st.streak_level, st.streak_since = 0, 0, 0, None
            if key in states:
                states[key] = st
            save_rule_state(conn, row.camera_id, "camera", st, now)
        return out


def decision_summary(result: CycleResult) -> dict[str, Any]:
    return {
        "rows": result.rows,
        "decisions": len(result.decisions),
        "transitions": [f"{t.hazard}:{t.camera_id}:{t.status}:{t.level}" for t in result.transitions],
        "deliveries": result.deliveries,
        "cursor": result.cursor,
    }


def evidence_json(d: Decision) -> str:
    return json.dumps(d.evidence, default=str)
