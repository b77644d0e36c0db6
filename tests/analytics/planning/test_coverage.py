"""Coverage model: projection, names, grid, layers, camera coverage, metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from geo_testkit import DEG_LAT_PER_KM, DEG_LON_PER_KM, haversine_m

from analytics.planning import (
    LAYERS,
    CoverageSettings,
    PlanningInputs,
    build_grid,
    build_layers,
    camera_reach,
    city_coverage,
    composite_demand,
    coverage_table,
    covered_cells,
    disc_offsets,
    load_inputs_from_files,
    match_kelurahan_codes,
    norm_name,
    to_lonlat,
    to_xy,
    uncovered_hotspots,
)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(106.83, -6.2), (106.69, -6.37), (106.97, -6.09), (106.75, -6.25)],
)
def test_projection_round_trip_and_scale(lon: float, lat: float) -> None:
    x, y = to_xy([lon, lon + 0.01], [lat, lat + 0.01])
    back_lon, back_lat = to_lonlat(x, y)
    assert back_lon == pytest.approx([lon, lon + 0.01], abs=1e-12)
    assert back_lat == pytest.approx([lat, lat + 0.01], abs=1e-12)
    d_proj = float(np.hypot(x[1] - x[0], y[1] - y[0]))
    d_true = haversine_m(lon, lat, lon + 0.01, lat + 0.01)
    assert abs(d_proj - d_true) / d_true < 0.003  # local projection is good to 0.3 % over Jakarta


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HARAPAN MULYA", "Harapan Mulia"),
        ("PAL MERIEM", "Palmeriam"),
        ("KAMPUNG TENGAH", "Tengah"),
        ("KREDANG", "Krendang"),
        ("PAPANGO", "Papanggo"),
        ("TANJUNG PRIUK", "Tanjung Priok"),
        ("WIJAYA KESUMA", "Wijaya Kusuma"),
        ("Pondok Rangon", "PONDOK RANGGON"),
        ("Halim Perdana Kusumah", "HALIM PERDANA KUSUMA"),
        ("kebon bawang", "KEBON  BAWANG"),
    ],
)
def test_name_variants_fold(a: str, b: str) -> None:
    assert norm_name(a) == norm_name(b)


def test_name_variants_do_not_merge_different_places() -> None:
    assert norm_name("Cengkareng Barat") != norm_name("Cengkareng Timur")


def _square(lon0: float, lat0: float, dlon: float, dlat: float) -> str:
    ring = [[lon0, lat0], [lon0 + dlon, lat0], [lon0 + dlon, lat0 + dlat], [lon0, lat0 + dlat], [lon0, lat0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def crafted_kelurahan() -> pd.DataFrame:
    """Two adjacent 1 km x 1 km kelurahan in one kecamatan, and a third 1 km to the east."""
    w, h = DEG_LON_PER_KM, DEG_LAT_PER_KM
    rows = [
        ("31.71.01.1001", "Alpha", "31.71.01", "Satu", 10_000, _square(106.80, -6.20, w, h)),
        ("31.71.01.1002", "Beta", "31.71.01", "Satu", 20_000, _square(106.80 + w, -6.20, w, h)),
        ("31.72.01.1001", "Gamma", "31.72.01", "Dua", 5_000, _square(106.80 + 3 * w, -6.20, w, h)),
    ]
    return pd.DataFrame(
        [
            {
                "kode_kelurahan": c,
                "nama_kelurahan": n,
                "kode_kecamatan": kc,
                "nama_kecamatan": kn,
                "kode_kota": c[:5],
                "nama_kota": "Kota " + c[:5],
                "population": p,
                "geometry": g,
            }
            for c, n, kc, kn, p, g in rows
        ]
    )


def test_match_codes_by_kecamatan_and_name_variants() -> None:
    kel = pd.DataFrame(
        {
            "kode_kelurahan": ["31.72.01.1001", "31.72.02.1001", "31.72.03.1001"],
            "nama_kelurahan": ["Tanjung Priok", "Tengah", "Tengah"],
            "nama_kecamatan": ["Tanjung Priok", "Kramat Jati", "Somewhere"],
        }
    )
    got = match_kelurahan_codes(
        kel,
        ["Tanjung Priok", "Kramat Jati", "Nowhere", "X"],
        ["TANJUNG PRIUK", "Kampung Tengah", "Tengah", "Pulau Pari"],
    )
    # ambiguous name without a matching kecamatan stays unresolved rather than guessed
    assert got == ["31.72.01.1001", "31.72.02.1001", None, None]


@pytest.mark.parametrize(
    ("radius_m", "cell_m", "n"),
    [
        (100, 125, 1),
        (124.9, 125, 1),
        (125, 125, 5),
        (150, 125, 5),
        (177, 125, 9),
        (250, 125, 13),
        (150, 250, 1),
        (250, 250, 5),
    ],
)
def test_disc_offsets(radius_m: float, cell_m: float, n: int) -> None:
    dx, _dy, dist = disc_offsets(radius_m, cell_m)
    assert len(dx) == n
    assert (dist <= radius_m + 1e-6).all()


def test_grid_clips_and_conserves_area_and_population() -> None:
    kel = crafted_kelurahan()
    g = build_grid(kel, cell_m=125)
    # three 1 km2 squares -> 3 km2 inside Jakarta, whatever the grid alignment
    assert g.area_in.sum() / 1e6 == pytest.approx(3.0, rel=2e-3)
    # no cell in the 1 km gap between Beta and Gamma
    x_gap = to_xy([106.80 + 2.5 * DEG_LON_PER_KM], [-6.2])[0][0]
    assert not (np.abs(g.x - x_gap) < 300).any()
    layers = build_layers(
        g, PlanningInputs(kelurahan=kel, cameras=pd.DataFrame({"camera_id": [], "lat": [], "lon": []}))
    )
    assert layers.cell["population"].sum() == pytest.approx(35_000)
    table = coverage_table(g, layers, np.zeros(g.n, dtype=bool), "kelurahan")
    pop = table[table.layer == "population"].set_index("kode_kelurahan")["demand"]
    assert pop.to_dict() == pytest.approx({"31.71.01.1001": 10_000, "31.71.01.1002": 20_000, "31.72.01.1001": 5_000})
    assert g.candidate.sum() > 0 and (g.kel >= 0).all()


def test_cell_ids_are_stable_across_input_order() -> None:
    kel = crafted_kelurahan()
    a = build_grid(kel, 125)
    b = build_grid(kel.iloc[::-1].reset_index(drop=True), 125)
    assert sorted(a.cell_ids()) == sorted(b.cell_ids())


@pytest.mark.parametrize(
    ("heading", "east_covered", "west_covered"),
    [(None, True, True), (90.0, True, False), (270.0, False, True), (0.0, False, False)],
)
def test_camera_sector(heading: float | None, east_covered: bool, west_covered: bool) -> None:
    kel = crafted_kelurahan()
    g = build_grid(kel, 125)
    # camera exactly at a cell centroid inside Alpha
    inside = np.flatnonzero(g.kel == 0)
    c = inside[np.argmin(np.hypot(g.x[inside] - g.x[inside].mean(), g.y[inside] - g.y[inside].mean()))]
    lon, lat = to_lonlat([g.x[c] + 1.0], [g.y[c] + 1.0])
    cams = pd.DataFrame(
        {"camera_id": ["c1"], "lat": lat, "lon": lon, "heading_deg": [np.nan if heading is None else heading]}
    )
    s = CoverageSettings(fov_deg=90.0)
    cov = covered_cells(g, camera_reach(g, cams, s, 300), 150, s)
    east = g.locate(np.array([g.x[c] + 125]), np.array([g.y[c]]))[0]
    west = g.locate(np.array([g.x[c] - 125]), np.array([g.y[c]]))[0]
    assert cov[c]  # its own cell is always seen
    assert bool(cov[east]) is east_covered
    assert bool(cov[west]) is west_covered


def test_type_factor_scales_radius() -> None:
    g = build_grid(crafted_kelurahan(), 125)
    c = int(np.flatnonzero(g.kel == 1)[len(np.flatnonzero(g.kel == 1)) // 2])
    lon, lat = to_lonlat([g.x[c]], [g.y[c]])
    for kind, n in (
        ("fixed", len(disc_offsets(150, 125)[0])),
        ("toll", len(disc_offsets(300, 125)[0])),
        ("unknown", 5),
    ):
        cams = pd.DataFrame({"camera_id": ["c"], "lat": lat, "lon": lon, "camera_type": [kind]})
        s = CoverageSettings()
        assert covered_cells(g, camera_reach(g, cams, s), 150, s).sum() == n


def test_composite_renormalises_over_active_layers() -> None:
    kel = crafted_kelurahan()
    g = build_grid(kel, 125)
    fire = pd.DataFrame({"kode_kelurahan": ["31.72.01.1001"], "incidents": [4]})
    layers = build_layers(g, PlanningInputs(kelurahan=kel, cameras=pd.DataFrame(), fire=fire))
    assert set(layers.active()) == {"population", "fire_2024"}
    comp = composite_demand(layers, {"population": 1.0, "fire_2024": 1.0, "flood_2024": 5.0})
    assert comp.sum() == pytest.approx(1.0)
    gamma = g.kel == 2
    # Gamma holds 1/7 of the population and all the fires: (1/7 + 1) / 2
    assert comp[gamma].sum() == pytest.approx((5_000 / 35_000 + 1.0) / 2)
    assert any("flood_2024" in n for n in layers.notes)


@pytest.mark.parametrize(
    ("weight", "park_kel_share"),
    [
        (0.0, 5_000 / 35_000),  # weight 0: the layer drops out, Gamma holds its population share only
        (1.0, (5_000 / 35_000 + 1.0) / 2),  # equal weights: half population share, half the whole park layer
    ],
)
def test_public_space_layer_is_a_proximity_kernel_with_its_own_weight(weight: float, park_kel_share: float) -> None:
    kel = crafted_kelurahan()
    g = build_grid(kel, 125)
    gamma = np.flatnonzero(g.kel == 2)
    centre = int(gamma[np.argmin(np.hypot(g.x[gamma] - g.x[gamma].mean(), g.y[gamma] - g.y[gamma].mean()))])
    lon, lat = to_lonlat([g.x[centre]], [g.y[centre]])
    s = CoverageSettings(proximity_m=300.0)
    parks = pd.DataFrame({"kind": ["public_space"], "lat": lat, "lon": lon})
    layers = build_layers(g, PlanningInputs(kelurahan=kel, cameras=pd.DataFrame(), facilities=parks), s)
    park = layers.cell["public_space"]
    d = np.hypot(g.x - g.x[centre], g.y - g.y[centre])
    assert park[centre] == pytest.approx(1.0)
    assert (park[d >= 300] == 0).all()
    assert (park[(d > 0) & (d < 300)] > 0).all()
    assert park[(d > 0) & (d < 300)].max() < 1.0  # linear decay with distance
    assert "public_space" in layers.active()
    comp = composite_demand(layers, {"population": 1.0, "public_space": weight})
    assert comp[g.kel == 2].sum() == pytest.approx(park_kel_share)


@pytest.fixture(scope="module")
def real() -> tuple:
    inputs = load_inputs_from_files()
    s = CoverageSettings()
    g = build_grid(inputs.kelurahan, s.cell_m)
    layers = build_layers(g, inputs, s)
    cov = covered_cells(g, camera_reach(g, inputs.cameras, s), s.radius_m, s)
    return inputs, g, layers, cov, s


def test_real_inputs_are_complete(real: tuple) -> None:
    inputs, g, layers, _, _ = real
    assert len(inputs.cameras) == 1289
    assert inputs.kelurahan["kode_kelurahan"].notna().sum() == 261
    # every mainland 2024 fire record resolves to a kelurahan (only Kepulauan Seribu rows drop out)
    assert layers.cell["fire_2024"].sum() == pytest.approx(1948)
    assert layers.cell["flood_2024"].sum() == pytest.approx(488)
    # 323 RPTRA with coordinates (Jakarta Satu geoportal); the 9 on Kepulauan Seribu fall outside the mainland grid
    assert (inputs.facilities["kind"] == "public_space").sum() == 323
    assert "public_space" in layers.active()
    pop = inputs.kelurahan["population"].sum()
    assert layers.cell["population"].sum() == pytest.approx(pop)
    assert 600 < g.area_in.sum() / 1e6 < 680


def test_real_coverage_consistent_across_levels(real: tuple) -> None:
    _, g, layers, cov, s = real
    t1 = coverage_table(g, layers, cov, "kelurahan", s.weights)
    assert t1.equals(coverage_table(g, layers, cov.copy(), "kelurahan", s.weights))
    city = city_coverage(layers, cov, s.weights)
    for level in ("kecamatan", "kota", "city"):
        t = coverage_table(g, layers, cov, level, s.weights)
        pop = t[t.layer == "population"]
        assert pop["covered"].sum() / pop["demand"].sum() == pytest.approx(city["population"])
    assert 0.02 < city["population"] < 0.3
    assert set(t1["layer"]) == {*LAYERS, "composite"}
    assert ((t1["covered_share"].dropna() >= 0) & (t1["covered_share"].dropna() <= 1 + 1e-9)).all()


def test_hotspots_are_uncovered_and_ranked(real: tuple) -> None:
    _, g, layers, cov, s = real
    hs = uncovered_hotspots(g, layers, cov, s.weights, top=15)
    assert len(hs) == 15
    assert hs["composite"].is_monotonic_decreasing
    idx = {cid: i for i, cid in enumerate(g.cell_ids())}
    assert not any(cov[idx[c]] for c in hs["cell_id"])
