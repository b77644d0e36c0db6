"""Jaki marts: incremental refresh of day ranges from the SQL files ``marts/sql/jaki_*.sql``.

Each mart is refreshed for ``[start_day, end_day]`` (calendar days in Asia/Jakarta) in one
transaction: rows of those days are deleted and recomputed, so a refresh is idempotent and a
late file only needs its days refreshed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from warehouse.lake import Lake, ident

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent / "sql"
WIB = timedelta(hours=7)


@dataclass(frozen=True)
class Mart:
    table: str
    sql_file: str
    time_column: str  # "day" (DATE, WIB) or "hour" (TIMESTAMPTZ)
    params_per_range: int = 1  # how many (start, end) pairs the SQL binds

    def sql(self) -> str:
        return (SQL_DIR / self.sql_file).read_text()


MARTS: tuple[Mart, ...] = (
    Mart("jaki_daily_usage", "jaki_daily_usage.sql", "day"),
    Mart("jaki_complaints_summary", "jaki_complaints_summary.sql", "day"),
    Mart("jaki_hospital_beds_daily", "jaki_hospital_beds_daily.sql", "day"),
    Mart("jaki_parking_hourly", "jaki_parking_hourly.sql", "hour"),
    Mart("jaki_panic_hourly", "jaki_panic_hourly.sql", "hour"),
)


def wib_day_bounds(start_day: date, end_day: date) -> tuple[datetime, datetime]:
    """UTC instants of WIB midnight at ``start_day`` and after ``end_day``."""
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC) - WIB
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC) - WIB + timedelta(days=1)
    return start, end


def refresh_mart(lake: Lake, mart: Mart, start_day: date, end_day: date) -> int:
    """Recompute ``mart`` for the WIB days ``start_day..end_day``; returns rows written."""
    start, end = wib_day_bounds(start_day, end_day)
    t = ident(mart.table)
    select = mart.sql()
    if mart.table == "jaki_complaints_summary":
        # weekly rows cover whole weeks: widen the window to the Monday..Sunday around the range
        start_day = start_day - timedelta(days=start_day.weekday())
        end_day = end_day + timedelta(days=6 - end_day.weekday())
        start, end = wib_day_bounds(start_day, end_day)

    def _do(cur: duckdb.DuckDBPyConnection) -> int:
        if mart.time_column == "day":
            cur.execute(f"DELETE FROM {t} WHERE day BETWEEN ? AND ?", [start_day, end_day])
        else:
            cur.execute(f"DELETE FROM {t} WHERE hour >= ? AND hour < ?", [start, end])
        cur.execute(f"INSERT INTO {t} BY NAME {select}", [start, end] * mart.params_per_range)
        row = cur.execute(
            f"SELECT count(*) FROM {t} WHERE "
            + ("day BETWEEN ? AND ?" if mart.time_column == "day" else "hour >= ? AND hour < ?"),
            [start_day, end_day] if mart.time_column == "day" else [start, end],
        ).fetchone()
        return int(row[0]) if row else 0

    n = int(lake.write(_do))
    log.info("refreshed %s for %s..%s: %d rows", mart.table, start_day, end_day, n)
    return n


def refresh_marts(lake: Lake, start_day: date, end_day: date, marts: tuple[Mart, ...] = MARTS) -> dict[str, int]:
    """Refresh every Jaki mart for the WIB days ``start_day..end_day``."""
    if end_day < start_day:
        raise ValueError(f"end_day {end_day} is before start_day {start_day}")
    return {m.table: refresh_mart(lake, m, start_day, end_day) for m in marts}


def touched_days(lake: Lake, table: str, since: datetime) -> tuple[date, date] | None:
    """WIB day span of the rows of a Jaki table ingested since ``since`` (None when nothing new)."""
    from ingest.jaki.schemas import spec_for

    spec = spec_for(table)
    tcol = ident(spec.column(spec.time_column).lake_name)
    row = lake.query(
        f"SELECT CAST(min(timezone('Asia/Jakarta', {tcol})) AS DATE) AS lo, "
        f"CAST(max(timezone('Asia/Jakarta', {tcol})) AS DATE) AS hi FROM {ident(spec.table)} WHERE ingested_at >= ?",
        [since],
    ).to_pylist()[0]
    if row["lo"] is None:
        return None
    return row["lo"], row["hi"]
