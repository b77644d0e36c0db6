"""Map building blocks: simplified kelurahan shapes, de-duplicated boundary edges, the mini map."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dashboards import ui
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate


def _square(lon: float, lat: float, d: float = 0.01) -> str:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


# (kelurahan squares as (lon, lat), boundary edges expected): shared edges are drawn once.
CASES = [
    ([(106.80, -6.20)], 4),
    ([(106.80, -6.20), (106.81, -6.20)], 7),  # side by side: one shared edge
    ([(106.80, -6.20), (106.81, -6.20), (106.90, -6.30)], 11),
    ([(106.80, -6.20), (106.81, -6.21)], 8),  # touching at a corner only
]


@pytest.mark.parametrize(("squares", "edges"), CASES)
def test_kelurahan_borders_draw_every_edge_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, squares: list[tuple[float, float]], edges: int
) -> None:
    root = tmp_path / "pantau-data"
    lake = Lake(LakeConfig(root=root))
    try:
        migrate(lake)
        rows = [
            {
                "kode_kelurahan": f"31.71.01.{1000 + i}",
                "nama_kelurahan": f"K{i}",
                "nama_kecamatan": "Gambir",
                "geometry": _square(lon, lat),
            }
            for i, (lon, lat) in enumerate(squares)
        ]
        lake.append("kelurahan", rows)
    finally:
        lake.close()
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    assert len(ui.kelurahan_features(str(root))) == len(squares)
    segs = ui.kelurahan_borders(str(root))
    assert len(segs) == edges
    assert all(s["s"] != s["t"] for s in segs)
    shape = ui.kelurahan_shape(str(root), "31.71.01.1000")
    assert shape is not None and len(shape["edges"]) == 4
    assert shape["centroid"] == pytest.approx((squares[0][0] + 0.005, squares[0][1] + 0.005))


def test_mini_map_outlines_the_kelurahan_with_a_line_layer() -> None:
    cams = pd.DataFrame({"camera_id": ["CAM-1"], "name": [None], "lat": [-6.195], "lon": [106.805], "level": ["Siaga"]})
    deck = ui.mini_map(ui.shape_from_geojson(_square(106.80, -6.20)), cams)
    assert deck is not None
    spec = json.loads(deck.to_json())
    assert [layer["@@type"] for layer in spec["layers"]] == ["LineLayer", "ScatterplotLayer"]
    assert ui.mini_map(ui.shape_from_geojson("not json"), cams.iloc[:0]) is None
