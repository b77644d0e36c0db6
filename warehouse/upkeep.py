"""Lake upkeep: compaction, snapshot expiry and retention by policy, each reporting what it removed.

* ``compact_lake``: merges adjacent small Parquet files of every table up to a target file size
  (DuckLake's ``target_file_size`` option + ``ducklake_merge_adjacent_files``) and rewrites files where many
  rows were deleted (``ducklake_rewrite_data_files``). Older snapshots still read their own files, so time travel
  to any kept snapshot stays exact; the replaced files are deleted once no kept snapshot needs them.
* ``expire_snapshots``: forgets snapshots older than a cut-off EXCEPT the ones a published release names
  (``pinned``) and the newest, then deletes the files no remaining snapshot references. A release therefore stays
  reproducible from the lake for as long as it is published.
* ``apply_retention``: per table, a rule deletes rows older than N days or clears named personal columns in them
  (purpose limitation: keep a field only as long as its purpose needs it). Rules are data (``RetentionRule``),
  loaded from a mapping (TOML) with ``policy_from_mapping``; ``DEFAULT_RULES`` is the shipped policy.
* ``release_reference_problems``: what a published release refers to and the lake or store no longer has
  (its snapshot, a file of its checksum list) - the asset check after every upkeep run.

Every action appends rows to ``upkeep_log`` (migration 0701) describing what was removed, and returns the same as a
list of dicts for run metadata. Pure: no Dagster, no settings; callers pass the lake, the policy and the pins.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from warehouse.lake import LAKE_ALIAS, Lake, ident, is_retryable, literal

log = logging.getLogger(__name__)

MB = 1024 * 1024
DEFAULT_TARGET_FILE_MB = 64.0
DEFAULT_DELETE_THRESHOLD = 0.25  # rewrite a file once a quarter of its rows are deleted
UPKEEP_LOG = "upkeep_log"
INSERT_LOG = (
    "INSERT INTO upkeep_log (run_at, action, table_name, rows_affected, files_before, files_after, bytes_before, "
    "bytes_after, cutoff, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FILE_STATS = "SELECT count(*), coalesce(sum(data_file_size_bytes), 0) FROM ducklake_list_files(?, ?)"
SNAPSHOTS = "SELECT snapshot_id, snapshot_time FROM ducklake_snapshots(" + literal(LAKE_ALIAS) + ") ORDER BY 1"


@dataclass(frozen=True)
class RetentionRule:
    """Keep ``table``'s rows (or, with ``columns``, those columns' values) for ``days`` after ``time_column``."""

    table: str
    time_column: str
    days: float
    columns: tuple[str, ...] = ()  # empty: delete the rows; otherwise set these columns to NULL
    purpose: str = ""

    @property
    def action(self) -> str:
        return "clear_columns" if self.columns else "delete_rows"


#: The shipped policy. Raw (unblurred) keyframe keys go with their objects; Jaki personal fields (the salted user
#: hash, complaint free text, exact coordinates of a complaint or panic press) are kept only while their purpose
#: needs them (de-duplication and the daily marts' recomputation window), the aggregated rows stay; rejected Jaki
#: rows hold raw input values and go after the time needed to fix the export.
DEFAULT_RULES: tuple[RetentionRule, ...] = (
    RetentionRule("frames", "captured_at", 7, ("keyframe_uri",), "raw keyframes: incident review, 7 days"),
    RetentionRule("frames", "captured_at", 30, ("public_uri",), "blurred keyframes: thumbnails, 30 days"),
    RetentionRule("jaki_usage_events", "event_time", 35, ("user_hash",), "distinct users in daily usage marts"),
    RetentionRule("jaki_complaints", "created_at", 90, ("user_hash", "description"), "complaint follow-up"),
    RetentionRule("jaki_complaints", "created_at", 35, ("lat", "lon"), "flood context near a camera"),
    RetentionRule("jaki_health_requests", "created_at", 35, ("user_hash",), "request follow-up"),
    RetentionRule("jaki_fast_cash", "submitted_at", 90, ("user_hash",), "application follow-up"),
    RetentionRule("jaki_panic_button", "pressed_at", 35, ("user_hash", "lat", "lon"), "panic response"),
    RetentionRule("jaki_quarantine", "quarantined_at", 30, (), "fixing rejected export rows"),
)


@dataclass(frozen=True)
class UpkeepPolicy:
    target_file_mb: float = DEFAULT_TARGET_FILE_MB
    delete_threshold: float = DEFAULT_DELETE_THRESHOLD
    snapshot_days: float = 7.0
    rules: tuple[RetentionRule, ...] = DEFAULT_RULES


def policy_from_mapping(data: Mapping[str, Any], base: UpkeepPolicy | None = None) -> UpkeepPolicy:
    """A policy from a mapping such as the ``[upkeep]`` table of the TOML config::

        target_file_mb = 64
        snapshot_days = 7
        [upkeep.retention.jaki_usage_events]      # per table: days for the rule(s) of that table
        days = 60
        [[upkeep.rules]]                           # or full extra rules
        table = "jaki_complaints"  time_column = "created_at"  days = 30  columns = ["channel"]

    A table entry with ``days`` changes every shipped rule of that table; ``enabled = false`` drops them.
    """
    p = base or UpkeepPolicy()
    rules = list(p.rules)
    for table, opts in dict(data.get("retention", {})).items():
        if opts.get("enabled", True) is False:
            rules = [r for r in rules if r.table != table]
        elif "days" in opts:
            rules = [replace(r, days=float(opts["days"])) if r.table == table else r for r in rules]
    for extra in data.get("rules", []):
        rules.append(
            RetentionRule(
                table=str(extra["table"]),
                time_column=str(extra["time_column"]),
                days=float(extra["days"]),
                columns=tuple(extra.get("columns", ())),
                purpose=str(extra.get("purpose", "")),
            )
        )
    return replace(
        p,
        target_file_mb=float(data.get("target_file_mb", p.target_file_mb)),
        delete_threshold=float(data.get("delete_threshold", p.delete_threshold)),
        snapshot_days=float(data.get("snapshot_days", p.snapshot_days)),
        rules=tuple(rules),
    )


# -- helpers ----------------------------------------------------------------------------------------------------
def _file_stats(cur: Any, table: str) -> tuple[int, int]:
    row = cur.execute(FILE_STATS, [LAKE_ALIAS, table]).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _log(lake: Lake, entries: Sequence[dict[str, Any]], run_at: datetime) -> None:
    if not entries or UPKEEP_LOG not in lake.tables():
        return

    def _do(cur: Any) -> None:
        for e in entries:
            cur.execute(
                INSERT_LOG,
                [
                    run_at,
                    e["action"],
                    e.get("table"),
                    e.get("rows", 0),
                    e.get("files_before"),
                    e.get("files_after"),
                    e.get("bytes_before"),
                    e.get("bytes_after"),
                    e.get("cutoff"),
                    json.dumps(e.get("detail", {}), default=str, sort_keys=True),
                ],
            )

    lake.write(_do)


def _user_tables(lake: Lake) -> list[str]:
    return [t for t in lake.tables() if t != UPKEEP_LOG]


# -- compaction -------------------------------------------------------------------------------------------------
MERGE = "SELECT * FROM ducklake_merge_adjacent_files(?, ?)"
REWRITE = "SELECT * FROM ducklake_rewrite_data_files(?, ?, delete_threshold => ?)"


def _retrying(cur: Any, sql: str, params: list[Any], retries: int) -> list[Any]:
    """Run one maintenance call, retrying commit conflicts with a concurrent writer (PostgreSQL catalog)."""
    delay = 0.05
    for attempt in range(max(1, retries)):
        try:
            return list(cur.execute(sql, params).fetchall())
        except duckdb.Error as exc:
            if attempt + 1 >= retries or not is_retryable(exc):
                raise
            log.debug("upkeep retry %d after %s", attempt + 1, exc)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    return []


def compact_lake(
    lake: Lake,
    *,
    target_file_mb: float = DEFAULT_TARGET_FILE_MB,
    delete_threshold: float = DEFAULT_DELETE_THRESHOLD,
    tables: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Merge small files up to ``target_file_mb`` per table; returns (and logs) files/bytes before and after."""
    now = now or datetime.now(UTC)
    names = [ident(t) for t in (tables if tables is not None else _user_tables(lake))]
    out: list[dict[str, Any]] = []
    with lake.maintenance() as cur:  # one maintenance writer at a time on the embedded lake
        cur.execute("CALL ducklake_set_option(?, 'target_file_size', ?)", [LAKE_ALIAS, f"{int(target_file_mb * MB)}B"])
        for t in names:
            files_before, bytes_before = _file_stats(cur, t)
            if files_before <= 1:
                continue
            merged = _retrying(cur, MERGE, [LAKE_ALIAS, t], lake.config.retries)
            rewritten = _retrying(cur, REWRITE, [LAKE_ALIAS, t, delete_threshold], lake.config.retries)
            files_after, bytes_after = _file_stats(cur, t)
            if files_after == files_before and not rewritten:
                continue
            out.append(
                {
                    "action": "compact",
                    "table": t,
                    "rows": 0,
                    "files_before": files_before,
                    "files_after": files_after,
                    "bytes_before": bytes_before,
                    "bytes_after": bytes_after,
                    "detail": {
                        "target_file_mb": target_file_mb,
                        "files_merged": sum(int(r[2]) for r in merged),
                        "files_rewritten": sum(int(r[2]) for r in rewritten),
                    },
                }
            )
    _log(lake, out, now)
    log.info("compaction: %d tables merged", len(out))
    return out


