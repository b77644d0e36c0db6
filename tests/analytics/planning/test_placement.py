"""Placement (MCLP): exact vs known optima, greedy bound, baselines, outputs, real inventory."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from geo_testkit import DEG_LAT_PER_KM, DEG_LON_PER_KM, haversine_m

from analytics.planning import (
    GREEDY_RATIO,
    LAYERS,
    CoverageSettings,
    PlanningModel,
    Problem,
    build_grid,
    exact,
    greedy,
    grid_problem,
    load_inputs_from_files,
    placement_geojson,
    populous_baseline,
    random_baseline,
    run_plan,
    what_if,
)
from orchestration.plan_report import plan_text


def crafted_kelurahan() -> pd.DataFrame:
    """Two adjacent 1 km x 1 km kelurahan."""
    rows = []
    for i, (code, pop) in enumerate((("31.71.01.1001", 10_000), ("31.71.01.1002", 20_000))):
        lon0 = 106.80 + i * DEG_LON_PER_KM
        ring = [
            [lon0, -6.2],
            [lon0 + DEG_LON_PER_KM, -6.2],
            [lon0 + DEG_LON_PER_KM, -6.2 + DEG_LAT_PER_KM],
            [lon0, -6.2 + DEG_LAT_PER_KM],
            [lon0, -6.2],
        ]
        rows.append(
            {
                "kode_kelurahan": code,
                "nama_kelurahan": f"K{i}",
                "kode_kecamatan": "31.71.01",
                "nama_kecamatan": "Satu",
                "kode_kota": "31.71",
                "nama_kota": "Pusat",
                "population": pop,
                "geometry": json.dumps({"type": "Polygon", "coordinates": [ring]}),
            }
        )
    return pd.DataFrame(rows)


# (name, demand, candidate sets, already covered, budget, known optimum, greedy value)
CRAFTED = [
    # the classic trap: greedy takes the big set first and cannot reach the two halves
    ("greedy-trap", [1, 1, 1, 1, 1, 1], [[0, 1, 2, 3], [0, 1, 4], [2, 3, 5]], None, 2, 6.0, 5.0),
    # weighted: one heavy point beats many light ones
    ("weighted", [10, 1, 1, 1, 1], [[0], [1, 2, 3, 4], [1, 2]], None, 1, 10.0, 10.0),
    ("weighted-2", [10, 1, 1, 1, 1], [[0], [1, 2, 3, 4], [1, 2]], None, 2, 14.0, 14.0),
    # demand already covered by today's cameras counts for nothing
    ("covered", [5, 5, 1, 1], [[0, 1], [2], [3]], [True, True, False, False], 1, 1.0, 1.0),
    # budget above the number of useful sites
    ("budget-large", [3, 2], [[0], [1], [0, 1]], None, 5, 5.0, 5.0),
    # overlapping chain on a line: points 0..6, each site covers i-1, i, i+1
    ("chain", [1] * 7, [[max(0, i - 1), i, min(6, i + 1)] for i in range(7)], None, 2, 6.0, 6.0),
    ("zero-budget", [1, 2], [[0], [1]], None, 0, 0.0, 0.0),
]


@pytest.mark.parametrize(
    ("name", "demand", "sets", "covered", "budget", "optimum", "greedy_value"), CRAFTED, ids=[c[0] for c in CRAFTED]
)
def test_crafted_exact_finds_optimum_and_greedy_within_bound(
    name: str, demand: list, sets: list, covered: list | None, budget: int, optimum: float, greedy_value: float
) -> None:
    p = Problem.from_sets(demand, sets, covered)
    ex = exact(p, budget, time_limit_s=30)
    assert ex.objective == pytest.approx(optimum)
    assert ex.optimal
    assert p.objective(ex.picks) == pytest.approx(optimum)
    for lazy in (True, False):
        gr = greedy(p, budget, lazy=lazy)
        assert gr.objective == pytest.approx(greedy_value)
        assert gr.objective >= GREEDY_RATIO * optimum - 1e-9
        assert gr.upper_bound >= optimum - 1e-9
        assert gr.objective <= optimum + 1e-9


def _brute_force(p: Problem, budget: int) -> float:
    k = min(budget, p.n_candidates)
    return max(p.objective(c) for c in itertools.combinations(range(p.n_candidates), k))


@pytest.mark.parametrize("seed", range(8))
def test_random_instances_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_pts, n_cand, budget = 14, 9, 3
    demand = rng.integers(0, 10, n_pts).astype(float)
    sets = [sorted(rng.choice(n_pts, size=rng.integers(1, 5), replace=False).tolist()) for _ in range(n_cand)]
    covered = rng.random(n_pts) < 0.15
    p = Problem.from_sets(demand, sets, covered)
    opt = _brute_force(p, budget)
    ex = exact(p, budget, time_limit_s=30)
    assert ex.objective == pytest.approx(opt)
    lazy, plain = greedy(p, budget, lazy=True), greedy(p, budget, lazy=False)
    # integer demands: lazy (CELF) and plain greedy make the same picks in the same order
    assert lazy.picks.tolist() == plain.picks.tolist()
    assert lazy.evaluations <= plain.evaluations
    assert GREEDY_RATIO * opt - 1e-9 <= lazy.objective <= opt + 1e-9
    assert lazy.upper_bound >= opt - 1e-9


def test_gains_are_sequential_marginal_and_sum_to_objective() -> None:
    p = Problem.from_sets([1, 2, 3, 4], [[0, 1], [1, 2], [2, 3]], None)
    s = greedy(p, 3)
    assert s.picks.tolist() == [2, 0, 1]
    assert s.gains.tolist() == [7.0, 3.0, 0.0]
    assert s.gains.sum() == pytest.approx(s.objective)


def test_grid_problem_coverage_sets() -> None:
    g = build_grid(crafted_kelurahan(), 125)
    demand = np.ones(g.n)
    covered0 = np.zeros(g.n, dtype=bool)
    covered0[0] = True
    p = grid_problem(g, demand, covered0, 150)
    assert 0 not in p.cand.tolist()
    assert g.candidate[p.cand].all()
    for j in range(0, p.n_candidates, 37):
        m = p.members(j)
        d = np.hypot(g.x[m] - g.x[p.cand[j]], g.y[m] - g.y[p.cand[j]])
        assert (d <= 150 + 1e-6).all() and p.cand[j] in m.tolist()
        assert len(m) <= 5


# ---------------------------------------------------------------------------- real inventory
@pytest.fixture(scope="module")
def model() -> PlanningModel:
    return PlanningModel.build(load_inputs_from_files())


def test_real_plan_sites_inside_jakarta_on_uncovered_cells(model: PlanningModel) -> None:
    res = model.plan(60, 150, method="lazy", baselines=False)
    df = res.candidates
    assert len(df) == 60 and df["rank"].tolist() == list(range(1, 61))
    assert df["site_id"].is_unique
    inputs = load_inputs_from_files()
    polys = shapely.from_geojson(inputs.kelurahan["geometry"].tolist())
    jakarta = shapely.union_all(shapely.make_valid(polys))
    pts = shapely.points(df["lon"].to_numpy(), df["lat"].to_numpy())
    assert shapely.contains(jakarta, pts).all()
    # independent check of "not already covered": great-circle distance to every camera
    cams = inputs.cameras
    for r in df.itertuples():
        dmin = min(haversine_m(r.lon, r.lat, lo, la) for lo, la in zip(cams["lon"], cams["lat"], strict=True))
        assert dmin > 150 - 1.0, (r.site_id, dmin)
    assert df["kode_kelurahan"].notna().all()
    assert (df["gain_total"].diff().dropna() <= 1e-12).all()  # greedy gains never increase
    for k in res.before:
        assert res.after[k] >= res.before[k] - 1e-12
    assert res.after["composite"] - res.before["composite"] == pytest.approx(res.objective)
    assert res.upper_bound >= res.objective


def test_real_plan_reproducible(model: PlanningModel) -> None:
    a = model.plan(40, 150, method="lazy", baselines=False, run_id="r")
    fresh = PlanningModel.build(load_inputs_from_files())
    b = fresh.plan(40, 150, method="lazy", baselines=False, run_id="r")
    pd.testing.assert_frame_equal(a.candidates, b.candidates)
    assert a.before == b.before and a.after == b.after
    pd.testing.assert_frame_equal(model.coverage_kelurahan(), fresh.coverage_kelurahan())


@pytest.mark.parametrize("budget", [10, 100])
def test_real_greedy_beats_baselines(model: PlanningModel, budget: int) -> None:
    p = model.problem(150)
    g = greedy(p, budget)
    rnd = random_baseline(p, budget, seed=1)
    pop = populous_baseline(p, model.grid, model.population_by_kel(), budget)
    assert g.objective > rnd.objective and g.objective > pop.objective
    assert len(pop.picks) == budget == len(set(pop.picks.tolist()))
    # populous-first puts its first camera in the most populous kelurahan
    top_kel = int(np.argmax(model.population_by_kel()))
    assert model.grid.kel[p.cand[pop.picks[0]]] == top_kel


def test_real_radius_and_weights_change_plan(model: PlanningModel) -> None:
    only_pop = model.what_if(5, 150, {k: (1.0 if k == "population" else 0.0) for k in LAYERS})
    p = model.problem(150, only_pop.weights)
    pop_gain = [
        float(model.layers.cell["population"][p.members(j)][~p.covered0[p.members(j)]].sum())
        for j in range(p.n_candidates)
    ]
    assert only_pop.candidates["gain_population"].iloc[0] == pytest.approx(max(pop_gain))
    wide = model.what_if(5, 250)
    assert wide.before["composite"] > model.what_if(5, 150).before["composite"]
    assert wide.candidates["radius_m"].eq(250).all()


def test_real_sensitivity(model: PlanningModel) -> None:
    sens = model.sensitivity(30, 150, weight_factors=(1.0, 3.0), radius_deltas=(-50.0,))
    ident = sens[sens["perturbation"].str.endswith("x1")]
    assert (ident["jaccard"] == 1.0).all() and (ident["overlap_near"] == 1.0).all()
    assert sens["jaccard"].between(0, 1).all()
    assert (sens["jaccard"] < 1).any()
    assert "radius 100 m" in set(sens["perturbation"])


def test_geojson_and_printed_plan(model: PlanningModel) -> None:
    res = model.plan(8, 150, method="lazy")
    fc = placement_geojson(res.candidates)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 8
    f0 = fc["features"][0]
    assert f0["geometry"]["coordinates"] == [
        round(res.candidates["lon"].iloc[0], 6),
        round(res.candidates["lat"].iloc[0], 6),
    ]
    assert f0["properties"]["rank"] == 1 and f0["properties"]["reason"] and f0["properties"]["reason_en"]
    json.dumps(fc)  # serialisable as-is
    text = plan_text(res)
    assert "Ranked sites" in text and "before" in text and "populous" in text
    assert all(str(s) in text for s in res.candidates["cell_id"])
    change = res.coverage_change("kota")
    assert len(change) and (change["after"].fillna(0) >= change["before"].fillna(0) - 1e-12).all()


def test_reasons_are_bilingual(model: PlanningModel) -> None:
    df = model.plan(20, 150, method="lazy", baselines=False).candidates
    assert df["reason"].str.contains("penduduk|banjir|kebakaran|pintu air|rumah sakit").all()
    assert df["reason_en"].str.contains("residents|flood|fires|water gate|hospital").all()


@pytest.mark.slow
def test_real_exact_at_least_greedy() -> None:
    m = PlanningModel.build(None, CoverageSettings())
    res = m.plan(25, 150, method="exact", time_limit_s=120)
    assert res.objective >= res.baselines["greedy"] - 1e-12
    assert res.objective <= res.upper_bound + 1e-12
    assert math.isfinite(res.objective)


def test_run_plan_with_built_model(model: PlanningModel) -> None:
    res = run_plan(model, budget=5, radius_m=150, method="lazy")
    assert len(res.candidates) == 5 and res.method == "lazy"


def test_what_if_function_matches_model(model: PlanningModel) -> None:
    a = what_if(7, 200, {"fire_2024": 1.0}, model=model)
    b = model.what_if(7, 200, {"fire_2024": 1.0})
    assert a.candidates["cell_id"].tolist() == b.candidates["cell_id"].tolist()
    # fire's weight is overridden (1.0 instead of 0.15), the other layers keep their defaults
    assert a.weights["fire_2024"] / a.weights["population"] == pytest.approx(1.0 / 0.25)
    assert set(a.weights) == set(model.layers.active())
    assert a.baselines.keys() == {"random", "populous"}
