"""Cached, read-only data access for the dashboards.

* One read-only lake handle per data folder (``st.cache_resource``).
* Every query is a module-level SQL constant with bound parameters, run through
  :func:`query`, cached with ``st.cache_data(ttl=...)`` and returned as a pandas DataFrame
  whose timestamps are already converted to WIB (Asia/Jakarta).
* A query names the tables it needs; when one does not exist yet (other pipelines create
  them) the result is an empty frame with the expected columns, never an exception.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from warehouse.lake import Lake, LakeConfig, LakeError, S3Config
from warehouse.object_store import LocalObjectStore, ObjectStore, S3ObjectStore

log = logging.getLogger(__name__)

DATA_DIR_ENV = "PANTAU_DATA_DIR"
DEFAULT_DATA_DIR = "./pantau-data"
WIB = "Asia/Jakarta"
LEVELS = ("Normal", "Waspada", "Siaga", "Awas")
LEVEL_RANK = {lv: i for i, lv in enumerate(LEVELS)}
ACTIVE_ALERT_STATUSES = ("open", "updated", "acknowledged")
TTL_LIVE = 30  # seconds: current state, alerts
TTL_HISTORY = 300  # seconds: history, reference data


# -- configuration ---------------------------------------------------------------------
def data_dir() -> Path:
    """The data folder from ``PANTAU_DATA_DIR`` (default ``./pantau-data``), absolute."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).expanduser().resolve()


def lake_config(root: Path) -> LakeConfig:
    """Lake configuration from the same ``PANTAU_*`` variables the platform uses."""
    if os.environ.get("PANTAU_LAKE_CATALOG", "sqlite") == "postgres":
        return LakeConfig(
            catalog="postgres",
            root=root,
            postgres_dsn=os.environ.get("PANTAU_PG_DSN", LakeConfig.postgres_dsn),
            s3=_s3_config(),
        )
    return LakeConfig(root=root)


def _s3_config() -> S3Config:
    env = os.environ
    return S3Config(
        endpoint=env.get("PANTAU_S3_ENDPOINT", "127.0.0.1:9000"),
        access_key=env.get("PANTAU_S3_ACCESS_KEY", "minioadmin"),
        secret_key=env.get("PANTAU_S3_SECRET_KEY", "minioadmin"),
        bucket=env.get("PANTAU_S3_BUCKET", "pantau"),
        secure=env.get("PANTAU_S3_SECURE", "false").lower() in ("1", "true", "yes"),
    )


def lake_exists(root: Path) -> bool:
    cfg = lake_config(root)
    return cfg.catalog == "postgres" or cfg.catalog_path.exists()


@st.cache_resource(show_spinner=False)
def _open_lake(root: str) -> Lake:
    """Raises while there is no lake, so that a missing lake is never cached."""
    cfg = lake_config(Path(root))
    if cfg.catalog == "sqlite" and not cfg.catalog_path.exists():
        raise LakeError(f"no lake at {cfg.catalog_path}")
    lake = Lake(cfg, read_only=True)
    _ = lake.con  # attach now: fail here, not in the middle of a page
    return lake


def get_lake(root: Path | None = None) -> Lake | None:
    """The shared read-only lake handle, or None when no lake exists yet."""
    root = root or data_dir()
    if not lake_exists(root):
        return None
    try:
        return _open_lake(str(root))
    except LakeError as exc:
        log.warning("lake not available: %s", exc)
        return None


@st.cache_resource(show_spinner=False)
def _open_store(root: str, kind: str) -> ObjectStore:
    if kind == "s3":
        s3 = _s3_config()
        return S3ObjectStore(
            s3.endpoint, s3.bucket, s3.access_key, s3.secret_key, secure=s3.secure, region=s3.region, prefix="store"
        )
    return LocalObjectStore(Path(root) / "store")


def get_store(root: Path | None = None) -> ObjectStore:
    """The object store (keyframes, releases): ``<data_dir>/store`` unless ``PANTAU_STORE=s3``."""
    return _open_store(str(root or data_dir()), os.environ.get("PANTAU_STORE", "local"))


# -- query plumbing --------------------------------------------------------------------
@dataclass(frozen=True)
class Q:
    """A read query: SQL with ``?`` parameters, the tables it reads and its result columns."""

    sql: str
    needs: tuple[str, ...]
    columns: tuple[str, ...]
    # True when the result has no rows whenever a needed table has none (row selects and GROUP BY
    # queries; not global aggregates, outer joins or catalog queries): such a query is skipped on an
    # empty table, which DuckLake answers slower (~80 ms) than a full one.
    empty_if_empty: bool = False


# DuckLake's own listing reads the catalog once; information_schema over the attached lake
# costs ~5x more (0.06 s against 0.3 s on a 46-table lake), and every page starts with it.
DUCKLAKE_TABLES_SQL = "SELECT DISTINCT table_name FROM ducklake_table_info('lake')"


@st.cache_data(ttl=TTL_HISTORY, show_spinner=False)
def _tables(root: str) -> frozenset[str]:
    lake = get_lake(Path(root))
    if lake is None:
        return frozenset()
    try:
        return frozenset(str(v) for v in lake.query(DUCKLAKE_TABLES_SQL).column(0).to_pylist())
    except Exception as exc:  # an older ducklake extension: the portable listing
        log.debug("ducklake_table_info unavailable (%s), using information_schema", exc)
        return frozenset(lake.tables())


def tables(root: Path | None = None) -> frozenset[str]:
    """Names of the lake tables that exist now (empty when there is no lake)."""
    return _tables(str(root or data_dir()))


