"""``pantau demo`` end to end, as a newcomer runs it: a fresh data folder, the whole pipeline, then checks.

The demo is the product's main job on the embedded default (simulated Jakarta cameras over real
stream protocols on loopback, capture and scoring, Jaki, marts, alerts, planning, an open-data
release); this test runs the real command in a subprocess and checks what it left behind.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulate.scenario import demo_scenario
from warehouse.lake import Lake, LakeConfig

pytestmark = pytest.mark.slow  # ~2 minutes: the whole demo

REPO = Path(__file__).resolve().parents[2]
SECONDS = 60  # the demo's default capture time (the scripted incidents are timed for it)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pantau demo`` as the README runs it: in a folder, no options, so it builds ``./pantau-data``."""
    cwd = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PANTAU_", "DAGSTER_HOME"))}
    env["PYTHONPATH"] = str(REPO)  # the package is installed editable in the dev venv; this keeps it importable
    cmd = [sys.executable, "-m", "orchestration.cli", "demo", "--seconds", str(SECONDS)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=cwd)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    assert "Demo finished in" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr
    (cwd / "demo.out").write_text(res.stdout)
    return cwd / "pantau-data"  # absolute from here on, as the dashboard server resolves it


@pytest.fixture(scope="module")
def lake(demo_dir: Path) -> Iterator[Lake]:
    lk = Lake(LakeConfig(root=demo_dir), read_only=True)
    yield lk
    lk.close()


def _rows(lake: Lake, sql: str) -> list[dict]:  # type: ignore[type-arg]
    return lake.query(sql).to_pylist()


def test_reference_data_and_cameras_landed(lake: Lake) -> None:
    assert lake.scalar("SELECT count(*) FROM cameras WHERE status = 'installed'") == 1289
    assert lake.scalar("SELECT count(*) FROM cameras WHERE status = 'planned'") == 5  # accepted plan sites
    assert lake.scalar("SELECT count(*) FROM kelurahan") >= 267
    scored = lake.scalar("SELECT count(DISTINCT camera_id) FROM frame_scores")
    assert scored >= 20, scored  # 24 simulated cameras; a dead one may land nothing
    # vehicle counts beside person counts: per frame, per 5-minute window, per camera-hour
    assert lake.scalar("SELECT count(*) FROM frame_scores WHERE health = 'ok' AND vehicles IS NULL") == 0
    assert lake.scalar("SELECT count(*) FROM camera_events WHERE vehicles_mean IS NOT NULL") > 0
    assert lake.scalar("SELECT count(*) FROM risk_hourly_camera WHERE vehicles_mean IS NOT NULL") > 0


def test_the_accepted_plan_is_audited_and_the_log_verifies(lake: Lake, demo_dir: Path) -> None:
    """The demo changes the registry outside the CLI; each planned camera still has its audit row."""
    from access.audit import query_audit, verify_audit_chain
    from alerts.db import OpsDB, sqlite_url

    planned = {r["camera_id"] for r in _rows(lake, "SELECT camera_id FROM cameras WHERE status = 'planned'")}
    ops = OpsDB(sqlite_url(str(demo_dir)), create=False)
    try:
        rows = query_audit(ops, action="camera.plan")
        assert {r["target_id"] for r in rows} == planned
        assert {(r["actor"], r["role"]) for r in rows} == {("demo-planner", "system")}
        assert verify_audit_chain(ops) >= len(planned)
    finally:
        ops.dispose()


def test_scripted_incidents_alert_and_normal_cameras_stay_quiet(lake: Lake) -> None:
    roles = {s.camera_id: s.role for s in demo_scenario(24, seed=0, duration_s=SECONDS, hls_cameras=2)}
    raised: dict[str, set[str]] = {}
    # panic alerts are citizens' reports placed at the nearest camera, not something the camera saw
    for r in _rows(
        lake, "SELECT DISTINCT camera_id, hazard FROM alerts WHERE camera_id IS NOT NULL AND hazard <> 'panic'"
    ):
        raised.setdefault(r["camera_id"], set()).add(r["hazard"])
    for cam, role in roles.items():
        if role in ("fire", "flood", "crowd"):
            assert role in raised.get(cam, set()), (cam, role, raised.get(cam))
        elif role.startswith("fault:"):
            assert "camera" in raised.get(cam, set()), (cam, role, raised.get(cam))
        else:
            assert not raised.get(cam), (cam, role, raised[cam])


def test_every_camera_hour_shows_one_level(lake: Lake, demo_dir: Path) -> None:
    """Scoring (frame_scores), marts, alert log and the open-data release agree on every camera-hour's level."""
    import pyarrow.parquet as pq

    from alerts.agreement import check_level_agreement
    from alerts.db import OpsDB, sqlite_url

    ops = OpsDB(sqlite_url(str(demo_dir)), create=False)
    try:
        res = check_level_agreement(lake, ops)
    finally:
        ops.dispose()
    assert res.ok, res.disagreements[:20]
    assert res.camera_hours >= 20
    mart = {(r["hour"], r["camera_id"]): r for r in _rows(lake, "SELECT * FROM risk_hourly_camera")}
    files = [
        f
        for f in (demo_dir / "store").rglob("*.parquet")
        if "risk_hourly_camera" in f.as_posix() and f.name != "counts.parquet"
    ]
    assert files, "the release has no risk_hourly_camera Parquet"
    pub = [r for f in files for r in pq.read_table(f).to_pylist() if r["risk_level_max"] is not None]
    assert pub
    for r in pub:
        m = mart[(r["hour"], r["camera_id"])]
        for col in ("risk_level_max", "fire_level_max", "smoke_level_max", "flood_level_max", "crowd_level_max"):
            assert r[col] == m[col], (r["camera_id"], r["hour"], col)


