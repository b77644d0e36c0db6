"""The dashboard data layer: missing tables are empty frames, times come back in WIB."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboards import data


@pytest.mark.parametrize(
    "q", [data.CAMERA_RISK_NOW_SCORES, data.ALERTS_ACTIVE, data.JAKI_PARKING, data.PLACEMENT_LATEST, data.CAMERAS]
)
def test_no_lake_gives_empty_frames_with_the_expected_columns(no_lake_dir: Path, q: data.Q) -> None:
    df = data.query(q)
    assert df.empty
    assert list(df.columns) == list(q.columns)
    assert data.get_lake() is None


def test_missing_table_on_a_real_lake_is_empty(empty_lake_dir: Path) -> None:
    q = data.Q("SELECT * FROM not_built_yet", ("not_built_yet",), ("a", "b"))
    assert list(data.query(q).columns) == ["a", "b"]
    assert "cameras" in data.tables()


def test_camera_state_combines_scores_frames_and_marts(populated_dir: Path) -> None:
    cams = data.camera_state().set_index("camera_id")
    assert cams.loc["CAM-0004", "level"] == "Siaga"
    assert cams.loc["CAM-0003", "health"] == "frozen"
    assert cams.loc["CAM-0001", "health"] == "ok"
    assert str(cams["last_seen"].dt.tz) == data.WIB
    levels = data.kelurahan_state(cams.reset_index())
    assert levels["31.74.01.1001"] == "Siaga"
    assert levels["31.71.01.1001"] == "Normal"


def test_times_are_wib_and_sums_are_numbers(populated_dir: Path) -> None:
    alerts = data.query(data.ALERTS_ACTIVE, live=True)
    assert str(alerts["opened_at"].dt.tz) == data.WIB
    usage = data.query(data.JAKI_USAGE_BY_DAY_FEATURE, [30])
    assert pd.api.types.is_float_dtype(usage["events"])


def test_read_object_resolves_paths_and_store_keys(populated_dir: Path) -> None:
    key = "public/keyframes/CAM-0004/20261127T075500.jpg"
    raw = data.read_object(key)
    assert raw is not None and raw[:2] == b"\xff\xd8"
    assert data.read_object(str(populated_dir / "store" / key)) == raw
    assert data.read_object("public/keyframes/missing.jpg") is None


def test_releases_are_found_with_their_datapackage(populated_dir: Path) -> None:
    rels = data.releases()
    assert [r.version for r in rels] == ["2026.11.27"]
    assert {f.name for f in rels[0].files} == {"datapackage.json", "risk_hourly_kelurahan.csv"}
    assert rels[0].datapackage["licenses"][0]["name"] == "CC-BY-4.0"
