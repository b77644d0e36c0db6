from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from alerts.cap import validate_cap
from alerts.db import OpsDB
from alerts.subscriptions import SubscriptionSpec, add_subscription
from assets.alerts import alert_delivery_retry_sensor, alert_history, defs, urgent_alert_sensor
from orchestration.resources import AlertsOpsResource, LakeResource, ObjectStoreResource
from warehouse.lake import MIGRATIONS_DIR, Lake, LakeConfig
from warehouse.migrations import migrate

T0 = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("alerts-assets")
    mig = root / "migrations"
    mig.mkdir()
    for f in MIGRATIONS_DIR.glob("*.sql"):
        if f.name.startswith(("0001_", "01", "02", "04", "0821_")):
            shutil.copy(f, mig / f.name)
    data = root / "pantau-data"
    lake = Lake(LakeConfig(root=data))
    migrate(lake, mig)
    lake.append(
        "kelurahan",
        pa.Table.from_pylist(
            [
                {
                    "kode_kelurahan": "31.71.01.1001",
                    "nama_kelurahan": "Gambir",
                    "kode_kecamatan": "31.71.01",
                    "kode_kota": "31.71",
                    "geometry": None,
                }
            ]
        ),
    )
    lake.append(
        "cameras",
        pa.Table.from_pylist(
            [
                {
                    "camera_id": "cam-1",
                    "name": "CCTV Monas",
                    "lat": -6.1754,
                    "lon": 106.8272,
                    "kelurahan_code": "31.71.01.1001",
                    "kelurahan": "Gambir",
                }
            ]
        ),
    )
    lake.close()
    return data


def _resources(data_dir: Path) -> dict:
    return {
        "lake": LakeResource(data_dir=str(data_dir)),
        "store": ObjectStoreResource(root=str(data_dir / "store")),
        "ops_db": AlertsOpsResource(data_dir=str(data_dir)),
    }


_TRACKERS: dict = {}


def _land(data_dir: Path, values: list[float], start: datetime) -> None:
    """Land fire scores with the levels the real level engine gives them (its state carries over, as in a worker)."""
    from analytics.risk import assign_levels

    lake = Lake(LakeConfig(root=data_dir))
    rows = [
        {"camera_id": "cam-1", "captured_at": start + timedelta(seconds=5 * i), "fire": v, "smoke": 0.0, "health": "ok"}
        for i, v in enumerate(values)
    ]
    lake.append("frame_scores", pa.Table.from_pylist(assign_levels(rows, trackers=_TRACKERS)))
    lake.close()


def test_defs_load_and_sensor_interval() -> None:
    assert (
        urgent_alert_sensor.minimum_interval_seconds is not None and urgent_alert_sensor.minimum_interval_seconds <= 15
    )
    names = {s.name for s in defs.sensors}
    assert names == {"urgent_alert_sensor", "alert_delivery_retry_sensor"}


def test_sensor_raises_and_delivers_then_history_exports(data_dir: Path) -> None:
    ops = OpsDB(AlertsOpsResource(data_dir=str(data_dir)).url())
    add_subscription(
        ops,
        SubscriptionSpec(
            name="Gulkarmat",
            kind="agency",
            hazard="fire",
            channel="outbox",
            target=str(data_dir / "outbox" / "gulkarmat"),
        ),
    )
    ops.dispose()
    resources = _resources(data_dir)

    _land(data_dir, [0.9, 0.0, 0.9, 0.0], T0)  # flicker: nothing
    ctx = dg.build_sensor_context(resources=resources)
    result = urgent_alert_sensor(ctx)
    assert "0 transitions" in str(result.skip_message)
    cursor = ctx.cursor
    assert cursor is not None and datetime.fromisoformat(cursor) == T0 + timedelta(seconds=15)

    _land(data_dir, [0.9] * 4, T0 + timedelta(seconds=30))
    ctx2 = dg.build_sensor_context(resources=resources, cursor=cursor)
    result = urgent_alert_sensor(ctx2)
    assert "1 transitions, 0 panic, 0 escalated, 1 sent" in str(result.skip_message)
    files = sorted((data_dir / "outbox" / "gulkarmat").glob("*.cap.xml"))
    assert len(files) == 1
    validate_cap(files[0].read_bytes())

    # the retry sensor finds nothing to do
    retry = alert_delivery_retry_sensor(dg.build_sensor_context(resources=resources))
    assert "sent 0" in str(retry.skip_message)

    res = dg.materialize([alert_history], resources=resources)
    assert res.success
    md = res.asset_materializations_for_node("alert_history")[0].metadata
    assert md["alert_rows"].value == 1 and md["active_alerts"].value == 1
    lake = Lake(LakeConfig(root=data_dir), read_only=True)
    row = lake.query("SELECT hazard, level, status, evidence FROM alerts").to_pylist()[0]
    lake.close()
    assert (row["hazard"], row["status"]) == ("fire", "open") and json.loads(row["evidence"])["score"] == pytest.approx(
        0.9
    )
    assert (data_dir / "store" / "public" / "alerts" / "feed.atom").exists()


def test_sensor_skips_without_a_lake(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    ctx = dg.build_sensor_context(
        resources={"lake": LakeResource(data_dir=str(empty)), "ops_db": AlertsOpsResource(data_dir=str(empty))}
    )
    assert "no lake yet" in str(urgent_alert_sensor(ctx).skip_message)
