from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ingest.cameras.landing as landing
from ingest.cameras.landing import ingest_landed_batches
from ingest.cameras.worker import LANDING_PREFIX, LANDING_SCHEMA
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def row(
    cam: str,
    sec: float,
    status: str = "ok",
    *,
    fire: float = 0.0,
    persons: float = 1.0,
    motion: float = 0.0,
    transition_from: str | None = None,
    transition: bool = False,
    batch: str = "b",
) -> dict:
    scored = status in ("ok", "frozen", "tampered", "black", "overexposed")
    r = {
        "camera_id": cam,
        "captured_at": T0 + timedelta(seconds=sec),
        "batch_id": batch,
        "seq": int(sec * 1000),
        "status": status,
        "worker_id": "w1",
        "is_transition": transition,
        "transition_from": transition_from,
        "scored": scored,
        "reason": None if status == "ok" else "x",
    }
    if scored:
        r.update(
            width=320,
            height=180,
            fire=fire,
            smoke=0.0,
            flood=0.0,
            persons=persons,
            motion=motion,
            health=status,
            model_version="t-1",
        )
    return r


def put_batch(store, name: str, rows: list[dict]) -> str:
    for r in rows:
        r["batch_id"] = name
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=LANDING_SCHEMA), sink)
    key = f"{LANDING_PREFIX}dt=2026-11-27/w1-{name}.parquet"
    store.put_bytes(key, sink.getvalue())
    return key


def counts(lake) -> dict[str, int]:
    return {t: int(lake.scalar(f"SELECT count(*) FROM {t}")) for t in TABLES}


def seed(store) -> None:
    put_batch(
        store,
        "b1",
        [
            row("a", 0, transition=True),
            row("a", 10, motion=0.1),
            row("a", 20, "offline", transition=True, transition_from="ok"),
            row("b", 5, fire=0.9, persons=4, transition=True),
            row("b", 15, fire=0.7, persons=2),
        ],
    )
    put_batch(
        store,
        "b2",
        [
            row("a", 30, "offline"),
            row("a", 40, transition=True, transition_from="offline", motion=0.05),
            row("a", 400, persons=7),  # next 5-minute window
        ],
    )


TABLES = ("frames", "frame_scores", "camera_events", "camera_health_transitions", "landed_batches")


@pytest.fixture(scope="module")
def module_lake(tmp_path_factory):
    """One migrated lake for the module (migrating is the slow part); tables emptied before each test."""
    lk = Lake(LakeConfig(root=tmp_path_factory.mktemp("lake")))
    migrate(lk)
    yield lk
    lk.close()


@pytest.fixture
def lake(module_lake):
    module_lake.write(lambda cur: [cur.execute(f"DELETE FROM {t}") for t in TABLES])
    return module_lake


EXPECTED = {"frames": 8, "frame_scores": 6, "camera_events": 3, "camera_health_transitions": 4, "landed_batches": 2}


def test_ingest_twice_each_row_once(lake, local_store) -> None:
    seed(local_store)
    first = ingest_landed_batches(lake, local_store)
    assert (first.files_ingested, first.frames, first.scores, first.transitions) == (2, 8, 6, 4)
    assert counts(lake) == EXPECTED
    second = ingest_landed_batches(lake, local_store)
    assert second.files_ingested == 0 and second.files_seen == 0
    assert counts(lake) == EXPECTED


def test_camera_events_windows(lake, local_store) -> None:
    seed(local_store)
    ingest_landed_batches(lake, local_store)
    ev = {
        (r["camera_id"], r["window_start"]): r
        for r in lake.query("SELECT * FROM camera_events ORDER BY camera_id, window_start").to_pylist()
    }
    a0 = ev[("a", T0)]  # built from two batches: recomputed, not overwritten
    assert (a0["frames_ok"], a0["frames_failed"], a0["frames_offline"]) == (3, 2, 2)
    assert a0["uptime"] == pytest.approx(0.6)
    assert a0["motion_events"] == 2
    assert a0["window_end"] == T0 + timedelta(minutes=5)
    b0 = ev[("b", T0)]
    assert (b0["fire_frames"], b0["persons_max"], b0["persons_mean"]) == (2, 4.0, 3.0)
    assert ev[("a", T0 + timedelta(minutes=5))]["persons_max"] == 7.0


def test_late_batch_updates_its_window(lake, local_store) -> None:
    seed(local_store)
    ingest_landed_batches(lake, local_store)
    put_batch(local_store, "b3", [row("a", 50, "frozen"), row("a", 60, "frozen")])
    stats = ingest_landed_batches(lake, local_store)
    assert stats.files_ingested == 1 and stats.windows == 1
    r = lake.query("SELECT * FROM camera_events WHERE camera_id = 'a' AND window_start = ?", [T0]).to_pylist()
    assert len(r) == 1
    assert (r[0]["frames_ok"], r[0]["frames_failed"], r[0]["frames_frozen"]) == (3, 4, 2)


def test_crash_midway_then_rerun_lands_once(lake, local_store, monkeypatch) -> None:
    seed(local_store)
    # the ledger insert fails after the table inserts ran inside the transaction
    monkeypatch.setattr(landing, "INSERT_LEDGER", "INSERT INTO no_such_ledger SELECT * FROM _ledger")
    with pytest.raises(Exception, match="no_such_ledger"):
        ingest_landed_batches(lake, local_store)
    assert counts(lake) == dict.fromkeys(EXPECTED, 0)
    monkeypatch.undo()
    ingest_landed_batches(lake, local_store)
    ingest_landed_batches(lake, local_store)
    assert counts(lake) == EXPECTED


def test_transitions_and_ledger_content(lake, local_store) -> None:
    seed(local_store)
    ingest_landed_batches(lake, local_store)
    tr = lake.query(
        'SELECT camera_id, "at", from_status, to_status FROM camera_health_transitions ORDER BY camera_id, "at"'
    ).to_pylist()
    assert [(t["camera_id"], t["from_status"], t["to_status"]) for t in tr] == [
        ("a", None, "ok"),
        ("a", "ok", "offline"),
        ("a", "offline", "ok"),
        ("b", None, "ok"),
    ]
    led = lake.query("SELECT batch_id, camera_count, rows FROM landed_batches ORDER BY batch_id").to_pylist()
    assert led == [{"batch_id": "b1", "camera_count": 2, "rows": 5}, {"batch_id": "b2", "camera_count": 1, "rows": 3}]


def test_unreadable_file_is_reported_not_ledgered(lake, local_store) -> None:
    seed(local_store)
    bad = f"{LANDING_PREFIX}dt=2026-11-27/w1-bad.parquet"
    local_store.put_bytes(bad, b"not parquet")
    stats = ingest_landed_batches(lake, local_store)
    assert stats.bad_files == [bad]
    assert counts(lake) == EXPECTED
    assert ingest_landed_batches(lake, local_store).bad_files == [bad]  # retried, still reported


def test_small_groups_same_result(lake, local_store) -> None:
    seed(local_store)
    stats = ingest_landed_batches(lake, local_store, files_per_transaction=1)
    assert stats.files_ingested == 2
    assert counts(lake) == EXPECTED
