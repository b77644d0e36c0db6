"""Map building blocks: simplified kelurahan shapes, de-duplicated boundary edges, the mini map."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

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


def _wavy_strip(x0: float, x1: float, wiggles: int, amp: float) -> list[list[float]]:
    """A shared boundary from (x0, -6.20) to (x1, -6.20) with small zigzags (below the city tolerance)."""
    xs = np.linspace(x0, x1, wiggles + 1)
    return [[float(x), -6.20 + (amp if i % 2 else 0.0)] for i, x in enumerate(xs)]


# (zigzag count, amplitude in degrees, the shared edge keeps at most this many distinct vertices)
COVERAGE_CASES = [
    (40, 0.00005, 3),  # ~5 m wiggles: simplified away on both sides alike (41 vertices -> ends + a node)
    (10, 0.00005, 3),
    (4, 0.005, 5),  # ~550 m bends: kept
]


@pytest.mark.parametrize(("wiggles", "amp", "max_shared"), COVERAGE_CASES)
def test_simplify_coverage_keeps_neighbours_meeting(wiggles: int, amp: float, max_shared: int) -> None:
    import shapely
    from shapely.geometry import Polygon

    edge = _wavy_strip(106.80, 106.82, wiggles, amp)
    north = Polygon([*edge, [106.82, -6.18], [106.80, -6.18]])
    south = Polygon([*edge, [106.82, -6.22], [106.80, -6.22]])
    before = sum(shapely.get_num_coordinates(g) for g in (north, south))
    out = ui.simplify_coverage([north, south], ui.CITY_SIMPLIFY_DEG, ui.CITY_DECIMALS)
    assert all(g.is_valid and not g.is_empty for g in out)
    shared = out[0].boundary.intersection(out[1].boundary)
    # the two sides still share one edge (no sliver, no overlap), simplified the same way
    assert shared.length == pytest.approx(0.02, rel=0.05 if amp < 0.001 else 1.0)
    assert out[0].intersection(out[1]).area == pytest.approx(0.0, abs=1e-12)
    assert out[0].union(out[1]).area == pytest.approx(north.union(south).area, rel=0.02)
    assert len({tuple(xy) for xy in shapely.get_coordinates(shared)}) <= max_shared
    assert sum(shapely.get_num_coordinates(g) for g in out) <= before
    coords = np.concatenate([np.asarray(g.exterior.coords) for g in out])
    assert np.array_equal(coords, coords.round(ui.CITY_DECIMALS))


def _two_kelurahan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, pd.DataFrame, pd.Series]:
    """A lake with two neighbouring square kelurahan (one Awas, one without data), a Siaga camera and one unplaced."""
    squares = [(106.80, -6.20), (106.81, -6.20)]
    root = tmp_path / "pantau-data"
    lake = Lake(LakeConfig(root=root))
    try:
        migrate(lake)
        lake.append(
            "kelurahan",
            [
                {
                    "kode_kelurahan": f"31.71.01.{1000 + i}",
                    "nama_kelurahan": f"K{i}",
                    "nama_kecamatan": "Gambir",
                    "geometry": _square(lon, lat),
                }
                for i, (lon, lat) in enumerate(squares)
            ],
        )
    finally:
        lake.close()
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    cams = pd.DataFrame(
        {
            "camera_id": ["CAM-1", "CAM-2"],
            "name": ["Satu", None],
            "lat": [-6.195, None],
            "lon": [106.805, None],
            "level": ["Siaga", "unknown"],
            "health": ["frozen", "unknown"],
        }
    )
    return root, cams, pd.Series({"31.71.01.1000": "Awas"})


def test_city_map_draws_borders_on_the_fill_edges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cams, levels = _two_kelurahan(tmp_path, monkeypatch)
    spec = json.loads(ui.city_map(cams, levels, str(root)).to_json())
    fills, borders, points = spec["layers"]
    assert [fills["@@type"], borders["@@type"], points["@@type"]] == ["GeoJsonLayer", "LineLayer", "ScatterplotLayer"]
    assert [f["properties"]["fill"][:3] for f in fills["data"]["features"]] == [
        ui.LEVEL_COLORS["Awas"][:3],
        ui.LEVEL_COLORS["unknown"][:3],
    ]
    fill_edges = {
        tuple(sorted((tuple(a), tuple(b))))
        for f in fills["data"]["features"]
        for ring in f["geometry"]["coordinates"]
        for a, b in itertools.pairwise(ring)
    }
    drawn = {tuple(sorted((tuple(s["s"]), tuple(s["t"])))) for s in borders["data"]}
    assert drawn == fill_edges and len(drawn) == 7
    assert not borders.get("pickable") and fills["pickable"] and points["pickable"]
    assert [p["name"] for p in points["data"]] == ["Satu"]  # a camera without a position is not drawn


def test_city_map_chart_draws_the_same_map_on_a_2d_canvas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cams, levels = _two_kelurahan(tmp_path, monkeypatch)
    chart = ui.city_map_chart(cams, levels, str(root))
    assert chart is not None
    spec = chart.to_dict()  # valid Vega-Lite (the page skips this check)
    kel, points = spec["layer"]
    features = kel["data"]["values"]
    assert [f["properties"]["fill"] for f in features] == ["rgba(220,38,38,0.43)", "rgba(148,163,184,0.14)"]
    assert [f["properties"]["name"] for f in features] == ["K0 (Gambir)", "K1 (Gambir)"]
    for f in features:  # d3-geo: a counter-clockwise exterior ring would fill the rest of the globe
        assert not shapely.is_ccw(shapely.LinearRing(f["geometry"]["coordinates"][0]))
    assert kel["mark"]["type"] == "geoshape" and kel["encoding"]["fill"]["scale"] is None
    drawn = spec["datasets"][points["data"]["name"]]
    assert [(p["name"], p["fill"], p["line"]) for p in drawn] == [
        ("Satu", "rgba(249,115,22,0.90)", "rgba(190,18,60,1.00)")  # Siaga, outlined: frozen
    ]
    (lon0, lat0), (lon1, lat1) = spec["projection"]["fit"]["geometry"]["coordinates"]
    assert lon0 == lon1 == pytest.approx(106.805) and (lat0 + lat1) / 2 == pytest.approx(-6.195)
    page_spec = ui.city_map_spec(cams, levels, str(root), "id")
    assert page_spec is not None and page_spec["usermeta"]["embedOptions"]["renderer"] == "canvas"
    assert ui.city_map_chart(cams.iloc[:0], pd.Series(dtype=str), str(tmp_path / "no-lake")) is None


NOW = pd.Timestamp("2026-11-28 10:00", tz="Asia/Jakarta")
# (newest row's time, label): naive times are WIB wall clock; ahead of now by more than 5 min is flagged.
AGE_CASES = [
    (None, "—"),
    (pd.NaT, "—"),
    (pd.Timestamp("2026-11-28 09:48", tz="Asia/Jakarta"), "12 min"),
    (pd.Timestamp("2026-11-28 02:48", tz="UTC"), "12 min"),
    (pd.Timestamp("2026-11-28 09:48"), "12 min"),
    (pd.Timestamp("2026-11-28 07:00", tz="Asia/Jakarta"), "3 jam"),
    (pd.Timestamp("2026-11-25 10:00", tz="Asia/Jakarta"), "3 hari"),
    (pd.Timestamp("2026-11-28 10:03", tz="Asia/Jakarta"), "0 min"),  # within the clock slack
    (pd.Timestamp("2026-11-28 23:59", tz="Asia/Jakarta"), "⚠ +13 jam"),
    (pd.Timestamp("2026-11-28 10:30", tz="Asia/Jakarta"), "⚠ +30 min"),
]


@pytest.mark.parametrize(("latest", "label"), AGE_CASES)
def test_age_label(latest: object, label: str) -> None:
    assert ui.age_label(latest, NOW) == label


# (days in the data, min_days, expected scale domain): at least min_days wide, ending the day after the newest.
DAY_X_CASES: list[tuple[list[str], int, list[str]]] = [
    (["2026-11-28"], 14, ["2026-11-15T00:00:00", "2026-11-29T00:00:00"]),
    (["2026-11-28"], 1, ["2026-11-28T00:00:00", "2026-11-29T00:00:00"]),
    (["2026-10-01", "2026-11-28"], 14, ["2026-10-01T00:00:00", "2026-11-29T00:00:00"]),
    (["2026-11-20 00:00", "2026-11-28 00:00"], 30, ["2026-10-30T00:00:00", "2026-11-29T00:00:00"]),
]


def test_day_x_until_a_given_day() -> None:  # the data-quality chart: the last 30 days up to today, not the data's
    x = ui.day_x(pd.Series(pd.to_datetime(["2026-11-20"])), "Hari", min_days=30, until=pd.Timestamp("2026-11-28 10:45"))
    assert x.to_dict()["scale"]["domain"] == ["2026-10-30T00:00:00", "2026-11-29T00:00:00"]


@pytest.mark.parametrize(("days", "min_days", "domain"), DAY_X_CASES)
def test_day_x_spans_at_least_min_days(days: list[str], min_days: int, domain: list[str]) -> None:
    x = ui.day_x(pd.Series(pd.to_datetime(days)), "Hari", min_days=min_days).to_dict()
    assert x["scale"]["domain"] == domain
    assert x["timeUnit"] == "yearmonthdate" and x["field"] == "day" and x["type"] == "temporal"


def test_day_axis_spells_indonesian_months_and_keeps_english_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui, "current_lang", lambda: "id")
    axis = ui.day_axis().to_dict()
    assert "'Agu'" in axis["labelExpr"] and "'Des'" in axis["labelExpr"] and "format" not in axis
    monkeypatch.setattr(ui, "current_lang", lambda: "en")
    assert ui.day_axis().to_dict() == {"format": "%d %b", "labelAngle": 0}
