"""Lake upkeep on real lakes (embedded, and PostgreSQL catalog + S3 data on loopback): compaction, snapshot expiry
that keeps what releases reference, retention by policy, and the check that finds a release's missing parts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore
from warehouse.upkeep import (
    DEFAULT_RULES,
    RetentionRule,
    apply_retention,
    compact_lake,
    expirable_snapshots,
    expire_snapshots,
    policy_from_mapping,
    release_reference_problems,
)

NOW = datetime.now(UTC)
TS = pa.timestamp("us", tz="UTC")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def mlake(request: pytest.FixtureRequest, lake_config: LakeConfig) -> Iterator[Lake]:
    cfg = lake_config if request.param == "sqlite" else request.getfixturevalue("pg_lake_config")
    lk = Lake(cfg)
    migrate(lk)
    lk.execute("CREATE TABLE batches (camera_id VARCHAR, captured_at TIMESTAMPTZ, v DOUBLE)")
    yield lk
    lk.close()


def _batch(i: int) -> pa.Table:
    at = NOW - timedelta(seconds=30 * (40 - i))
    return pa.table(
        {
            "camera_id": [f"cam-{c}" for c in range(5)],
            "captured_at": pa.array([at] * 5, TS),
            "v": [float(i)] * 5,
        }
    )


def _release(store: LocalObjectStore, version: str, snapshot_id: int) -> dict[str, object]:
    files = {"data/x.csv": b"a,b\n1,2\n", "release.json": b"{}"}
    for path, data in files.items():
        store.put_bytes(f"releases/{version}/{path}", data)
    sums = "".join(f"{hashlib.sha256(d).hexdigest()}  {p}\n" for p, d in sorted(files.items()))
    store.put_bytes(f"releases/{version}/SHA256SUMS", sums.encode())
    return {"version": version, "snapshot_id": snapshot_id}


def test_compaction_then_expiry_keeps_release_snapshots(mlake: Lake, tmp_path: Path) -> None:
    sids = []
    for i in range(12):  # twelve 30-second micro-batches, one file and one snapshot each
        mlake.append("batches", _batch(i))
        sids.append(mlake.snapshot_id())
    pinned, unpinned = sids[3], sids[6]
    rows_at_pin = mlake.scalar("SELECT count(*) FROM batches AT (VERSION => ?)", [pinned])
    assert rows_at_pin == 20

    out = compact_lake(mlake, target_file_mb=64, tables=["batches"])
    assert out and out[0]["files_before"] == 12 and out[0]["files_after"] == 1
    assert mlake.scalar("SELECT count(*) FROM batches") == 60
    assert mlake.scalar("SELECT count(*) FROM batches AT (VERSION => ?)", [pinned]) == rows_at_pin

    store = LocalObjectStore(tmp_path / "store")
    releases = [_release(store, "r1", pinned)]
    expired = expire_snapshots(mlake, older_than_days=1, pinned=[pinned], now=NOW + timedelta(days=2))
    assert expired[0]["rows"] >= len(sids) - 2 and expired[0]["detail"]["kept_for_releases"] == [pinned]
    snaps = set(mlake.snapshots().column("snapshot_id").to_pylist())
    assert pinned in snaps and unpinned not in snaps and sids[-1] not in snaps
    assert len(snaps) <= 3  # the pinned one, the newest (after the compaction commit), the expiry log's own commit
    # the pinned snapshot still reads its rows (its files survived the cleanup); the current state is intact
    assert mlake.scalar("SELECT count(*) FROM batches AT (VERSION => ?)", [pinned]) == rows_at_pin
    assert mlake.scalar("SELECT count(*) FROM batches") == 60
    assert release_reference_problems(mlake, store, releases) == []

    # what the check finds when a release's parts are gone
    store.delete("releases/r1/data/x.csv")
    broken = [*releases, {"version": "r2", "snapshot_id": unpinned}]
    problems = release_reference_problems(mlake, store, broken)
    assert "release r1: data/x.csv is gone" in problems
    assert f"release r2: lake snapshot {unpinned} is gone" in problems
    assert "release r2: SHA256SUMS is gone" in problems

    logged = mlake.query("SELECT action, table_name FROM upkeep_log ORDER BY run_at, action").to_pylist()
    assert {"action": "compact", "table_name": "batches"} in logged
    assert any(r["action"] == "expire_snapshots" for r in logged)


@pytest.mark.parametrize(
    ("snap_ages_days", "pinned", "expected"),
    [
        ([10, 9, 8, 1], [], [1, 2, 3]),  # everything older than the cut-off
        ([10, 9, 8, 7], [], [1, 2, 3]),  # the newest snapshot is never expired even when old
        ([10, 9, 8, 1], [2], [1, 3]),  # a release's snapshot stays
        ([3, 2, 1], [], []),  # nothing old enough
    ],
)
def test_expirable_snapshots(snap_ages_days: list[int], pinned: list[int], expected: list[int]) -> None:
    snaps = [(i + 1, NOW - timedelta(days=d)) for i, d in enumerate(snap_ages_days)]
    assert expirable_snapshots(snaps, NOW - timedelta(days=5), pinned) == expected


def test_retention_deletes_rows_and_clears_personal_fields(lake: Lake) -> None:
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=2)
    lake.append(
        "jaki_usage_events",
        pa.table(
            {
                "event_id": ["e1", "e2", "e3"],
                "event_time": pa.array([old, old, recent], TS),
                "feature": ["lapor", "lapor", "lapor"],
                "kelurahan_code": ["3171011001"] * 3,
                "user_hash": ["h1", "h2", "h3"],
            }
        ),
    )
    lake.append(
        "jaki_quarantine",
        pa.table(
            {
                "table_name": ["jaki_usage_events"] * 2,
                "value": ["raw-1", "raw-2"],
                "quarantined_at": pa.array([old, recent], TS),
            }
        ),
    )
    out = {(e["table"], e["action"]): e for e in apply_retention(lake, DEFAULT_RULES, now=NOW)}
    assert out[("jaki_usage_events", "clear_columns")]["rows"] == 2
    assert out[("jaki_quarantine", "delete_rows")]["rows"] == 1
    rows = lake.query("SELECT event_id, user_hash, feature FROM jaki_usage_events ORDER BY 1").to_pylist()
    assert rows == [
        {"event_id": "e1", "user_hash": None, "feature": "lapor"},  # the aggregate-worthy fields stay
        {"event_id": "e2", "user_hash": None, "feature": "lapor"},
        {"event_id": "e3", "user_hash": "h3", "feature": "lapor"},
    ]
    assert lake.query("SELECT value FROM jaki_quarantine").column(0).to_pylist() == ["raw-2"]
    again = apply_retention(lake, DEFAULT_RULES, now=NOW)  # idempotent: nothing left to remove
    assert all(e["rows"] == 0 for e in again)
    logged = lake.query("SELECT table_name, rows_affected, detail FROM upkeep_log ORDER BY table_name").to_pylist()
    assert [(r["table_name"], r["rows_affected"]) for r in logged] == [("jaki_quarantine", 1), ("jaki_usage_events", 2)]
    assert '"user_hash"' in logged[1]["detail"] and "purpose" in logged[1]["detail"]


def test_policy_from_mapping() -> None:
    p = policy_from_mapping(
        {
            "target_file_mb": 32,
            "snapshot_days": 14,
            "retention": {"jaki_usage_events": {"days": 60}, "jaki_quarantine": {"enabled": False}},
            "rules": [{"table": "jaki_complaints", "time_column": "created_at", "days": 10, "columns": ["channel"]}],
        }
    )
    assert p.target_file_mb == 32 and p.snapshot_days == 14
    by_table = {(r.table, r.columns): r for r in p.rules}
    assert by_table[("jaki_usage_events", ("user_hash",))].days == 60
    assert not any(r.table == "jaki_quarantine" for r in p.rules)
    assert by_table[("jaki_complaints", ("channel",))] == RetentionRule(
        "jaki_complaints", "created_at", 10, ("channel",)
    )


def test_pantau_compact_merges_to_the_target(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    data = tmp_path / "pantau-data"
    lk = Lake(LakeConfig(root=data))
    migrate(lk)
    lk.execute("CREATE TABLE batches (camera_id VARCHAR, captured_at TIMESTAMPTZ, v DOUBLE)")
    for i in range(4):
        lk.append("batches", _batch(i))
    lk.close()
    res = CliRunner().invoke(app, ["compact", "--table", "batches", "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    assert "batches: 4 -> 1 files" in res.output