# Tables without data files or inlined rows (DuckLake catalog; readers never inline).
_EMPTY_TABLES_SQL = (
    "SELECT table_name FROM ducklake_table_info('lake') WHERE file_count = 0 AND table_id NOT IN "
    "(SELECT table_id FROM __ducklake_metadata_lake.ducklake_inlined_data_tables)"
)


@st.cache_data(ttl=TTL_LIVE, show_spinner=False)
def _empty_tables(root: str) -> frozenset[str]:
    lake = get_lake(Path(root))
    if lake is None:
        return frozenset()
    try:
        return frozenset(str(v) for v in lake.query(_EMPTY_TABLES_SQL).column(0).to_pylist())
    except Exception as exc:  # another catalog layout: never skip
        log.debug("cannot list empty tables (%s)", exc)
        return frozenset()


def has_tables(*names: str, root: Path | None = None) -> bool:
    have = tables(root)
    return all(n in have for n in names)


def _to_wib(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = df[col].dt.tz_convert(WIB)
    return df


def _run(root: str, sql: str, params: tuple[Any, ...]) -> pd.DataFrame:
    lake = get_lake(Path(root))
    if lake is None:
        return pd.DataFrame()
    return _to_wib(_decimals_to_float(lake.query(sql, list(params))).to_pandas())


def _decimals_to_float(table: pa.Table) -> pa.Table:
    """sum() of integers comes back as DECIMAL/HUGEINT; charts want plain floats."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table


_run_live = st.cache_data(ttl=TTL_LIVE, show_spinner=False, max_entries=512)(_run)
_run_history = st.cache_data(ttl=TTL_HISTORY, show_spinner=False, max_entries=512)(_run)


def query(q: Q, params: Sequence[Any] = (), *, live: bool = False, root: Path | None = None) -> pd.DataFrame:
    """Run ``q`` with bound ``params``; an empty frame with ``q.columns`` when a table is missing."""
    root = root or data_dir()
    if not has_tables(*q.needs, root=root):
        return pd.DataFrame(columns=list(q.columns))
    if q.empty_if_empty and not _empty_tables(str(root)).isdisjoint(q.needs):
        return pd.DataFrame(columns=list(q.columns))
    runner = _run_live if live else _run_history
    df = runner(str(root), q.sql, tuple(params))
    if df.empty and len(df.columns) == 0:
        return pd.DataFrame(columns=list(q.columns))
    return df


def clear_caches() -> None:
    _camera_state.clear()
    _empty_tables.clear()
    _run_live.clear()
    _run_history.clear()
    _tables.clear()


# -- SQL -------------------------------------------------------------------------------
_LATEST_COVERAGE = "run_id IS NOT DISTINCT FROM (SELECT max(run_id) FROM coverage_kelurahan)"
LEVEL_RANK_SQL = "CASE {col} WHEN 'Awas' THEN 3 WHEN 'Siaga' THEN 2 WHEN 'Waspada' THEN 1 WHEN 'Normal' THEN 0 END"


def _rank(col: str) -> str:
    return LEVEL_RANK_SQL.format(col=col)


CAMERAS = Q(
    "SELECT camera_id, name, operator, lat, lon, kelurahan_code, kelurahan, kecamatan, kota, active, "
    "view_radius_m, address FROM cameras ORDER BY camera_id",
    ("cameras",),
    (
        "camera_id",
        "name",
        "operator",
        "lat",
        "lon",
        "kelurahan_code",
        "kelurahan",
        "kecamatan",
        "kota",
        "active",
        "view_radius_m",
        "address",
    ),
)

KELURAHAN = Q(
    "SELECT kode_kelurahan, nama_kelurahan, nama_kecamatan, nama_kota, population, households, area_km2, "
    "density_per_km2, centroid_lat, centroid_lon FROM kelurahan ORDER BY nama_kota, nama_kecamatan, nama_kelurahan",
    ("kelurahan",),
    (
        "kode_kelurahan",
        "nama_kelurahan",
        "nama_kecamatan",
        "nama_kota",
        "population",
        "households",
        "area_km2",
        "density_per_km2",
        "centroid_lat",
        "centroid_lon",
    ),
)

KELURAHAN_GEOMETRY = Q(
    "SELECT kode_kelurahan, nama_kelurahan, nama_kecamatan, geometry FROM kelurahan WHERE geometry IS NOT NULL",
    ("kelurahan",),
    ("kode_kelurahan", "nama_kelurahan", "nama_kecamatan", "geometry"),
)

# Current state per camera, anchored on the newest data (a replayed demo is not "now").
CAMERA_RISK_NOW_SCORES = Q(
    "SELECT camera_id, arg_max(risk_level, captured_at) AS risk_level, arg_max(risk_hazard, captured_at) AS risk_hazard, "
    "arg_max(health, captured_at) AS health, max(captured_at) AS last_seen FROM frame_scores "
    "WHERE captured_at >= (SELECT max(captured_at) FROM frame_scores) - INTERVAL 1 HOUR GROUP BY camera_id",
    ("frame_scores",),
    ("camera_id", "risk_level", "risk_hazard", "health", "last_seen"),
    empty_if_empty=True,
)

CAMERA_RISK_NOW_HOURLY = Q(
    "SELECT camera_id, arg_max(risk_level_max, hour) AS risk_level, arg_max(uptime, hour) AS uptime, "
    "max(hour) AS last_seen FROM risk_hourly_camera "
    "WHERE hour >= (SELECT max(hour) FROM risk_hourly_camera) - INTERVAL 2 HOUR GROUP BY camera_id",
    ("risk_hourly_camera",),
    ("camera_id", "risk_level", "uptime", "last_seen"),
    empty_if_empty=True,
)

CAMERA_HEALTH_NOW = Q(
    "SELECT camera_id, arg_max(status, captured_at) AS status, max(captured_at) AS last_frame FROM frames "
    "WHERE captured_at >= (SELECT max(captured_at) FROM frames) - INTERVAL 1 HOUR GROUP BY camera_id",
    ("frames",),
    ("camera_id", "status", "last_frame"),
    empty_if_empty=True,
)

KELURAHAN_RISK_NOW = Q(
    f"SELECT kelurahan_code, max({_rank('risk_level_max')}) AS level_rank, max(cameras) AS cameras, "
    "max(hour) AS last_hour FROM risk_hourly_kelurahan "
    "WHERE hour >= (SELECT max(hour) FROM risk_hourly_kelurahan) - INTERVAL 2 HOUR GROUP BY kelurahan_code",
    ("risk_hourly_kelurahan",),
    ("kelurahan_code", "level_rank", "cameras", "last_hour"),
    empty_if_empty=True,
)

_ALERT_COLS = (
    "alert_id",
    "version",
    "camera_id",
    "kelurahan_code",
    "hazard",
    "level",
    "status",
    "reason",
    "evidence",
    "opened_at",
    "updated_at",
    "cap_xml_uri",
)
_ALERT_SELECT = ", ".join(_ALERT_COLS)
_ALERTS_LATEST = (
    f"SELECT {_ALERT_SELECT} FROM alerts "
    "QUALIFY row_number() OVER (PARTITION BY alert_id ORDER BY version DESC, updated_at DESC) = 1"
)

ALERTS_ACTIVE = Q(
    f"SELECT * FROM ({_ALERTS_LATEST}) WHERE status IN ('open', 'updated', 'acknowledged') "
    f"ORDER BY {_rank('level')} DESC NULLS LAST, opened_at DESC",
    ("alerts",),
    _ALERT_COLS,
    empty_if_empty=True,
)

ALERTS_SINCE = Q(
    f"SELECT * FROM ({_ALERTS_LATEST}) WHERE opened_at >= ? ORDER BY opened_at DESC LIMIT 5000",
    ("alerts",),
    _ALERT_COLS,
    empty_if_empty=True,
)

ALERTS_FOR_CAMERA = Q(
    f"SELECT * FROM ({_ALERTS_LATEST}) WHERE camera_id = ? ORDER BY opened_at DESC LIMIT 200",
    ("alerts",),
    _ALERT_COLS,
    empty_if_empty=True,
)

ALERT_VERSIONS = Q(
    f"SELECT {_ALERT_SELECT} FROM alerts WHERE alert_id = ? ORDER BY version",
    ("alerts",),
    _ALERT_COLS,
)

DELIVERIES_FOR_ALERT = Q(
    "SELECT delivery_id, version, subscriber_id, channel, state, attempts, last_error, next_attempt_at, sent_at "
    "FROM alert_deliveries WHERE alert_id = ? ORDER BY version, delivery_id",
    ("alert_deliveries",),
    (
        "delivery_id",
        "version",
        "subscriber_id",
        "channel",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    ),
)

DELIVERIES_BY_STATE = Q(
    "SELECT channel, state, count(*) AS deliveries FROM alert_deliveries GROUP BY ALL ORDER BY channel, state",
    ("alert_deliveries",),
    ("channel", "state", "deliveries"),
)

SUBSCRIPTIONS = Q(
    "SELECT subscription_id, name, kind, hazard, area_type, area_code, lat, lon, radius_m, min_level, channel, "
    "target, active, created_at FROM subscriptions ORDER BY created_at DESC NULLS LAST, subscription_id",
    ("subscriptions",),
    (
        "subscription_id",
        "name",
        "kind",
        "hazard",
        "area_type",
        "area_code",
        "lat",
        "lon",
        "radius_m",
        "min_level",
        "channel",
        "target",
        "active",
        "created_at",
    ),
)

# -- camera page -----------------------------------------------------------------------
LATEST_KEYFRAME = Q(
    "SELECT public_uri, captured_at, status FROM frames WHERE camera_id = ? AND public_uri IS NOT NULL "
    "AND public_uri <> '' ORDER BY captured_at DESC LIMIT 1",
    ("frames",),
    ("public_uri", "captured_at", "status"),
    empty_if_empty=True,
)

CAMERA_LAST_SCORE_TIME = Q(
    "SELECT max(captured_at) AS t FROM frame_scores WHERE camera_id = ? GROUP BY camera_id",
    ("frame_scores",),
    ("t",),
    empty_if_empty=True,
)

CAMERA_LAST_HOUR = Q(
    "SELECT max(hour) AS t FROM risk_hourly_camera WHERE camera_id = ? GROUP BY camera_id",
    ("risk_hourly_camera",),
    ("t",),
    empty_if_empty=True,
)

SCORES_BUCKETED = Q(
    "SELECT time_bucket(to_seconds(?::BIGINT), captured_at) AS t, max(fire) AS fire, max(smoke) AS smoke, "
    "max(flood) AS flood, max(crowd) AS crowd, max(persons) AS persons, "
    f"max({_rank('risk_level')}) AS level_rank FROM frame_scores "
    "WHERE camera_id = ? AND captured_at > ? GROUP BY 1 ORDER BY 1",
    ("frame_scores",),
    ("t", "fire", "smoke", "flood", "crowd", "persons", "level_rank"),
    empty_if_empty=True,
)

SCORES_HOURLY_MART = Q(
    "SELECT hour AS t, fire_max AS fire, smoke_max AS smoke, flood_max AS flood, crowd_max AS crowd, "
    f"persons_max AS persons, {_rank('risk_level_max')} AS level_rank, uptime FROM risk_hourly_camera "
    "WHERE camera_id = ? AND hour > ? ORDER BY hour",
    ("risk_hourly_camera",),
    ("t", "fire", "smoke", "flood", "crowd", "persons", "level_rank", "uptime"),
    empty_if_empty=True,
)

HEALTH_BUCKETED = Q(
    "SELECT time_bucket(to_seconds(?::BIGINT), captured_at) AS t, status, count(*) AS frames FROM frames "
    "WHERE camera_id = ? AND captured_at > ? GROUP BY ALL ORDER BY 1",
    ("frames",),
    ("t", "status", "frames"),
    empty_if_empty=True,
)

LEVEL_CHANGES = Q(
    "SELECT captured_at, prev_level, risk_level, risk_hazard, fire, smoke, flood, crowd, persons, "
    "flood_depth_class, crowd_level, features FROM ("
    "SELECT captured_at, lag(risk_level) OVER (ORDER BY captured_at) AS prev_level, risk_level, risk_hazard, "
    "fire, smoke, flood, crowd, persons, flood_depth_class, crowd_level, features "
    "FROM frame_scores WHERE camera_id = ? AND captured_at > ?) "
    "WHERE prev_level IS NOT NULL AND prev_level IS DISTINCT FROM risk_level ORDER BY captured_at DESC LIMIT 50",
    ("frame_scores",),
    (
        "captured_at",
        "prev_level",
        "risk_level",
        "risk_hazard",
        "fire",
        "smoke",
        "flood",
        "crowd",
        "persons",
        "flood_depth_class",
        "crowd_level",
        "features",
    ),
    empty_if_empty=True,
)

CAMERA_EVENTS = Q(
    "SELECT window_start, window_end, frames_ok, frames_failed, persons_max, persons_mean, motion_events, "
    "fire_frames, smoke_frames, flood_frames, uptime FROM camera_events WHERE camera_id = ? AND window_end > ? "
    "ORDER BY window_start",
    ("camera_events",),
    (
        "window_start",
        "window_end",
        "frames_ok",
        "frames_failed",
        "persons_max",
        "persons_mean",
        "motion_events",
        "fire_frames",
        "smoke_frames",
        "flood_frames",
        "uptime",
    ),
    empty_if_empty=True,
)

HEALTH_TRANSITIONS = Q(
    'SELECT "at", from_status, to_status, reason FROM camera_health_transitions WHERE camera_id = ? '
    'ORDER BY "at" DESC LIMIT 50',
    ("camera_health_transitions",),
    ("at", "from_status", "to_status", "reason"),
    empty_if_empty=True,
)

# -- kelurahan page --------------------------------------------------------------------
KELURAHAN_RISK_HISTORY = Q(
    "SELECT hour, cameras, fire_max, smoke_max, flood_max, crowd_max, persons_max, "
    f"{_rank('risk_level_max')} AS level_rank, risk_level_max FROM risk_hourly_kelurahan "
    "WHERE kelurahan_code = ? AND hour > (SELECT max(hour) FROM risk_hourly_kelurahan) - INTERVAL 30 DAY "
    "ORDER BY hour",
    ("risk_hourly_kelurahan",),
    (
        "hour",
        "cameras",
        "fire_max",
        "smoke_max",
        "flood_max",
        "crowd_max",
        "persons_max",
        "level_rank",
        "risk_level_max",
    ),
)

KELURAHAN_GEOM_ONE = Q(
    "SELECT geometry FROM kelurahan WHERE kode_kelurahan = ?",
    ("kelurahan",),
    ("geometry",),
)

KELURAHAN_JAKI_USAGE = Q(
    "SELECT day, feature, sum(events) AS events, sum(users) AS users FROM jaki_daily_usage "
    "WHERE kelurahan_code = ? GROUP BY ALL ORDER BY day",
    ("jaki_daily_usage",),
    ("day", "feature", "events", "users"),
)

KECAMATAN_COMPLAINTS = Q(
    "SELECT category, sum(complaints) AS complaints, sum(resolved) AS resolved, "
    "median(median_resolution_h) AS median_resolution_h FROM jaki_complaints_summary "
    "WHERE grain = (SELECT min(grain) FROM jaki_complaints_summary) AND lower(kecamatan) = lower(?) "
    "GROUP BY category ORDER BY complaints DESC",
    ("jaki_complaints_summary",),
    ("category", "complaints", "resolved", "median_resolution_h"),
)

KELURAHAN_COVERAGE = Q(
    "SELECT layer, demand, covered, covered_share FROM coverage_kelurahan WHERE kode_kelurahan = ? "
    f"AND {_LATEST_COVERAGE} ORDER BY layer",
    ("coverage_kelurahan",),
    ("layer", "demand", "covered", "covered_share"),
)

KELURAHAN_FLOOD_2024 = Q(
    "SELECT month, sum(events) AS events, max(water_max_cm) AS water_max_cm, sum(people_affected) AS people "
    "FROM flood_events_2024 WHERE kode_kelurahan = ? GROUP BY month ORDER BY month",
    ("flood_events_2024",),
    ("month", "events", "water_max_cm", "people"),
)

KELURAHAN_FIRE_2024 = Q(
    "SELECT sum(incidents) AS incidents FROM fire_incidents_2024 WHERE kode_kelurahan = ?",
    ("fire_incidents_2024",),
    ("incidents",),
)

# -- jaki page -------------------------------------------------------------------------
JAKI_USAGE_BY_DAY_FEATURE = Q(
    "SELECT day, feature, sum(events) AS events, sum(users) AS users FROM jaki_daily_usage "
    "WHERE day > (SELECT max(day) FROM jaki_daily_usage) - to_days(CAST(? AS INTEGER)) GROUP BY ALL ORDER BY day",
    ("jaki_daily_usage",),
    ("day", "feature", "events", "users"),
)

JAKI_USAGE_BY_AREA = Q(
    "SELECT u.kelurahan_code, any_value(k.nama_kelurahan) AS nama_kelurahan, sum(u.events) AS events "
    "FROM jaki_daily_usage u LEFT JOIN kelurahan k ON k.kode_kelurahan = u.kelurahan_code "
    "WHERE u.day > (SELECT max(day) FROM jaki_daily_usage) - to_days(CAST(? AS INTEGER)) "
    "GROUP BY u.kelurahan_code ORDER BY events DESC LIMIT 15",
    ("jaki_daily_usage", "kelurahan"),
    ("kelurahan_code", "nama_kelurahan", "events"),
)

JAKI_COMPLAINTS_BY_CATEGORY = Q(
    "SELECT category, sum(complaints) AS complaints, sum(resolved) AS resolved, "
    "median(median_resolution_h) AS median_resolution_h, max(p90_resolution_h) AS p90_resolution_h "
    "FROM jaki_complaints_summary WHERE grain = (SELECT min(grain) FROM jaki_complaints_summary) "
    "GROUP BY category ORDER BY complaints DESC",
    ("jaki_complaints_summary",),
    ("category", "complaints", "resolved", "median_resolution_h", "p90_resolution_h"),
)

JAKI_PARKING = Q(
    "SELECT p.parking_id, coalesce(any_value(l.name), p.parking_id) AS name, p.hour, avg(p.occupancy) AS occupancy "
    "FROM jaki_parking_hourly p LEFT JOIN parking_locations l ON l.parking_id = p.parking_id "
    "WHERE p.hour > (SELECT max(hour) FROM jaki_parking_hourly) - INTERVAL 3 DAY GROUP BY p.parking_id, p.hour "
    "ORDER BY p.hour",
    ("jaki_parking_hourly", "parking_locations"),
    ("parking_id", "name", "hour", "occupancy"),
)

JAKI_PANIC = Q(
    "SELECT hour, sum(presses) AS presses FROM jaki_panic_hourly "
    "WHERE hour > (SELECT max(hour) FROM jaki_panic_hourly) - INTERVAL 7 DAY GROUP BY hour ORDER BY hour",
    ("jaki_panic_hourly",),
    ("hour", "presses"),
)

# -- data quality ----------------------------------------------------------------------
QUARANTINE_BY_REASON = Q(
    "SELECT table_name, reason, count(*) AS rows, max(quarantined_at) AS latest FROM jaki_quarantine "
    "GROUP BY ALL ORDER BY rows DESC",
    ("jaki_quarantine",),
    ("table_name", "reason", "rows", "latest"),
)

QUARANTINE_SAMPLE = Q(
    "SELECT quarantined_at, table_name, source_file, line, column_name, value, reason FROM jaki_quarantine "
    "ORDER BY quarantined_at DESC LIMIT 200",
    ("jaki_quarantine",),
    ("quarantined_at", "table_name", "source_file", "line", "column_name", "value", "reason"),
)

LAST_BATCH_PER_CAMERA = Q(
    "SELECT f.camera_id, any_value(c.name) AS name, arg_max(f.batch_id, f.captured_at) AS batch_id, "
    "max(f.captured_at) AS last_captured FROM frames f LEFT JOIN cameras c ON c.camera_id = f.camera_id "
    "GROUP BY f.camera_id ORDER BY last_captured",
    ("frames", "cameras"),
    ("camera_id", "name", "batch_id", "last_captured"),
)

LANDED_PER_HOUR = Q(
    "SELECT date_trunc('hour', ingested_at) AS hour, count(*) AS batches, sum(rows) AS rows FROM landed_batches "
    "WHERE ingested_at > (SELECT max(ingested_at) FROM landed_batches) - INTERVAL 2 DAY GROUP BY 1 ORDER BY 1",
    ("landed_batches",),
    ("hour", "batches", "rows"),
)

REFERENCE_ISSUES = Q(
    "SELECT source_file, reason, action, count(*) AS rows FROM reference_issues GROUP BY ALL ORDER BY rows DESC",
    ("reference_issues",),
    ("source_file", "reason", "action", "rows"),
)

UPTIME_DAILY = Q(
    "SELECT day, avg(uptime) AS uptime, count(DISTINCT camera_id) AS cameras FROM camera_uptime_daily "
    "WHERE day > (SELECT max(day) FROM camera_uptime_daily) - INTERVAL 30 DAY GROUP BY day ORDER BY day",
    ("camera_uptime_daily",),
    ("day", "uptime", "cameras"),
)

# Tables whose newest row says how fresh the pipeline is: table -> time column.
FRESHNESS_COLUMNS: dict[str, str] = {
    "frames": "captured_at",
    "frame_scores": "captured_at",
    "camera_events": "window_end",
    "landed_batches": "ingested_at",
    "risk_hourly_camera": "hour",
    "risk_hourly_kelurahan": "hour",
    "camera_uptime_daily": "day",
    "alerts": "updated_at",
    "alert_deliveries": "sent_at",
    "jaki_usage_events": "event_time",
    "jaki_daily_usage": "day",
    "jaki_quarantine": "quarantined_at",
}

# Asset-check evaluations copied from Dagster's event log (orchestration/check_results.py writes
# them; dashboards never talk to Dagster). The page needs these columns; others are ignored.
ASSET_CHECK_TABLE = "asset_check_results"
ASSET_CHECK_COLUMNS = (
    "check_name",
    "asset_key",
    "passed",
    "severity",
    "description",
    "metadata_json",
    "evaluated_at",
)

# The newest evaluation of every (asset, check), failing ones first.
ASSET_CHECKS_LATEST = Q(
    "SELECT asset_key, check_name, arg_max(passed, evaluated_at) AS passed, "
    "arg_max(severity, evaluated_at) AS severity, arg_max(description, evaluated_at) AS description, "
    "arg_max(metadata_json, evaluated_at) AS metadata_json, max(evaluated_at) AS evaluated_at, "
    "count(*) AS evaluations, count(*) FILTER (WHERE NOT passed) AS failures "
    "FROM asset_check_results GROUP BY asset_key, check_name "
    "ORDER BY passed NULLS FIRST, severity, asset_key, check_name",
    (ASSET_CHECK_TABLE,),
    (
        "asset_key",
        "check_name",
        "passed",
        "severity",
        "description",
        "metadata_json",
        "evaluated_at",
        "evaluations",
        "failures",
    ),
    empty_if_empty=True,
)

# Passed and failed evaluations per hour over the last 30 days of results (the page sums WIB days).
ASSET_CHECKS_HOURLY = Q(
    "SELECT date_trunc('hour', evaluated_at) AS hour, count(*) FILTER (WHERE passed) AS passed, "
    "count(*) FILTER (WHERE NOT passed) AS failed FROM asset_check_results "
    "WHERE evaluated_at > (SELECT max(evaluated_at) FROM asset_check_results) - INTERVAL 30 DAY "
    "GROUP BY 1 ORDER BY 1",
    (ASSET_CHECK_TABLE,),
    ("hour", "passed", "failed"),
    empty_if_empty=True,
)

# -- planning --------------------------------------------------------------------------
COVERAGE_BY_LAYER = Q(
    "SELECT layer, sum(demand) AS demand, sum(covered) AS covered, sum(covered) / nullif(sum(demand), 0) AS "
    f"covered_share FROM coverage_kelurahan WHERE {_LATEST_COVERAGE} GROUP BY layer ORDER BY layer",
    ("coverage_kelurahan",),
    ("layer", "demand", "covered", "covered_share"),
)

LEAST_COVERED = Q(
    "SELECT c.kode_kelurahan, any_value(k.nama_kelurahan) AS nama_kelurahan, sum(c.demand) AS demand, "
    "sum(c.covered) / nullif(sum(c.demand), 0) AS covered_share FROM coverage_kelurahan c "
    "LEFT JOIN kelurahan k ON k.kode_kelurahan = c.kode_kelurahan "
    f"WHERE c.{_LATEST_COVERAGE} GROUP BY c.kode_kelurahan "
    "HAVING sum(c.demand) > 0 ORDER BY covered_share, demand DESC LIMIT 15",
    ("coverage_kelurahan", "kelurahan"),
    ("kode_kelurahan", "nama_kelurahan", "demand", "covered_share"),
)

PLACEMENT_LATEST = Q(
    "SELECT * FROM placement_candidates WHERE run_id = (SELECT max(run_id) FROM placement_candidates) ORDER BY rank",
    ("placement_candidates",),
    (
        "rank",
        "site_id",
        "lat",
        "lon",
        "kode_kelurahan",
        "gain_total",
        "reason",
        "method",
        "budget",
        "radius_m",
        "run_id",
    ),
)


# -- non-SQL helpers -------------------------------------------------------------------
def freshness(root: Path | None = None) -> pd.DataFrame:
    """Newest timestamp and row count of each pipeline table that exists."""
    rows = []
    for table, col in FRESHNESS_COLUMNS.items():
        if not has_tables(table, root=root):
            continue
        q = Q(f"SELECT max({col}) AS latest, count(*) AS rows FROM {table}", (table,), ("latest", "rows"))
        df = query(q, live=True, root=root)
        latest = df["latest"].iloc[0] if not df.empty else None
        rows.append({"table": table, "latest": latest, "rows": int(df["rows"].iloc[0]) if not df.empty else 0})
    return pd.DataFrame(rows, columns=["table", "latest", "rows"])


def asset_check_missing_columns(root: Path | None = None) -> list[str]:
    """Columns the page needs that ``asset_check_results`` lacks (empty when it has them all or does not exist)."""
    if not has_tables(ASSET_CHECK_TABLE, root=root):
        return []
    have = set(table_columns(ASSET_CHECK_TABLE, root=root))
    return [c for c in ASSET_CHECK_COLUMNS if c not in have]


def table_columns(table: str, root: Path | None = None) -> list[str]:
    q = Q(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'lake' AND table_name = ? "
        "ORDER BY ordinal_position",
        (table,),
        ("column_name",),
    )
    return [str(c) for c in query(q, [table], root=root)["column_name"].tolist()]


def read_object(uri: str, root: Path | None = None) -> bytes | None:
    """Bytes of a keyframe or release file named by a path, ``file://`` URI, store key or ``s3://`` URI."""
    root = root or data_dir()
    try:
        if uri.startswith("file://"):
            uri = uri[len("file://") :]
        if uri.startswith("s3://"):
            store = get_store(root)
            bucket_key = uri[len("s3://") :].split("/", 1)
            key = bucket_key[1] if len(bucket_key) == 2 else ""
            prefix = getattr(store, "prefix", "")
            if prefix and key.startswith(prefix + "/"):
                key = key[len(prefix) + 1 :]
            return store.get_bytes(key)
        path = Path(uri)
        if path.is_absolute():
            return path.read_bytes() if path.is_file() else None
        for base in (root / "store", root):
            if (base / path).is_file():
                return (base / path).read_bytes()
        return get_store(root).get_bytes(uri)
    except Exception as exc:  # an unreadable object is an empty state, not a crash
        log.warning("cannot read %s: %s", uri, exc)
        return None


@dataclass(frozen=True)
class ReleaseFile:
    key: str
    name: str
    size: int


@dataclass(frozen=True)
class Release:
    version: str
    files: tuple[ReleaseFile, ...]
    datapackage: dict[str, Any]


def _release_roots(root: Path) -> list[Path]:
    return [root / "store" / "releases", root / "releases"]


@st.cache_data(ttl=TTL_HISTORY, show_spinner=False)
def _releases(root: str, store_kind: str) -> list[Release]:
    base = Path(root)
    found: dict[str, Release] = {}
    listings: list[tuple[str, list[ReleaseFile]]] = []
    if store_kind == "s3":
        try:
            by_version: dict[str, list[ReleaseFile]] = {}
            for info in get_store(base).list("releases/"):
                parts = info.key.split("/")
                if len(parts) >= 3:
                    by_version.setdefault(parts[1], []).append(ReleaseFile(info.key, "/".join(parts[2:]), info.size))
            listings.extend(by_version.items())
        except Exception as exc:
            log.warning("cannot list releases in the store: %s", exc)
    for rel_root in _release_roots(base):
        if not rel_root.is_dir():
            continue
        for vdir in sorted(p for p in rel_root.iterdir() if p.is_dir()):
            files = [
                ReleaseFile(str(p), p.relative_to(vdir).as_posix(), p.stat().st_size)
                for p in sorted(vdir.rglob("*"))
                if p.is_file()
            ]
            listings.append((vdir.name, files))
    for version, files in listings:
        if version in found or not files:
            continue
        dp: dict[str, Any] = {}
        for f in files:
            if f.name == "datapackage.json":
                raw = read_object(f.key, base)
                if raw:
                    try:
                        dp = json.loads(raw)
                    except ValueError:
                        log.warning("release %s: invalid datapackage.json", version)
        found[version] = Release(version, tuple(files), dp)
    return sorted(found.values(), key=lambda r: r.version, reverse=True)


def releases(root: Path | None = None) -> list[Release]:
    """Open-data releases found under ``releases/<version>/`` in the store or the data folder."""
    return _releases(str(root or data_dir()), os.environ.get("PANTAU_STORE", "local"))


# -- derived views ---------------------------------------------------------------------
def camera_state(root: Path | None = None) -> pd.DataFrame:
    """Every camera with its current risk level and health (``unknown`` without recent data).

    Level: newest frame score within the last hour of data, else the newest hourly mart row.
    Health: newest frame status, else the frame score's health, else ``offline`` when the hourly
    uptime is zero. Cached as a whole (Overview and Camera both start with it).
    """
    return _camera_state(str(root or data_dir()))


@st.cache_data(ttl=TTL_LIVE, show_spinner=False, max_entries=16)
def _camera_state(root_str: str) -> pd.DataFrame:
    root = Path(root_str)
    cams = query(CAMERAS, root=root)
    if cams.empty:
        return cams.assign(level=pd.Series(dtype=str), health=pd.Series(dtype=str), last_seen=pd.Series(dtype=object))
    scores = query(CAMERA_RISK_NOW_SCORES, live=True, root=root)
    hourly = query(CAMERA_RISK_NOW_HOURLY, live=True, root=root)
    frames = query(CAMERA_HEALTH_NOW, live=True, root=root)
    df = (
        cams[["camera_id"]]
        .merge(scores[["camera_id", "risk_level", "health", "last_seen"]], on="camera_id", how="left")
        .merge(
            hourly[["camera_id", "risk_level", "uptime", "last_seen"]].rename(
                columns={"risk_level": "h_level", "last_seen": "h_seen"}
            ),
            on="camera_id",
            how="left",
        )
        .merge(frames[["camera_id", "status", "last_frame"]], on="camera_id", how="left")
    )
    level = df["risk_level"].astype(object).where(df["risk_level"].notna(), df["h_level"])
    level = level.where(level.isin(LEVELS), "unknown")
    health = df["status"].astype(object).where(df["status"].notna(), df["health"])
    up = pd.to_numeric(df["uptime"], errors="coerce")
    from_uptime = pd.Series(np.where(up > 0, "ok", "offline"), index=df.index).where(up.notna())
    health = health.where(health.notna(), from_uptime).fillna("unknown")
    seen = [pd.to_datetime(df[c], utc=True) for c in ("last_seen", "last_frame", "h_seen")]
    last_seen = seen[0].fillna(seen[1]).fillna(seen[2]).dt.tz_convert(WIB)
    return cams.reset_index(drop=True).assign(level=level, health=health, last_seen=last_seen)


def kelurahan_state(cams: pd.DataFrame, root: Path | None = None) -> pd.Series:
    """Current risk level per kelurahan code: the hourly mart, raised by any camera's current level."""
    ranks: dict[str, int] = {}
    mart = query(KELURAHAN_RISK_NOW, live=True, root=root)
    for code, rank in zip(mart["kelurahan_code"], mart["level_rank"], strict=True):
        if code is not None and not pd.isna(rank):
            ranks[code] = max(ranks.get(code, 0), int(rank))
    if not cams.empty:
        known = cams[cams["level"].isin(LEVELS) & cams["kelurahan_code"].notna()]
        for code, level in zip(known["kelurahan_code"], known["level"], strict=True):
            ranks[code] = max(ranks.get(code, 0), LEVEL_RANK[level])
    return pd.Series({code: LEVELS[r] for code, r in ranks.items()}, dtype=object)


# -- operational DB (alerts helper) ------------------------------------------------------
def ops_db_url(root: Path | None = None) -> str | None:
    """URL of the alerts operational DB when one exists (``PANTAU_OPS_DB_URL`` or ``<data_dir>/ops.sqlite``)."""
    url = os.environ.get("PANTAU_OPS_DB_URL")
    if url:
        return url
    path = (root or data_dir()) / "ops.sqlite"
    return f"sqlite:///{path}" if path.exists() else None


@st.cache_resource(show_spinner=False)
def _ops_db(url: str) -> Any:
    from alerts.db import OpsDB

    return OpsDB(url, create=False)


def ops_db(root: Path | None = None) -> Any | None:
    """The alerts package's OpsDB handle, or None (no alerts package or no operational DB)."""
    url = ops_db_url(root)
    if url is None:
        return None
    try:
        return _ops_db(url)
    except ImportError:
        return None
    except Exception as exc:
        log.warning("operational DB not available: %s", exc)
        return None


def acknowledge_alert(alert_id: str, actor: str, root: Path | None = None) -> None:
    """Acknowledge through the alerts package (raises RuntimeError when it is unavailable)."""
    ops = ops_db(root)
    if ops is None:
        raise RuntimeError("no operational alerts database")
    from alerts.lifecycle import AlertLifecycle

    AlertLifecycle(ops, validate=False).acknowledge(alert_id, actor=actor)
    clear_caches()


def can_acknowledge(root: Path | None = None) -> bool:
    try:
        import alerts.lifecycle  # noqa: F401
    except ImportError:
        return False
    return ops_db(root) is not None


# -- live alert state from the operational DB (the lake copy lags until the next export) ------
def _ops_frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    df = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=list(columns))
    for col in ("opened_at", "updated_at", "at"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], utc=True).dt.tz_convert(WIB)
    return df


