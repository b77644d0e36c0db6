"""Risk and uptime marts: values, kelurahan roll-up, incremental hours, idempotence, quality rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marts.risk import MartSourceMissingError, quality_issues, refresh_risk_marts
from tests.open_data.conftest import CAMERAS, T0, add
from warehouse.lake import Lake


def _by_key(lake: Lake, table: str, keys: tuple[str, ...]) -> dict[tuple, dict]:  # type: ignore[type-arg]
    return {tuple(r[k] for k in keys): r for r in lake.query(f"SELECT * FROM {table}").to_pylist()}


def test_marts_values_incremental_and_idempotent(filled_lake: Lake) -> None:
    cam = _by_key(filled_lake, "risk_hourly_camera", ("hour", "camera_id"))
    assert len(cam) == 6
    a0 = cam[(T0, "cam-a")]
    assert (a0["frames"], a0["frames_ok"], a0["uptime"], a0["kelurahan_code"]) == (6, 6, 1.0, "3171011001")
    assert (a0["fire_max"], a0["persons_max"], a0["risk_level_max"], a0["motion_events"]) == (
        pytest.approx(0.2),
        4.0,
        "Normal",
        12,
    )
    b0, b1 = cam[(T0, "cam-b")], cam[(T0 + timedelta(hours=1), "cam-b")]
    assert (b0["frames_ok"], b0["uptime"], b0["risk_level_max"], b0["flood_frames"]) == (0, 0.0, None, 12)
    assert (b1["uptime"], b1["flood_max"], b1["risk_level_max"]) == (1.0, 0.7, "Siaga")
    kel = _by_key(filled_lake, "risk_hourly_kelurahan", ("hour", "kelurahan_code"))
    assert kel[(T0 + timedelta(hours=1), "3172011001")]["risk_level_max"] == "Siaga"
    assert kel[(T0, "3171011001")]["cameras"] == 1
    up = _by_key(filled_lake, "camera_uptime_daily", ("day", "camera_id"))
    assert (up[(T0.date(), "cam-b")]["samples"], up[(T0.date(), "cam-b")]["offline"]) == (18, 6)
    assert up[(T0.date(), "cam-b")]["uptime"] == pytest.approx(12 / 18)
    assert quality_issues(filled_lake) == {}

    # a late fire frame lands in hour 1: refreshing only that hour updates it and leaves the rest
    add(
        filled_lake,
        "frames",
        [{"camera_id": "cam-a", "captured_at": T0 + timedelta(hours=1, minutes=59), "status": "ok"}],
    )
    add(
        filled_lake,
        "frame_scores",
        [
            {
                "camera_id": "cam-a",
                "captured_at": T0 + timedelta(hours=1, minutes=59),
                "fire": 0.95,
                "risk_level": "Awas",
            }
        ],
    )
    r = refresh_risk_marts(filled_lake, T0 + timedelta(hours=1, minutes=30), T0 + timedelta(hours=1, minutes=45))
    assert (r.start, r.end, r.camera_rows, r.kelurahan_rows) == (T0 + timedelta(hours=1), T0 + timedelta(hours=2), 2, 2)
    after = _by_key(filled_lake, "risk_hourly_camera", ("hour", "camera_id"))
    assert len(after) == 6
    a1 = after[(T0 + timedelta(hours=1), "cam-a")]
    assert (a1["frames"], a1["fire_max"], a1["risk_level_max"]) == (7, 0.95, "Awas")
    assert after[(T0, "cam-a")] == a0
    assert (
        _by_key(filled_lake, "risk_hourly_kelurahan", ("hour", "kelurahan_code"))[
            (T0 + timedelta(hours=1), "3171011001")
        ]["risk_level_max"]
        == "Awas"
    )
    # re-running everything is idempotent
    refresh_risk_marts(filled_lake)
    refresh_risk_marts(filled_lake)
    assert _by_key(filled_lake, "risk_hourly_camera", ("hour", "camera_id")) == after
    assert filled_lake.scalar("SELECT count(*) FROM camera_uptime_daily") == 2

    # bad upstream scores are caught by the quality rules
    add(filled_lake, "frame_scores", [{"camera_id": "cam-a", "captured_at": T0 + timedelta(minutes=3), "fire": 1.7}])
    refresh_risk_marts(filled_lake, T0, T0 + timedelta(hours=1))
    assert "risk_hourly_camera: scores outside [0, 1]" in quality_issues(filled_lake)


def test_events_only_camera_gets_uptime_from_windows(lake: Lake) -> None:
    add(lake, "cameras", CAMERAS)
    add(lake, "frames", [])
    add(lake, "frame_scores", [])
    add(
        lake,
        "camera_events",
        [
            {
                "camera_id": "cam-a",
                "window_start": T0 + timedelta(minutes=5 * w),
                "window_end": T0 + timedelta(minutes=5 * w + 5),
                "frames_ok": 3,
                "frames_failed": 1,
                "persons_max": 2.0,
                "motion_events": 1,
                "fire_frames": 0,
                "smoke_frames": 0,
                "flood_frames": 0,
            }
            for w in range(12)
        ],
    )
    refresh_risk_marts(lake)
    [row] = lake.query("SELECT * FROM risk_hourly_camera").to_pylist()
    assert (row["frames"], row["frames_ok"], row["uptime"], row["persons_max"]) == (48, 36, 0.75, 2.0)


def test_missing_sources_are_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from warehouse.lake import LakeConfig

    bare = Lake(LakeConfig(root=tmp_path / "bare"))
    bare.execute("CREATE TABLE cameras (camera_id VARCHAR)")
    with pytest.raises(MartSourceMissingError):
        refresh_risk_marts(bare)
    bare.close()