# -- snapshot expiry --------------------------------------------------------------------------------------------
def expirable_snapshots(
    snapshots: Sequence[tuple[int, datetime]], cutoff: datetime, pinned: Iterable[int]
) -> list[int]:
    """Snapshot ids older than ``cutoff``, never a pinned one nor the newest (the lake's current state)."""
    keep = set(int(p) for p in pinned)
    if snapshots:
        keep.add(max(int(s) for s, _ in snapshots))
    return sorted(int(s) for s, t in snapshots if t < cutoff and int(s) not in keep)


def expire_snapshots(
    lake: Lake, *, older_than_days: float, pinned: Iterable[int] = (), now: datetime | None = None
) -> list[dict[str, Any]]:
    """Expire the snapshots ``expirable_snapshots`` picks, then delete the files nothing references any more."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=older_than_days)
    pins = sorted({int(p) for p in pinned})
    snaps = [(int(r["snapshot_id"]), r["snapshot_time"]) for r in lake.query(SNAPSHOTS).to_pylist()]
    victims = expirable_snapshots(snaps, cutoff, pins)
    with lake.maintenance() as cur:
        if victims:
            cur.execute("SELECT * FROM ducklake_expire_snapshots(?, versions => ?)", [LAKE_ALIAS, victims]).fetchall()
        removed = cur.execute("SELECT * FROM ducklake_cleanup_old_files(?, cleanup_all => true)", [LAKE_ALIAS])
        removed_files = [str(r[0]) for r in removed.fetchall()]
    entry = {
        "action": "expire_snapshots",
        "table": None,
        "rows": len(victims),
        "cutoff": cutoff,
        "detail": {
            "expired": len(victims),
            "first_expired": victims[0] if victims else None,
            "last_expired": victims[-1] if victims else None,
            "kept_for_releases": [p for p in pins if any(s == p for s, _ in snaps)],
            "files_deleted": len(removed_files),
        },
    }
    _log(lake, [entry], now)
    log.info("snapshot expiry: %d snapshots expired, %d files deleted", len(victims), len(removed_files))
    return [entry]


# -- retention --------------------------------------------------------------------------------------------------
def apply_retention(
    lake: Lake, rules: Sequence[RetentionRule] = DEFAULT_RULES, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Apply every rule whose table exists; returns (and logs) rows deleted or cleared per rule."""
    now = now or datetime.now(UTC)
    present = set(lake.tables())
    out: list[dict[str, Any]] = []
    for rule in rules:
        if rule.table not in present:
            continue
        t, col = ident(rule.table), ident(rule.time_column)
        cutoff = now - timedelta(days=rule.days)
        if rule.columns:
            cols = [ident(c) for c in rule.columns]
            have = [c for c in cols if c in lake.columns(t)]
            if not have:
                continue
            any_set = " OR ".join(f"{c} IS NOT NULL" for c in have)
            sets = ", ".join(f"{c} = NULL" for c in have)
            count_sql = f"SELECT count(*) FROM {t} WHERE {col} < ? AND ({any_set})"
            change_sql = f"UPDATE {t} SET {sets} WHERE {col} < ? AND ({any_set})"
        else:
            have = []
            count_sql = f"SELECT count(*) FROM {t} WHERE {col} < ?"
            change_sql = f"DELETE FROM {t} WHERE {col} < ?"

        def _do(cur: Any, count_sql: str = count_sql, change_sql: str = change_sql, cutoff: datetime = cutoff) -> int:
            row = cur.execute(count_sql, [cutoff]).fetchone()
            n = int(row[0]) if row else 0
            if n:
                cur.execute(change_sql, [cutoff])
            return n

        n = int(lake.write(_do))
        out.append(
            {
                "action": rule.action,
                "table": rule.table,
                "rows": n,
                "cutoff": cutoff,
                "detail": {"columns": have, "days": rule.days, "purpose": rule.purpose},
            }
        )
    _log(lake, [e for e in out if e["rows"]], now)
    log.info("retention: %s", {f"{e['table']}:{e['action']}": e["rows"] for e in out})
    return out


# -- what releases reference ------------------------------------------------------------------------------------
def release_reference_problems(lake: Lake, store: Any, releases: Sequence[Mapping[str, Any]]) -> list[str]:
    """Everything a published release names that is gone: its lake snapshot, or a file of its ``SHA256SUMS``."""
    snaps = {int(r["snapshot_id"]) for r in lake.query(SNAPSHOTS).to_pylist()}
    problems: list[str] = []
    for rel in releases:
        version = str(rel.get("version"))
        sid = rel.get("snapshot_id")
        if sid is not None and int(sid) not in snaps:
            problems.append(f"release {version}: lake snapshot {sid} is gone")
        prefix = f"releases/{version}/"
        try:
            sums = store.get_bytes(prefix + "SHA256SUMS").decode()
        except KeyError:
            problems.append(f"release {version}: SHA256SUMS is gone")
            continue
        for line in sums.splitlines():
            path = line.split("  ", 1)[1] if "  " in line else ""
            if path and not store.exists(prefix + path):
                problems.append(f"release {version}: {path} is gone")
    return problems