def ops_alerts(alert_ids: Sequence[str] = (), root: Path | None = None) -> pd.DataFrame | None:
    """Current state (alerts-page columns) of every active alert and of ``alert_ids`` in the ops DB.

    None when there is no operational DB; the lake's ``alerts`` table is then all there is.
    """
    ops = ops_db(root)
    if ops is None:
        return None
    from alerts.lifecycle import AlertNotFoundError, get_alert, list_alerts

    try:
        rows = list_alerts(ops, active_only=True)
        seen = {r["alert_id"] for r in rows}
        for alert_id in dict.fromkeys(a for a in alert_ids if a not in seen):
            try:
                rows.append(get_alert(ops, alert_id))
            except AlertNotFoundError:
                continue  # only in the lake (e.g. an older ops DB): the lake row stands
    except Exception as exc:
        log.warning("operational DB not readable: %s", exc)
        return None
    return _ops_frame(rows, _ALERT_COLS)


OPS_VERSION_COLS = ("version", "updated_at", "status", "level", "reason", "actor")


def ops_alert_versions(alert_id: str, root: Path | None = None) -> pd.DataFrame | None:
    """Every transition of ``alert_id`` in the ops DB (who did what), or None without one."""
    ops = ops_db(root)
    if ops is None:
        return None
    from alerts.lifecycle import transitions

    try:
        rows = [{**r, "updated_at": r["at"]} for r in transitions(ops, alert_id)]
    except Exception as exc:
        log.warning("operational DB not readable: %s", exc)
        return None
    return _ops_frame(rows, OPS_VERSION_COLS)


