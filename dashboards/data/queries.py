"""The dashboards' read queries: SQL constants with bound parameters, grouped by page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import analytics.levels as _levels
from dashboards.data.query import Q, has_tables, query

LEVELS = _levels.LEVELS  # the one vocabulary (analytics.levels)
LEVEL_RANK = {lv: i for i, lv in enumerate(LEVELS)}
ACTIVE_ALERT_STATUSES = ("open", "updated", "acknowledged")

_LATEST_COVERAGE = "run_id IS NOT DISTINCT FROM (SELECT max(run_id) FROM coverage_kelurahan)"


LEVEL_RANK_SQL = _levels.level_rank_sql("{col}")  # .format(col=...): the rank of a level column, from the enum


def _rank(col: str) -> str:
    return _levels.level_rank_sql(col)


CAMERAS = Q(
    "SELECT camera_id, name, operator, lat, lon, kelurahan_code, kelurahan, kecamatan, kota, active, "
    "view_radius_m, address FROM cameras WHERE coalesce(status, 'installed') <> 'planned' ORDER BY camera_id",
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
    "arg_max(health, captured_at) AS health, arg_max(model_version, captured_at) AS model_version, "
    "max(captured_at) AS last_seen FROM frame_scores "
    "WHERE captured_at >= (SELECT max(captured_at) FROM frame_scores) - INTERVAL 1 HOUR GROUP BY camera_id",
    ("frame_scores",),
    ("camera_id", "risk_level", "risk_hazard", "health", "model_version", "last_seen"),
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

ALERT_COLS = (
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
_ALERT_SELECT = ", ".join(ALERT_COLS)
_ALERTS_LATEST = (
    f"SELECT {_ALERT_SELECT} FROM alerts "
    "QUALIFY row_number() OVER (PARTITION BY alert_id ORDER BY version DESC, updated_at DESC) = 1"
)

ALERTS_ACTIVE = Q(
    f"SELECT * FROM ({_ALERTS_LATEST}) WHERE status IN ('open', 'updated', 'acknowledged') "
    f"ORDER BY {_rank('level')} DESC NULLS LAST, opened_at DESC",
    ("alerts",),
    ALERT_COLS,
    empty_if_empty=True,
)

ALERTS_SINCE = Q(
    f"SELECT * FROM ({_ALERTS_LATEST}) WHERE opened_at >= ? ORDER BY opened_at DESC LIMIT 5000",
    ("alerts",),
    ALERT_COLS,
    empty_if_empty=True,
)

ALERTS_FOR_CAMERA = Q(
    f"SELECT * FROM ({_ALERTS_LATEST}) WHERE camera_id = ? ORDER BY opened_at DESC LIMIT 200",
    ("alerts",),
    ALERT_COLS,
    empty_if_empty=True,
)

ALERT_VERSIONS = Q(
    f"SELECT {_ALERT_SELECT} FROM alerts WHERE alert_id = ? ORDER BY version",
    ("alerts",),
    ALERT_COLS,
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

ALERT_ACK_BY_AGENCY = Q(
    "SELECT agency, sum(acknowledged) AS acknowledged, median(tta_median_s) AS tta_median_s, "
    "max(tta_p90_s) AS tta_p90_s FROM alert_ack_daily WHERE agency IS NOT NULL AND day >= ? "
    "GROUP BY agency ORDER BY tta_median_s DESC",
    ("alert_ack_daily",),
    ("agency", "acknowledged", "tta_median_s", "tta_p90_s"),
    empty_if_empty=True,
)

ALERTS_UNACKNOWLEDGED = Q(
    "SELECT coalesce(sum(alerts - acknowledged), 0) AS unacknowledged FROM alert_ack_daily WHERE day >= ?",
    ("alert_ack_daily",),
    ("unacknowledged",),
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
    "SELECT window_start, window_end, frames_ok, frames_failed, persons_max, persons_mean, vehicles_max, "
    "vehicles_mean, cars_mean, motorcycles_mean, buses_trucks_mean, motion_events, "
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
        "vehicles_max",
        "vehicles_mean",
        "cars_mean",
        "motorcycles_mean",
        "buses_trucks_mean",
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

# Parks and public spaces (RPTRA) of the planning demand layer ``public_space`` (reference table ``facilities``).
PUBLIC_SPACES = Q(
    "SELECT name, lat, lon, kode_kelurahan FROM facilities WHERE kind = 'public_space' "
    "AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY name",
    ("facilities",),
    ("name", "lat", "lon", "kode_kelurahan"),
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
