"""Planning assets over a crafted lake: coverage_kelurahan, placement_candidates, GeoJSON, check."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from analytics.planning import load_inputs_from_lake
from assets.planning import GEOJSON_KEY, PlanningConfig, defs, placement_candidates_valid, planning_marts
from orchestration.resources import LakeResource, ObjectStoreResource
from warehouse.lake import Lake, LakeConfig

DLON, DLAT = 1000 / 110_672.0, 1000 / 110_587.0  # 1 km at Jakarta


def _square(lon0: float, lat0: float) -> str:
    ring = [[lon0, lat0], [lon0 + DLON, lat0], [lon0 + DLON, lat0 + DLAT], [lon0, lat0 + DLAT], [lon0, lat0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _fill(lake: Lake, with_jaki: bool) -> None:
    kel = [
        ("31.71.01.1001", "Alpha", 30_000, _square(106.80, -6.20)),
        ("31.71.01.1002", "Beta", 5_000, _square(106.80 + DLON, -6.20)),
    ]
    lake.replace(
        "kelurahan",
        pa.table(
            {
                "kode_kelurahan": [k[0] for k in kel],
                "nama_kelurahan": [k[1] for k in kel],
                "kode_kecamatan": ["31.71.01"] * 2,
                "nama_kecamatan": ["Satu"] * 2,
                "kode_kota": ["31.71"] * 2,
                "nama_kota": ["Kota Administrasi Jakarta Pusat"] * 2,
                "population": [k[2] for k in kel],
                "geometry": [k[3] for k in kel],
            }
        ),
    )
    lake.replace(
        "cameras",
        pa.table(
            {
                "camera_id": ["c1", "c2"],
                "lat": [-6.20 + 0.5 * DLAT, -6.20 + 0.2 * DLAT],
                "lon": [106.80 + 0.5 * DLON, 106.80 + 1.5 * DLON],
                "catalog_source": ["streetside", "balitower"],
                "active": [True, True],
                "heading_deg": [None, 90.0],
            }
        ),
    )
    lake.replace("flood_events_2024", pa.table({"kode_kelurahan": ["31.71.01.1002"], "month": [1], "events": [7]}))
    lake.replace("fire_incidents_2024", pa.table({"kode_kelurahan": ["31.71.01.1001"], "incidents": [3]}))
    lake.replace(
        "facilities",
        pa.table(
            {"facility_id": ["h1"], "kind": ["hospital"], "lat": [-6.20 + 0.9 * DLAT], "lon": [106.80 + 0.1 * DLON]}
        ),
    )
    if with_jaki:
        lake.replace(
            "jaki_complaints",
            pa.table(
                {
                    "ticket_id": ["t1", "t2", "t3"],
                    "lat": [-6.20 + 0.3 * DLAT, None, -6.20 + 0.3 * DLAT],
                    "lon": [106.80 + 1.7 * DLON, None, 106.80 + 1.7 * DLON],
                    "kelurahan_code": ["31.71.01.1002", "31.71.01.1001", "31.71.01.1002"],
                }
            ),
        )
        lake.replace("risk_hourly_camera", pa.table({"camera_id": ["c1", "c1"], "crowd_max": [0.5, 0.9]}))


@pytest.mark.parametrize(("with_jaki", "method", "budget"), [(False, "exact", 4), (True, "auto", 5)])
def test_planning_assets_materialize(
    lake: Lake, lake_config: LakeConfig, tmp_path: Path, with_jaki: bool, method: str, budget: int
) -> None:
    _fill(lake, with_jaki)
    inputs = load_inputs_from_lake(lake)
    assert len(inputs.kelurahan) == 2 and len(inputs.cameras) == 2
    assert any("jaki_panic" in n for n in inputs.notes)  # no panic presses landed: zero layer, with a note
    if with_jaki:
        assert inputs.jaki_complaints["n"].sum() == 3
        assert inputs.crowd.set_index("camera_id")["crowd"]["c1"] == pytest.approx(0.7)
        assert not any("jaki_complaints" in n for n in inputs.notes)
    resources = {
        "lake": LakeResource(data_dir=str(lake_config.root)),
        "store": ObjectStoreResource(root=str(tmp_path / "objects")),
    }
    res = dg.materialize(
        [planning_marts, placement_candidates_valid],
        resources=resources,
        run_config=dg.RunConfig({"planning_marts": PlanningConfig(budget=budget, method=method, time_limit_s=30)}),
    )
    assert res.success
    reader = Lake(lake_config)
    cand = reader.query("SELECT * FROM placement_candidates ORDER BY rank").to_pylist()
    assert [r["rank"] for r in cand] == list(range(1, budget + 1))
    assert all(r["kode_kelurahan"] in ("31.71.01.1001", "31.71.01.1002") for r in cand)
    assert all(r["reason"] and r["reason_en"] for r in cand)
    assert all(r["run_id"] == res.run_id for r in cand)
    if method == "exact":
        assert all(r["optimal"] for r in cand)
    cov = reader.query(
        "SELECT * FROM coverage_kelurahan WHERE layer = 'population' ORDER BY kode_kelurahan"
    ).to_pylist()
    assert [round(r["demand"]) for r in cov] == [30_000, 5_000]
    assert all(0 < r["covered_share"] < 1 for r in cov)
    jaki = reader.scalar("SELECT sum(demand) FROM coverage_kelurahan WHERE layer = 'jaki_complaints'")
    assert jaki == pytest.approx(3.0 if with_jaki else 0.0)
    fc = json.loads((tmp_path / "objects" / GEOJSON_KEY).read_text())
    assert len(fc["features"]) == budget
    reader.close()
    checks = res.get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["placement_candidates_valid"] and checks[0].passed


def test_defs_load(tmp_path: Path) -> None:
    resources = dg.Definitions(
        resources={
            "lake": LakeResource(data_dir=str(tmp_path / "d")),
            "store": ObjectStoreResource(root=str(tmp_path / "o")),
        }
    )
    merged = dg.Definitions.merge(defs, resources)
    keys = {k.to_user_string() for k in merged.resolve_asset_graph().get_all_asset_keys()}
    assert {"coverage_kelurahan", "placement_candidates"} <= keys
    assert merged.resolve_job_def("planning_job") is not None
