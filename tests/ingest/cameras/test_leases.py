"""Camera leases on the machine's PostgreSQL: fair split, no double claim, no gap, bounded takeover."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from ingest.cameras.leases import LeaseConfig, LeaseManager, lease_table

ROOT = Path(__file__).resolve().parents[3]
PROC = Path(__file__).with_name("lease_proc.py")
TTL, HB, SAFETY = 2.0, 0.5, 0.5
CAMERAS = [f"cam-{i:04d}" for i in range(200)]


@pytest.mark.parametrize(
    ("ttl", "hb", "safety"),
    [(2.0, 2.0, 0.0), (2.0, 3.0, 0.0), (2.0, 0.5, 1.6), (2.0, 0.0, 0.0)],
)
def test_config_rejects_leases_that_cannot_outlive_a_heartbeat(ttl: float, hb: float, safety: float) -> None:
    with pytest.raises(ValueError):
        LeaseConfig(dsn="", ttl_s=ttl, heartbeat_s=hb, safety_s=safety)


def _intervals(logs: list[Path]) -> dict[str, list[tuple[float, float, str]]]:
    """camera -> [(from, until, worker)] ownership intervals, truncated at each release."""
    per: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
    releases: list[dict] = []
    for p in logs:
        for line in p.read_text().splitlines():
            rec = json.loads(line)
            if "released" in rec:
                releases.append(rec)
            else:
                for c in rec["owned"]:
                    per[(c, rec["w"])].append([rec["at"], rec["until"]])
    for rel in releases:
        cams = {c for (c, w) in per if w == rel["w"]} if rel["released"] == "all" else set(rel["released"])
        for c in cams:
            for iv in per.get((c, rel["w"]), []):
                if iv[0] <= rel["at"]:
                    iv[1] = min(iv[1], rel["at"])
    out: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for (c, w), ivs in per.items():
        out[c] += [(a, b, w) for a, b in ivs]
    return out


def _wait(cond, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


@pytest.mark.services
@pytest.mark.slow
def test_workers_split_inventory_and_take_over_a_dead_worker(pg_database: str, tmp_path: Path) -> None:
    setup = LeaseManager(LeaseConfig(dsn=pg_database, ttl_s=TTL, heartbeat_s=HB, safety_s=SAFETY), "setup")
    setup.ensure_schema()
    setup.sync_inventory(CAMERAS)
    setup.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [f"w{i}" for i in range(4)]
    logs = {w: tmp_path / f"{w}.jsonl" for w in workers}
    procs = {
        w: subprocess.Popen(
            [sys.executable, str(PROC), pg_database, w, str(logs[w]), str(TTL), str(HB), str(SAFETY)],
            cwd=ROOT,
            env=env,
        )
        for w in workers
    }
    try:

        def balanced() -> bool:
            rows = lease_table(pg_database)
            counts: dict[str, int] = defaultdict(int)
            for _, w, live, _ in rows:
                if live and w:
                    counts[w] += 1
            return sum(counts.values()) == len(CAMERAS) and len(counts) == 4 and max(counts.values()) <= 50

        assert _wait(balanced, 30), lease_table(pg_database)
        rows = lease_table(pg_database)
        assert sorted(r[0] for r in rows) == CAMERAS  # every camera exactly once (primary key), all held
        victim = "w1"
        victim_cams = {c for c, w, live, _ in rows if w == victim}
        assert len(victim_cams) == 50
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait(5)
        killed_at = time.time()

        def taken_over() -> bool:
            now = lease_table(pg_database)
            held = {c: w for c, w, live, _ in now if live and w}
            return len(held) == len(CAMERAS) and victim not in held.values()

        assert _wait(taken_over, TTL + HB + 15)
        time.sleep(2 * HB)  # a few more heartbeats to look for late double claims
    finally:
        for _w, p in procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            p.wait(10)
    final = lease_table(pg_database)
    assert all(w is None for _, w, _, _ in final)  # SIGTERM released every lease

    intervals = _intervals(list(logs.values()))
    assert set(intervals) == set(CAMERAS)
    for cam, ivs in intervals.items():  # no double capture: owners never overlap in time
        ivs.sort()
        for (_a1, b1, w1), (a2, _b2, w2) in itertools.pairwise(ivs):
            if w1 != w2:
                assert b1 <= a2, f"{cam}: {w1} until {b1} overlaps {w2} from {a2}"
    for cam in victim_cams:  # bounded takeover: another worker owns it within TTL + one heartbeat (+ slack)
        after = [a for a, _, w in intervals[cam] if w != victim and a >= killed_at - TTL]
        assert after, cam
        victim_until = max(b for _, b, w in intervals[cam] if w == victim)
        first = min(a for a in after if a >= victim_until)
        assert first - killed_at <= TTL + HB + 3.0, (cam, first - killed_at)


@pytest.mark.services
def test_surplus_is_given_back_when_a_worker_joins(pg_database: str) -> None:
    cfg = LeaseConfig(dsn=pg_database, ttl_s=5.0, heartbeat_s=1.0, safety_s=1.0)
    a, b = LeaseManager(cfg, "a"), LeaseManager(cfg, "b")
    try:
        a.ensure_schema()
        a.sync_inventory(CAMERAS[:10])
        first = a.heartbeat()
        assert len(first.owned) == 10 and first.target == 10
        joined = b.heartbeat()  # b is live but every camera is held: it gets nothing yet
        assert joined.owned == frozenset() and joined.target == 5
        st = a.heartbeat()
        extra = a.surplus(st)
        assert len(extra) == 5
        a.release(extra)
        got = b.heartbeat()
        assert got.owned == frozenset(extra)
        assert a.owned().isdisjoint(b.owned()) and len(a.owned() | b.owned()) == 10
        a.sync_inventory(CAMERAS[:8])  # two cameras leave the inventory: nobody renews them
        assert len(a.heartbeat().owned | b.heartbeat().owned) == 8
    finally:
        a.release_all()
        b.release_all()
        a.close()
        b.close()


@pytest.mark.services
def test_heartbeat_against_a_dead_database_lets_leases_run_out(pg_database: str) -> None:
    cfg = LeaseConfig(dsn=pg_database, ttl_s=1.0, heartbeat_s=0.4, safety_s=0.2)
    good = LeaseManager(cfg, "good")
    good.ensure_schema()
    good.sync_inventory(CAMERAS[:3])
    assert len(good.heartbeat().owned) == 3
    good.close()
    good.cfg = LeaseConfig(dsn="host=127.0.0.1 port=1 dbname=x user=postgres", ttl_s=1.0, heartbeat_s=0.4, safety_s=0.2)
    state = good.heartbeat()
    assert good.errors == 1
    assert state.claimed == frozenset()
    time.sleep(0.9)
    assert good.owned() == frozenset()  # stopped capturing before PostgreSQL lets anyone else claim


@pytest.mark.services
@pytest.mark.slow
def test_leased_capture_workers_share_simulated_cameras(pg_database: str, lake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import threading

    from ingest.cameras.landing import ingest_landed_batches
    from ingest.cameras.leases import run_leased_capture
    from ingest.cameras.metrics import CaptureMetrics
    from ingest.cameras.passthrough import PassthroughAnalyzer
    from ingest.cameras.registry import CameraSpec
    from ingest.cameras.worker import WorkerConfig
    from simulate.serve import camera_rows, start_demo_server
    from warehouse.object_store import LocalObjectStore

    srv, specs = start_demo_server(8, seed=1, hls_cameras=0, width=160, height=90)
    cams = [CameraSpec(r["camera_id"], r["stream_url"], r["stream_kind"]) for r in camera_rows(srv, specs)]
    store = LocalObjectStore(tmp_path / "store")
    lease = LeaseConfig(dsn=pg_database, ttl_s=3.0, heartbeat_s=0.5, safety_s=1.5)
    cfg = WorkerConfig(connect_timeout_s=1.0, read_timeout_s=1.0)
    out: dict[str, object] = {}
    metrics = {w: CaptureMetrics(worker_id=w) for w in ("A", "B")}

    def work(wid: str, delay: float, runtime: float) -> None:
        time.sleep(delay)
        out[wid] = run_leased_capture(
            cams, store, lease, interval_s=1.0, flush_every_s=1.0, max_runtime_s=runtime, worker_id=wid,
            analyzer_factory=PassthroughAnalyzer, config=cfg, blur=None, metrics=metrics[wid],
        )  # fmt: skip

    threads = [threading.Thread(target=work, args=("A", 0.0, 7.0)), threading.Thread(target=work, args=("B", 2.0, 5.0))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        srv.stop()
    assert out["A"].released >= 3 and out["B"].claimed >= 3  # type: ignore[attr-defined]  # B got a fair share
    assert metrics["A"].landed_rows._value.get() > 0
    ingest_landed_batches(lake, store)
    rows = lake.query("SELECT camera_id, worker_id, epoch(captured_at) AS t FROM frames ORDER BY t").to_pylist()
    assert {r["camera_id"] for r in rows} == {c.camera_id for c in cams}  # no camera left out
    assert {r["worker_id"] for r in rows} == {"A", "B"}
    by_cam: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for r in rows:
        by_cam[r["camera_id"]].append((r["t"], r["worker_id"]))
    for cam, seq in by_cam.items():  # owners never interleave: each hand-over happens once, cleanly
        owners = [w for _, w in seq]
        switches = sum(1 for a, b in itertools.pairwise(owners) if a != b)
        assert switches <= 2, (cam, owners)
    assert lease_table(pg_database) and all(w is None for _, w, _, _ in lease_table(pg_database))


def test_a_leased_worker_serves_priority_requests_for_the_cameras_it_holds(
    pg_database: str,
    lake,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """``pantau capture --lease`` (the production workers) serves panic requests too: marked served, sampled faster."""
    from datetime import UTC, datetime

    from ingest.cameras.leases import run_leased_capture
    from ingest.cameras.passthrough import PassthroughAnalyzer
    from ingest.cameras.priority import LakePriorityRequests
    from ingest.cameras.registry import CameraSpec
    from ingest.cameras.worker import LANDING_PREFIX, WorkerConfig
    from orchestration.demo import demo_panic_request
    from simulate.serve import camera_rows, start_demo_server
    from warehouse.migrations import migrate
    from warehouse.object_store import LocalObjectStore

    migrate(lake)
    srv, specs = start_demo_server(8, seed=2, hls_cameras=0, width=160, height=90)
    rows = camera_rows(srv, specs)
    cams = [CameraSpec(r["camera_id"], r["stream_url"], r["stream_kind"]) for r in rows]
    target = next(sp.camera_id for sp in specs if sp.role == "normal")
    lake.append("camera_priority_requests", demo_panic_request(target, rows))
    store = LocalObjectStore(tmp_path / "store")
    lease = LeaseConfig(dsn=pg_database, ttl_s=3.0, heartbeat_s=0.5, safety_s=1.5)
    cfg = WorkerConfig(connect_timeout_s=1.0, read_timeout_s=1.0, priority_poll_s=0.5, priority_interval_s=0.25)
    try:
        run_leased_capture(
            cams, store, lease, interval_s=2.0, flush_every_s=1.0, max_runtime_s=6.0, worker_id="L",
            analyzer_factory=PassthroughAnalyzer, config=cfg, blur=None, priority=LakePriorityRequests(lake),
        )  # fmt: skip
    finally:
        srv.stop()
    import io

    import pyarrow.parquet as pq

    n: dict[str, int] = defaultdict(int)
    for o in store.list(LANDING_PREFIX):
        for r in pq.read_table(io.BytesIO(store.get_bytes(o.key))).column("camera_id").to_pylist():
            n[r] += 1
    others = [n[c.camera_id] for c in cams if c.camera_id != target]
    assert n[target] >= 2 * max(others), dict(n)
    (req,) = lake.query("SELECT status, served_by, served_at FROM camera_priority_requests").to_pylist()
    assert req["status"] == "served" and req["served_by"] == "L" and req["served_at"] <= datetime.now(UTC)