def merge_live_alerts(lake: pd.DataFrame, ops: pd.DataFrame | None) -> pd.DataFrame:
    """The lake's latest row per alert, replaced by the ops DB's current row where it has one.

    The lake copy is refreshed by the export job; an acknowledgement (or an alert opened since the last export) must
    show at once, so the operational DB wins where it knows the alert.
    """
    if ops is None or ops.empty:
        return lake
    if lake.empty:
        return ops.reset_index(drop=True)
    return pd.concat([lake[~lake["alert_id"].isin(ops["alert_id"])], ops], ignore_index=True)


def sort_active_first(df: pd.DataFrame) -> pd.DataFrame:
    """Highest level first, then newest."""
    rank = df["level"].map(LEVEL_RANK).fillna(-1)
    return (
        df.assign(_rank=rank)
        .sort_values(["_rank", "opened_at"], ascending=[False, False])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def active_alerts_now(root: Path | None = None) -> pd.DataFrame:
    """Active alerts as operators see them now: the lake's active rows merged with the ops DB's live state."""
    lake_active = query(ALERTS_ACTIVE, live=True, root=root)
    current = merge_live_alerts(lake_active, ops_alerts(lake_active["alert_id"].tolist(), root=root))
    return sort_active_first(current[current["status"].isin(ACTIVE_ALERT_STATUSES)])
