"""Jaki assets materialised with the platform's resources: metadata accounting, blocking GE checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets import jaki as A
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource
from simulate.jaki import JakiSimConfig, to_export_bytes, write_day_to_store
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore

DAY = date(2026, 11, 23)


def _resources(tmp_path: Path) -> dict[str, object]:
    return {
        "lake": LakeResource(data_dir=str(tmp_path / "pantau-data")),
        "store": ObjectStoreResource(root=str(tmp_path / "store")),
        "settings": SettingsResource(data_dir=str(tmp_path / "pantau-data")),
    }


@pytest.mark.slow
def test_jaki_assets_and_checks_materialize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_SALT", "asset-test-salt-1")
    lake = Lake(LakeConfig(root=tmp_path / "pantau-data"))
    migrate(lake)
    store = LocalObjectStore(tmp_path / "store")
    sim = JakiSimConfig(
        day=DAY,
        usage_events=3000,
        complaints=200,
        health_requests=50,
        fast_cash=50,
        panic_presses=40,
        hospital_every_min=720,
        parking_every_min=360,
    )
    landed = write_day_to_store(store, sim, malformed_share=0.01)
    # a schema-drifted file lands too: rejected with its reason, the rest still loads
    bad = to_export_bytes(pl.DataFrame({"event_id": ["x"], "odd": ["y"]}), "csv")
    bad_key = "landing/jaki/usage_events/dt=2026-11-23/drift.csv"
    store.put_bytes(bad_key, bad)
    lake.close()

    # the landing sensor sees the new exports (the drifted file too) and asks for one run
    with dg.build_sensor_context(resources=_resources(tmp_path)) as ctx:
        asked = A.jaki_landing_sensor(ctx)
    assert isinstance(asked, dg.SensorResult) and len(asked.run_requests or []) == 1
    assert asked.run_requests[0].run_key == max([k for k, _, _ in landed.values()] + [bad_key])  # type: ignore[index]

    selection = [*A.table_assets, *A.mart_assets, A.camera_priority_requests]
    result = dg.materialize(
        [*selection, *A.table_checks],
        resources=_resources(tmp_path),
        run_config={"ops": {m.key.path[-1]: {"config": {"start_day": str(DAY)}} for m in A.mart_assets}},
    )
    assert result.success
    mats = {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}  # type: ignore[union-attr]
    usage = mats["jaki_usage_events"]
    assert usage["files_loaded"].value == 1 and usage["files_rejected"].value == 1
    read, acc, q = (usage[k].value for k in ("rows_read", "rows_accepted", "rows_quarantined"))
    assert read == 3000 and read == acc + q and q == landed["usage_events"][1].count()
    assert usage["accounting_balanced"].value is True
    assert mats["jaki_daily_usage"]["rows"].value > 0
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 40 and all(c.passed for c in checks)
    assert {c.check_name for c in checks if c.asset_key.path[-1] == "jaki_usage_events"} >= {
        "row_accounting",
        "ge_hashed__user_hash",
        "ge_unique__event_id",
        "ge_known_kelurahan__kelurahan_code",
    }
    # every file is in the load log now (loaded or rejected): the sensor has nothing more to ask for
    with dg.build_sensor_context(resources=_resources(tmp_path)) as ctx:
        assert isinstance(A.jaki_landing_sensor(ctx), dg.SkipReason)


@pytest.mark.slow
def test_blocking_check_fails_on_bad_stored_data(tmp_path: Path) -> None:
    lake = Lake(LakeConfig(root=tmp_path / "pantau-data"))
    migrate(lake)
    # bad data that bypassed ingestion (e.g. a manual load): raw user id, unknown feature
    lake.append(
        "jaki_usage_events",
        pl.DataFrame(
            {
                "event_id": ["e1", "e1"],
                "event_time": [None, None],
                "feature": ["teleport", "home"],
                "action": ["open", "open"],
                "kelurahan_code": ["31.71.01.1001", "31.71.01.1001"],
                "user_hash": ["628123456789", "628123456789"],
            }
        ).with_columns(pl.col("event_time").cast(pl.Datetime("us", "UTC"))),
    )
    lake.close()
    usage_asset = next(a for a in A.table_assets if a.key.path[-1] == "jaki_usage_events")
    usage_checks = next(c for c in A.table_checks if "jaki_usage_events" in str(next(iter(c.check_keys)).asset_key))
    mart = next(a for a in A.mart_assets if a.key.path[-1] == "jaki_daily_usage")
    result = dg.materialize(
        [usage_asset, usage_checks, mart],
        resources=_resources(tmp_path),
        run_config={"ops": {"jaki_daily_usage": {"config": {"start_day": str(DAY)}}}},
        raise_on_error=False,
    )
    failed = {c.check_name for c in result.get_asset_check_evaluations() if not c.passed}
    assert {"ge_hashed__user_hash", "ge_in_set__feature", "ge_unique__event_id", "ge_not_null__event_time"} <= failed
    assert "jaki_daily_usage" not in {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
