"""Capture workers follow the registry without restarts: two real `pantau capture --lease` processes; a camera
retired and one added through the registry reach the lease inventory within one lease period, the retired
camera stops being captured, the new one starts, and a camera with credentials is captured through its secret
reference. The same for two `pantau capture --shard i/n` processes (no leases): each applies the changes of its
shard at its next registry poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ingest.cameras.leases import LeaseConfig, LeaseManager, lease_table
from ingest.cameras.registry import Shard
from ingest.reference import loaders as L
from ingest.registry import ops
from simulate.scene import SimCamera
from simulate.servers import SimServer
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate

pytestmark = [pytest.mark.slow, pytest.mark.services]

ROOT = Path(__file__).resolve().parents[3]
TTL, HB = 8.0, 1.0
PASSWORD = "Follow-Pw-7c1d"


def _wait(cond: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return bool(cond())


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (the workers flush their last batch), then wait."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(30)


def _landed(store_dir: Path, extra: list[str] | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for p in sorted((store_dir / "landing" / "frames").rglob("*.parquet")):
        rows += pq.read_table(p, columns=["camera_id", "captured_at", "status", "reason", *(extra or [])]).to_pylist()
    return rows


def test_workers_follow_registry_changes_within_one_lease_period(pg_database: str, tmp_path: Path) -> None:
    data = tmp_path / "pantau-data"
    cams = [SimCamera(f"sim-{i}", seed=i, width=160, height=90, fps=5.0) for i in range(4)]
    with SimServer(cams) as sim, Lake(LakeConfig(root=data)) as lake:
        migrate(lake)
        lake.replace("kelurahan", L.load_kelurahan().table)
        secrets = data / "secrets" / "cameras.json"

        def row(i: int, **kw: Any) -> dict[str, Any]:
            return {"camera_id": f"cam-{i}", "lat": -6.20 - i * 0.01, "lon": 106.82, "stream_kind": "snapshot",
                    "stream_url": sim.url(f"sim-{i}", "snapshot"), **kw}  # fmt: skip

        with_pw = row(1, stream_url=sim.url("sim-1", "snapshot").replace("http://", f"http://op:{PASSWORD}@"))
        res = ops.import_cameras(lake, [row(0), with_pw, row(2)], actor="t", secrets_file=secrets)
        assert len(res.added) == 3
        setup = LeaseManager(LeaseConfig(dsn=pg_database, ttl_s=TTL, heartbeat_s=HB), "setup")
        setup.ensure_schema()
        setup.close()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PANTAU_DATA_DIR": str(data),
            "PANTAU_LOG_FORMAT": "text",
            "PANTAU_LOG_LEVEL": "INFO",
        }
        cmd = [sys.executable, "-m", "orchestration.cli", "capture", "--lease", "--lease-dsn", pg_database,
               "--lease-ttl", str(TTL), "--heartbeat", str(HB), "--interval", "0.5", "--flush-every", "1",
               "--duration", "60", "--no-public-keyframes"]  # fmt: skip
        logs = [tmp_path / f"w{i}.log" for i in range(2)]
        procs = [
            subprocess.Popen([*cmd, "--worker-id", f"w{i}"], cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
            for i, fh in enumerate(open(p, "w") for p in logs)  # noqa: SIM115
        ]
        try:

            def held() -> dict[str, str]:
                return {c: w for c, w, live, _ in lease_table(pg_database) if live and w}

            assert _wait(lambda: set(held()) == {"cam-0", "cam-1", "cam-2"}, 60), held()
            ops.retire_camera(lake, "cam-0", actor="ops", reason="pole down")
            ops.add_camera(lake, row(3), actor="ops")
            changed = time.monotonic()
            changed_at = datetime.now(UTC)
            assert _wait(lambda: set(held()) == {"cam-1", "cam-2", "cam-3"}, TTL), held()
            took = time.monotonic() - changed
            assert took <= TTL, took  # within one lease period
            time.sleep(4.0)  # let the new camera be sampled and flushed
            assert all(p.poll() is None for p in procs)  # the same processes: nothing restarted
        finally:
            _stop(procs)
    rows = _landed(data / "store")
    grace = HB + 5.0  # the in-flight sample of the retired camera may finish (read timeout) before it is dropped
    late_cam0 = [
        r for r in rows if r["camera_id"] == "cam-0" and (r["captured_at"] - changed_at).total_seconds() > grace
    ]
    assert late_cam0 == []
    assert any(r["camera_id"] == "cam-3" and r["status"] == "ok" for r in rows)
    assert any(r["camera_id"] == "cam-1" and r["status"] == "ok" for r in rows)  # credentials from the secret
    text = "".join(p.read_text() for p in logs) + repr(rows)
    assert "registry version" in text and PASSWORD not in text
    assert took <= TTL


def _id_in_shard(prefix: str, index: int, count: int) -> str:
    return next(f"{prefix}-{k}" for k in range(1000) if Shard(index, count).owns(f"{prefix}-{k}"))


def test_shard_workers_follow_registry_changes_without_restart(tmp_path: Path) -> None:
    """Two real `pantau capture --shard i/2` processes: a retired camera stops, a camera added to each shard is
    captured by that shard's worker, and a camera whose URL is corrected is reopened with the new URL."""
    data = tmp_path / "pantau-data"
    cams = [SimCamera(f"sim-{i}", seed=i, width=160, height=90, fps=5.0) for i in range(6)]
    with SimServer(cams) as sim, Lake(LakeConfig(root=data)) as lake:
        migrate(lake)
        lake.replace("kelurahan", L.load_kelurahan().table)

        def row(cid: str, sim_id: str, **kw: Any) -> dict[str, Any]:
            return {"camera_id": cid, "lat": -6.20 - len(cid) * 0.001, "lon": 106.82 + int(sim_id[-1]) * 0.002,
                    "stream_kind": "snapshot", "stream_url": sim.url(sim_id, "snapshot"), **kw}  # fmt: skip

        retired = _id_in_shard("old", 0, 2)
        fixed = _id_in_shard("fix", 1, 2)
        broken = sim.url("sim-2", "snapshot").replace("sim-2", "no-such-camera")
        first = [
            row(retired, "sim-0"),
            row(_id_in_shard("keep", 0, 2), "sim-1"),
            row(fixed, "sim-2", stream_url=broken),
        ]
        assert len(ops.import_cameras(lake, first, actor="t").added) == 3
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PANTAU_DATA_DIR": str(data), "PANTAU_LOG_FORMAT": "text",
               "PANTAU_LOG_LEVEL": "INFO", "PANTAU_SCORING": "passthrough"}  # fmt: skip
        cmd = [sys.executable, "-m", "orchestration.cli", "capture", "--interval", "0.5", "--flush-every", "1",
               "--duration", "90", "--no-public-keyframes", "--registry-poll", "1"]  # fmt: skip
        logs = [tmp_path / f"s{i}.log" for i in range(2)]
        procs = [
            subprocess.Popen([*cmd, "--shard", f"{i}/2"], cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
            for i, fh in enumerate(open(p, "w") for p in logs)  # noqa: SIM115
        ]
        added = {_id_in_shard("new", 0, 2): 0, _id_in_shard("new", 1, 2): 1}
        try:
            assert _wait(lambda: {retired, fixed} <= {r["camera_id"] for r in _landed(data / "store")}, 90)
            ops.retire_camera(lake, retired, actor="ops", reason="pole down")
            for k, cid in enumerate(added):
                ops.add_camera(lake, row(cid, f"sim-{3 + k}"), actor="ops")
            ops.edit_camera(lake, fixed, {"stream_url": sim.url("sim-2", "snapshot")}, actor="ops")
            changed_at = datetime.now(UTC)

            def followed() -> bool:
                ok = {r["camera_id"] for r in _landed(data / "store") if r["status"] == "ok"}
                return set(added) | {fixed} <= ok

            assert _wait(followed, 60), sorted({(r["camera_id"], r["status"]) for r in _landed(data / "store")})
            assert all(p.poll() is None for p in procs)  # the same processes: nothing restarted
        finally:
            _stop(procs)
    rows = _landed(data / "store", extra=["worker_id"])
    grace = 1.0 + 5.0  # one registry poll, plus an in-flight sample of the retired camera finishing
    assert [
        r for r in rows if r["camera_id"] == retired and (r["captured_at"] - changed_at).total_seconds() > grace
    ] == []
    for cid, shard in added.items():  # each new camera is captured by the worker of its own shard only
        assert {r["worker_id"].rsplit("-s", 1)[1] for r in rows if r["camera_id"] == cid} == {f"{shard}of2"}
    fixed_ok = [r for r in rows if r["camera_id"] == fixed and r["status"] == "ok"]
    assert fixed_ok and min(r["captured_at"] for r in fixed_ok) >= changed_at  # the old URL never worked
    text = "".join(p.read_text() for p in logs)
    assert "registry version" in text
