"""Risk and uptime marts: incremental refresh by hour over frames, frame_scores and camera_events.

The SQL lives in ``marts/sql/``. A refresh covers a window ``[start, end)``; every hour
(and every UTC day for uptime) the window touches is recomputed from the sources and replaced in one
transaction, so re-running a window is idempotent and late frames are picked up by re-running it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from analytics.levels import LEVELS, level_rank_sql
from warehouse.lake import Lake

log = logging.getLogger(__name__)

MARTS_SQL_DIR = Path(__file__).parent / "sql"
SOURCES = ("frames", "frame_scores", "camera_events", "cameras")

DELETE_CAMERA_HOURS = "DELETE FROM risk_hourly_camera WHERE hour >= $start AND hour < $end"
DELETE_KELURAHAN_HOURS = "DELETE FROM risk_hourly_kelurahan WHERE hour >= $start AND hour < $end"
DELETE_UPTIME_DAYS = "DELETE FROM camera_uptime_daily WHERE day >= CAST($start AS DATE) AND day < CAST($end AS DATE)"
SOURCE_SPAN = """
SELECT min(t), max(t) FROM (
    SELECT min(captured_at) AS t FROM frames UNION ALL SELECT max(captured_at) FROM frames
    UNION ALL SELECT min(captured_at) FROM frame_scores UNION ALL SELECT max(captured_at) FROM frame_scores
    UNION ALL SELECT min(window_start) FROM camera_events UNION ALL SELECT max(window_start) FROM camera_events
)
"""


class MartSourceMissingError(RuntimeError):
    """A source table of the marts does not exist in the lake yet."""


@dataclass(frozen=True)
class MartRefresh:
    start: datetime
    end: datetime
    camera_rows: int
    kelurahan_rows: int
    uptime_rows: int


def mart_sql(name: str) -> str:
    return (MARTS_SQL_DIR / f"{name}.sql").read_text()


def _floor_hour(ts: datetime) -> datetime:
    ts = ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
    return ts.replace(minute=0, second=0, microsecond=0)


def _floor_day(ts: datetime) -> datetime:
    return _floor_hour(ts).replace(hour=0)


def check_sources(lake: Lake) -> None:
    missing = sorted(set(SOURCES) - set(lake.tables()))
    if missing:
        raise MartSourceMissingError(f"mart sources missing from the lake: {', '.join(missing)}")


def source_span(lake: Lake) -> tuple[datetime, datetime] | None:
    """The [first hour, last hour + 1h) covered by the sources, or None when they are empty."""
    check_sources(lake)
    row = lake.query(SOURCE_SPAN).to_pylist()[0]
    lo, hi = row["min(t)"], row["max(t)"]
    if lo is None or hi is None:
        return None
    return _floor_hour(lo), _floor_hour(hi) + timedelta(hours=1)


def refresh_risk_marts(
    lake: Lake,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    hourly: bool = True,
    uptime: bool = True,
) -> MartRefresh:
    """Recompute every hour touched by ``[start, end)`` (default: the whole source span).

    Hours are aligned down/up to whole hours and uptime days to whole UTC days; rows of those
    hours/days are deleted and re-inserted in one transaction (an upsert of the touched hours).
    """
    check_sources(lake)
    if start is None or end is None:
        span = source_span(lake)
        if span is None:
            now = _floor_hour(datetime.now(UTC))
            return MartRefresh(now, now, 0, 0, 0)
        start = start or span[0]
        end = end or span[1]
    h_start = _floor_hour(start)
    h_end = _floor_hour(end)
    end_utc = end.astimezone(UTC) if end.tzinfo else end.replace(tzinfo=UTC)
    if h_end < end_utc:
        h_end += timedelta(hours=1)
    d_start = _floor_day(h_start)
    d_end = _floor_day(h_end - timedelta(microseconds=1)) + timedelta(days=1)
    hours = {"start": h_start, "end": h_end}
    leveled = {**hours, "levels": list(LEVELS)}
    days = {"start": d_start, "end": d_end}

    def _do(cur: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
        n_cam = n_kel = n_up = 0
        if hourly:
            n_cam, n_kel = _hourly(cur)
        if uptime:
            n_up = _uptime(cur)
        return n_cam, n_kel, n_up

    def _hourly(cur: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        cur.execute(DELETE_CAMERA_HOURS, hours)
        cam = cur.execute(mart_sql("risk_hourly_camera"), leveled).to_arrow_table()
        if cam.num_rows:
            cur.register("_mart_batch", cam)
            cur.execute("INSERT INTO risk_hourly_camera BY NAME SELECT * FROM _mart_batch")
            cur.unregister("_mart_batch")
        cur.execute(DELETE_KELURAHAN_HOURS, hours)
        kel = cur.execute(mart_sql("risk_hourly_kelurahan"), leveled).to_arrow_table()
        if kel.num_rows:
            cur.register("_mart_batch", kel)
            cur.execute("INSERT INTO risk_hourly_kelurahan BY NAME SELECT * FROM _mart_batch")
            cur.unregister("_mart_batch")
        return cam.num_rows, kel.num_rows

    def _uptime(cur: duckdb.DuckDBPyConnection) -> int:
        cur.execute(DELETE_UPTIME_DAYS, days)
        up = cur.execute(mart_sql("camera_uptime_daily"), days).to_arrow_table()
        if up.num_rows:
            cur.register("_mart_batch", up)
            cur.execute("INSERT INTO camera_uptime_daily BY NAME SELECT * FROM _mart_batch")
            cur.unregister("_mart_batch")
        return up.num_rows

    n_cam, n_kel, n_up = lake.write(_do)
    log.info(
        "risk marts %s..%s: %d camera-hours, %d kelurahan-hours, %d camera-days", h_start, h_end, n_cam, n_kel, n_up
    )
    return MartRefresh(h_start, h_end, n_cam, n_kel, n_up)


QUALITY_CHECKS: dict[str, str] = {
    "risk_hourly_camera: scores outside [0, 1]": """
        SELECT count(*) FROM risk_hourly_camera WHERE NOT (
            coalesce(fire_max, 0) BETWEEN 0 AND 1 AND coalesce(smoke_max, 0) BETWEEN 0 AND 1
            AND coalesce(flood_max, 0) BETWEEN 0 AND 1 AND coalesce(crowd_max, 0) BETWEEN 0 AND 1
            AND coalesce(uptime, 0) BETWEEN 0 AND 1)""",
    "risk_hourly_camera: negative counts": """
        SELECT count(*) FROM risk_hourly_camera WHERE frames < 0 OR frames_ok < 0 OR frames_ok > frames
            OR coalesce(persons_max, 0) < 0""",
    "risk_hourly_camera: duplicate (hour, camera_id)": """
        SELECT count(*) FROM (SELECT hour, camera_id FROM risk_hourly_camera GROUP BY ALL HAVING count(*) > 1)""",
    "risk_hourly_camera: missing keys": "SELECT count(*) FROM risk_hourly_camera WHERE hour IS NULL OR camera_id IS NULL",
    "risk_hourly_camera: unknown risk level": f"""
        SELECT count(*) FROM risk_hourly_camera
        WHERE risk_level_max IS NOT NULL AND {level_rank_sql("risk_level_max")} IS NULL""",
    "camera_uptime_daily: uptime outside [0, 1] or ok > samples": """
        SELECT count(*) FROM camera_uptime_daily WHERE uptime < 0 OR uptime > 1 OR ok > samples""",
    "camera_uptime_daily: duplicate (day, camera_id)": """
        SELECT count(*) FROM (SELECT day, camera_id FROM camera_uptime_daily GROUP BY ALL HAVING count(*) > 1)""",
}


def quality_issues(lake: Lake) -> dict[str, int]:
    """Data-quality rules of the risk marts: {rule: offending rows} for every failing rule."""
    out: dict[str, int] = {}
    for rule, sql in QUALITY_CHECKS.items():
        n = int(lake.scalar(sql) or 0)
        if n:
            out[rule] = n
    return out