def test_the_demo_panic_press_is_served_and_sampled_faster(lake: Lake) -> None:
    (req,) = _rows(lake, "SELECT * FROM camera_priority_requests WHERE panic_id = 'demo-panic-1'")
    assert req["status"] == "served" and req["served_at"] is not None and req["served_by"]
    frames = {r["camera_id"]: r["n"] for r in _rows(lake, "SELECT camera_id, count(*) AS n FROM frames GROUP BY 1")}
    others = sorted(n for c, n in frames.items() if c != req["camera_id"])
    assert frames[req["camera_id"]] > 2 * others[len(others) // 2], (req["camera_id"], frames)
    # the press opened an alert for the police and Satpol PP at that camera
    hazards = set(lake.query("SELECT hazard FROM alerts WHERE camera_id = ?", [req["camera_id"]]).column(0).to_pylist())
    assert "panic" in hazards


def test_jaki_day_ingested_with_exact_accounting(lake: Lake) -> None:
    files = _rows(lake, "SELECT * FROM jaki_ingested_files")
    assert len(files) == 7 and all(f["status"] == "loaded" for f in files)
    for f in files:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"], f
    assert sum(f["rows_quarantined"] for f in files) > 0  # the demo injects malformed rows
    assert lake.scalar("SELECT count(*) FROM jaki_quarantine") > 0
    assert lake.scalar("SELECT count(*) FROM jaki_daily_usage") > 0


def test_asset_checks_of_the_dagster_runs_are_recorded(lake: Lake) -> None:
    by_asset = {
        r["asset_key"]: (r["n"], r["failed"])
        for r in _rows(
            lake,
            "SELECT asset_key, count(*) AS n, count(*) FILTER (WHERE NOT passed) AS failed "
            "FROM asset_check_results GROUP BY 1",
        )
    }
    assert all(failed == 0 for _, failed in by_asset.values()), by_asset
    jaki = [k for k in by_asset if k.startswith("jaki_")]
    assert len(jaki) == 7, by_asset  # one contract per Jaki feature table, run by the jaki_ingest job
    assert sum(by_asset[k][0] for k in jaki) >= 70
    # the risk marts' checks (risk jobs, one run per hour/day captured) and the release's
    assert {"risk_hourly_camera", "camera_uptime_daily", "open_data_release"} <= set(by_asset)


def test_open_data_release_published(lake: Lake, demo_dir: Path) -> None:
    rel = _rows(lake, "SELECT * FROM releases")
    assert len(rel) == 1
    packages = list((demo_dir / "store").rglob("datapackage.json"))
    assert packages, "no datapackage.json in the published release"
    pkg = json.loads(packages[0].read_text())
    assert pkg["resources"]


def test_release_has_a_thumbnail_per_camera_with_a_blurred_keyframe(lake: Lake, demo_dir: Path) -> None:
    """Frames carry store keys, so the release copies each camera's latest blurred keyframe."""
    blurred = {
        r["camera_id"] for r in _rows(lake, "SELECT DISTINCT camera_id FROM frames WHERE public_uri IS NOT NULL")
    }
    assert blurred, "the demo produced no blurred keyframe"
    uris = [r["public_uri"] for r in _rows(lake, "SELECT public_uri FROM frames WHERE public_uri IS NOT NULL")]
    assert all(u.startswith("public/keyframes/") for u in uris)
    inventory = next((demo_dir / "store" / "releases").glob("*/data/camera_inventory.csv"))
    with open(inventory, newline="", encoding="utf-8") as fh:
        thumbs = {r["camera_id"]: r["thumbnail"] for r in csv.DictReader(fh) if r.get("thumbnail")}
    assert set(thumbs) == blurred
    for cam, path in thumbs.items():
        assert (inventory.parent.parent / path).read_bytes()[:2] == b"\xff\xd8", cam


def test_dashboards_show_the_demo(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed in with the analyst account the demo printed, through the sidebar form."""
    import re

    from streamlit.testing.v1 import AppTest

    from dashboards.auth import LOGIN_PASSWORD, LOGIN_USER, PRINCIPAL
    from dashboards.i18n import translate

    printed = dict(re.findall(r"Sign in as\s+:\s+(\w+)\s+password (\S+)", (demo_dir.parent / "demo.out").read_text()))
    assert set(printed) == {"admin", "operator", "analyst"}
    monkeypatch.setenv("PANTAU_DATA_DIR", str(demo_dir))
    app = REPO / "dashboards" / "app.py"
    for page in ("views/overview.py", "views/alerts.py", "views/quality.py", "views/jaki.py"):
        at = AppTest.from_file(str(app), default_timeout=120).run()
        at.text_input(key=LOGIN_USER).input("analyst")
        at.text_input(key=LOGIN_PASSWORD).input(printed["analyst"])
        next(b for b in at.button if b.label == translate("login")).click().run()
        assert at.session_state[PRINCIPAL] == ("analyst", "local")
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        if page == "views/overview.py":
            assert {m.label: m.value for m in at.metric}[translate("m_cameras")] == "1.289"
