"""The planning model for Jakarta: grid, layers and camera reach built once, then fast what-ifs and plans."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.planning.coverage import (
    CameraReach,
    camera_reach,
    city_coverage,
    coverage_table,
    covered_cells,
    uncovered_hotspots,
)
from analytics.planning.grid import Grid, build_grid
from analytics.planning.inputs import (
    PlanningInputs,
    load_inputs,
)
from analytics.planning.layers import (
    LAYERS,
    CoverageSettings,
    Layers,
    build_layers,
    composite_demand,
    normalised_weights,
)
from analytics.planning.mclp import (
    METHODS,
    Problem,
    Selection,
    exact,
    greedy,
    grid_problem,
    populous_baseline,
    random_baseline,
)

log = logging.getLogger(__name__)


_REASON = {
    "population": ("±{v:,.0f} penduduk belum terpantau", "~{v:,.0f} residents not yet covered"),
    "flood_2024": ("{kel} mencatat {k:,.0f} kejadian banjir 2024", "{kel_en} recorded {k:,.0f} flood events in 2024"),
    "flood_2017": ("area tergenang banjir Februari 2017", "flooded in February 2017"),
    "fire_2024": ("{kel} mencatat {k:,.0f} kebakaran 2024", "{kel_en} recorded {k:,.0f} fires in 2024"),
    "jaki_complaints": ("{v:,.0f} aduan Jaki di sekitar", "{v:,.0f} Jaki complaints nearby"),
    "jaki_panic": ("{v:,.0f} tombol darurat Jaki di sekitar", "{v:,.0f} Jaki panic-button presses nearby"),
    "crowd": ("risiko kerumunan teramati di kamera sekitar", "crowd risk observed at nearby cameras"),
    "hospital": ("dekat rumah sakit", "near a hospital"),
    "floodgate": ("dekat pintu air", "near a water gate"),
    "public_space": ("dekat ruang publik (RPTRA)", "near a public space (RPTRA)"),
}


@dataclass
class PlanResult:
    """One placement run. ``candidates`` has the ``placement_candidates`` columns."""

    candidates: pd.DataFrame
    before: dict[str, float]
    after: dict[str, float]
    objective: float
    upper_bound: float
    optimal: bool
    method: str
    budget: int
    radius_m: float
    weights: dict[str, float]
    baselines: dict[str, float]
    seconds: float
    run_id: str
    notes: list[str] = field(default_factory=list)
    covered_before: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)
    covered_after: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)
    model: PlanningModel | None = field(default=None, repr=False)

    def coverage_change(self, level: str = "kota") -> pd.DataFrame:
        """Covered share per layer by area before and after the new cameras."""
        if self.model is None:
            raise ValueError("no model attached")
        m = self.model
        b = coverage_table(m.grid, m.layers, self.covered_before, level, self.weights)
        a = coverage_table(m.grid, m.layers, self.covered_after, level, self.weights)
        key = list(b.columns[:3])
        out = b.merge(a[[*key, "covered_share"]], on=key, suffixes=("_before", "_after"))
        return out.rename(columns={"covered_share_before": "before", "covered_share_after": "after"})[
            [*key, "demand", "before", "after"]
        ]


@dataclass
class PlanningModel:
    """Grid, demand layers and camera reach, built once; every what-if reuses them."""

    grid: Grid
    layers: Layers
    reach: CameraReach
    settings: CoverageSettings
    source: str = ""
    _covered: dict[float, np.ndarray] = field(default_factory=dict, repr=False)
    _problems: dict[tuple[float, tuple[tuple[str, float], ...]], Problem] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, source: Any = None, settings: CoverageSettings | None = None, max_radius_m: float = 600.0
    ) -> PlanningModel:
        """``source``: reference-data folder, lake handle, or :class:`PlanningInputs` (None = repo files)."""
        s = settings or CoverageSettings()
        inputs = source if isinstance(source, PlanningInputs) else load_inputs(source)
        grid = build_grid(inputs.kelurahan, s.cell_m, s.min_inside_share)
        layers = build_layers(grid, inputs, s)
        reach = camera_reach(grid, inputs.cameras, s, max_radius_m=max(max_radius_m, s.radius_m))
        log.info(
            "planning model: %d cells, %d candidates, %d cameras", grid.n, int(grid.candidate.sum()), reach.n_cameras
        )
        return cls(grid, layers, reach, s, inputs.source)

    @property
    def notes(self) -> list[str]:
        return self.layers.notes

    def weights(self, weights: Mapping[str, float] | None = None) -> dict[str, float]:
        return normalised_weights(self.layers, self.settings.with_weights(weights).weights)

    def covered(self, radius_m: float | None = None) -> np.ndarray:
        r = float(radius_m if radius_m is not None else self.settings.radius_m)
        if r > self.reach.max_radius_m:
            raise ValueError(f"radius {r} m exceeds the precomputed reach {self.reach.max_radius_m} m")
        if r not in self._covered:
            self._covered[r] = covered_cells(self.grid, self.reach, r, self.settings)
        return self._covered[r]

    def problem(self, radius_m: float | None = None, weights: Mapping[str, float] | None = None) -> Problem:
        r = float(radius_m if radius_m is not None else self.settings.radius_m)
        w = self.weights(weights)
        key = (r, tuple(sorted(w.items())))
        if key not in self._problems:
            if len(self._problems) > 32:
                self._problems.clear()
            demand = composite_demand(self.layers, w)
            self._problems[key] = grid_problem(self.grid, demand, self.covered(r), r)
        return self._problems[key]

    def population_by_kel(self) -> np.ndarray:
        return np.bincount(
            self.grid.pair_kel, weights=self.layers.pair["population"], minlength=len(self.grid.kel_table)
        )

    def solve(
        self, problem: Problem, budget: int, method: str = "lazy", time_limit_s: float = 60.0, seed: int = 0
    ) -> Selection:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
        if method in ("lazy", "greedy"):
            return greedy(problem, budget, lazy=method == "lazy")
        if method == "random":
            return random_baseline(problem, budget, seed)
        if method == "populous":
            return populous_baseline(problem, self.grid, self.population_by_kel(), budget)
        warm = greedy(problem, budget, lazy=True)
        if method == "auto" and warm.optimal:
            warm.method = "exact"
            return warm
        return exact(problem, budget, time_limit_s=time_limit_s, warm_start=warm)

    def plan(
        self,
        budget: int,
        radius_m: float | None = None,
        weights: Mapping[str, float] | None = None,
        method: str = "lazy",
        time_limit_s: float = 60.0,
        baselines: bool = True,
        run_id: str | None = None,
        seed: int = 0,
    ) -> PlanResult:
        t0 = time.perf_counter()
        r = float(radius_m if radius_m is not None else self.settings.radius_m)
        w = self.weights(weights)
        prob = self.problem(r, w)
        sel = self.solve(prob, budget, method, time_limit_s, seed)
        before_mask = self.covered(r)
        after_mask = before_mask.copy()
        for j in sel.picks:
            after_mask[prob.members(int(j))] = True
        base: dict[str, float] = {}
        if baselines:
            base["random"] = float(np.mean([random_baseline(prob, budget, seed + s).objective for s in range(5)]))
            base["populous"] = populous_baseline(prob, self.grid, self.population_by_kel(), budget).objective
            if sel.method != "lazy" and method not in ("random", "populous"):
                base["greedy"] = greedy(prob, budget, lazy=True).objective
        rid = run_id or uuid.uuid4().hex[:12]
        table = self.candidate_table(prob, sel, w, budget, r, rid)
        notes = list(self.notes)
        if sel.note:
            notes.append(sel.note)
        return PlanResult(
            candidates=table,
            before=city_coverage(self.layers, before_mask, w),
            after=city_coverage(self.layers, after_mask, w),
            objective=sel.objective,
            upper_bound=sel.upper_bound,
            optimal=sel.optimal,
            method=sel.method,
            budget=int(budget),
            radius_m=r,
            weights=w,
            baselines=base,
            seconds=time.perf_counter() - t0,
            run_id=rid,
            notes=notes,
            covered_before=before_mask,
            covered_after=after_mask,
            model=self,
        )

    def what_if(
        self, budget: int, radius_m: float | None = None, weights: Mapping[str, float] | None = None
    ) -> PlanResult:
        """Dashboard what-if: lazy greedy with baselines; reuses the precomputed model (well under 2 s)."""
        return self.plan(budget, radius_m, weights, method="lazy", baselines=True)

    def candidate_table(
        self, prob: Problem, sel: Selection, w: Mapping[str, float], budget: int, radius_m: float, run_id: str
    ) -> pd.DataFrame:
        g = self.grid
        kt = g.kel_table
        kcode = kt["kode_kelurahan"].to_numpy(dtype=object)
        kname = kt["nama_kelurahan"].to_numpy(dtype=object)
        kkec = kt["nama_kecamatan"].to_numpy(dtype=object)
        kkota = kt["nama_kota"].to_numpy(dtype=object)
        kel_tot = {k: np.bincount(g.pair_kel, weights=self.layers.pair[k], minlength=len(kt)) for k in LAYERS}
        totals = {k: float(self.layers.cell[k].sum()) for k in LAYERS}
        covered = prob.covered0.copy()
        pair_order = np.argsort(g.pair_cell, kind="stable")
        pair_start = np.searchsorted(g.pair_cell[pair_order], np.arange(g.n + 1))
        rows = []
        for rank, (j, gain) in enumerate(zip(sel.picks, sel.gains, strict=True), start=1):
            members = prob.members(int(j))
            new = members[~covered[members]]
            covered[members] = True
            cell = int(prob.cand[int(j)])
            k = int(g.kel[cell])
            per_layer = {name: float(self.layers.cell[name][new].sum()) for name in LAYERS}
            contrib = {name: w[name] * per_layer[name] / totals[name] for name in w if totals[name] > 0}
            pairs = (
                np.concatenate([pair_order[pair_start[c] : pair_start[c + 1]] for c in new])
                if len(new)
                else np.zeros(0, dtype=np.int64)
            )
            kel_ctx: dict[str, tuple[str, float]] = {}
            for name in ("flood_2024", "fire_2024"):
                vals = self.layers.pair[name][pairs]
                if len(vals) and vals.max() > 0:
                    kk = int(g.pair_kel[pairs[int(np.argmax(vals))]])
                    kel_ctx[name] = (str(kname[kk]), float(kel_tot[name][kk]))
            nama = kname[k] if k >= 0 else None
            rid_, ren = _reason(per_layer, contrib, kel_ctx, nama)
            cell_id = str(g.cell_ids([cell])[0])
            rows.append(
                {
                    "rank": rank,
                    "site_id": f"site-{cell_id}",
                    "lat": float(g.lat[cell]),
                    "lon": float(g.lon[cell]),
                    "kode_kelurahan": kcode[k] if k >= 0 else None,
                    "nama_kelurahan": nama,
                    "nama_kecamatan": kkec[k] if k >= 0 else None,
                    "nama_kota": kkota[k] if k >= 0 else None,
                    "cell_id": cell_id,
                    "gain_total": float(gain),
                    **{f"gain_{n}": per_layer[n] for n in LAYERS},
                    "reason": f"{nama or 'Jakarta'}: {rid_}",
                    "reason_en": f"{nama or 'Jakarta'}: {ren}",
                    "method": sel.method,
                    "budget": int(budget),
                    "radius_m": float(radius_m),
                    "run_id": run_id,
                }
            )
        cols = [
            "rank",
            "site_id",
            "lat",
            "lon",
            "kode_kelurahan",
            "nama_kelurahan",
            "nama_kecamatan",
            "nama_kota",
            "cell_id",
            "gain_total",
            *[f"gain_{n}" for n in LAYERS],
            "reason",
            "reason_en",
            "method",
            "budget",
            "radius_m",
            "run_id",
        ]
        return pd.DataFrame(rows, columns=cols)

    def coverage_kelurahan(
        self, radius_m: float | None = None, weights: Mapping[str, float] | None = None
    ) -> pd.DataFrame:
        """Rows for the ``coverage_kelurahan`` table (today's cameras)."""
        r = float(radius_m if radius_m is not None else self.settings.radius_m)
        out = coverage_table(self.grid, self.layers, self.covered(r), "kelurahan", self.weights(weights))
        out["radius_m"] = r
        return out

    def hotspots(
        self, top: int = 20, radius_m: float | None = None, weights: Mapping[str, float] | None = None
    ) -> pd.DataFrame:
        return uncovered_hotspots(self.grid, self.layers, self.covered(radius_m), self.weights(weights), top)

    def sensitivity(
        self,
        budget: int,
        radius_m: float | None = None,
        weights: Mapping[str, float] | None = None,
        radius_deltas: Sequence[float] = (-50.0, 50.0),
        weight_factors: Sequence[float] = (0.5, 2.0),
        near_m: float = 250.0,
    ) -> pd.DataFrame:
        """How stable the top-``budget`` ranking is under perturbed radius and weights.

        jaccard: |A n B| / |A u B| of the site sets; overlap_near: share of the base sites with a
        perturbed site within ``near_m``; objective: the perturbed plan's objective under its own weights.
        """
        r = float(radius_m if radius_m is not None else self.settings.radius_m)
        w = self.weights(weights)
        base_prob = self.problem(r, w)
        base = greedy(base_prob, budget)
        base_cells = base_prob.cand[base.picks]
        cases: list[tuple[str, float, dict[str, float]]] = []
        for d in radius_deltas:
            if 0 < r + d <= self.reach.max_radius_m:
                cases.append((f"radius {r + d:.0f} m", r + d, w))
        for name in w:
            for f in weight_factors:
                cases.append((f"{name} weight x{f:g}", r, {**w, name: w[name] * f}))
        rows = []
        for label, rr, ww in cases:
            p = self.problem(rr, ww)
            s = greedy(p, budget)
            cells = p.cand[s.picks]
            a, b = set(base_cells.tolist()), set(cells.tolist())
            jac = len(a & b) / len(a | b) if a | b else 1.0
            if len(base_cells) and len(cells):
                d = np.hypot(
                    self.grid.x[base_cells][:, None] - self.grid.x[cells][None, :],
                    self.grid.y[base_cells][:, None] - self.grid.y[cells][None, :],
                )
                near = float((d.min(axis=1) <= near_m).mean())
            else:
                near = 1.0
            rows.append(
                {"perturbation": label, "radius_m": rr, "jaccard": jac, "overlap_near": near, "objective": s.objective}
            )
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
def _reason(
    per_layer: Mapping[str, float],
    contrib: Mapping[str, float],
    kel_ctx: Mapping[str, tuple[str, float]],
    site_kel: str | None = None,
    top: int = 3,
) -> tuple[str, str]:
    """Bahasa Indonesia and English reason from the layers that contribute most to a site's gain.

    ``kel_ctx[layer] = (kelurahan name, kelurahan total)`` names the kelurahan whose records the site covers.
    """
    lead = sorted((c, n) for n, c in contrib.items() if c > 0)[::-1][:top]
    ids, ens = [], []
    for _, name in lead:
        t_id, t_en = _REASON[name]
        kel_name, kel_total = kel_ctx.get(name, ("", 0.0))
        if kel_name and kel_name == site_kel:
            kel_name = ""
        fmt = {
            "v": per_layer[name],
            "k": kel_total,
            "kel": kel_name or "kelurahan ini",
            "kel_en": kel_name or "this kelurahan",
        }
        ids.append(t_id.format(**fmt))
        ens.append(t_en.format(**fmt))
    if not ids:
        return "tidak menambah cakupan", "adds no coverage"
    return "; ".join(ids), "; ".join(ens)


_MODEL_CACHE: dict[str, PlanningModel] = {}


def what_if(
    budget: int,
    radius_m: float = 150.0,
    weights: Mapping[str, float] | None = None,
    model: PlanningModel | None = None,
) -> PlanResult:
    """Pure what-if for the planning page: ranked sites, coverage before/after, baselines.

    Pass a ``model`` (``PlanningModel.build(lake)`` cached by the page); without one, the repo's
    reference files are used and the model is built once per process. ``weights`` override the
    default weights layer by layer (layers not named keep their default); ``radius_m`` <= 600.
    """
    if model is None:
        if "files" not in _MODEL_CACHE:
            _MODEL_CACHE["files"] = PlanningModel.build(None)
        model = _MODEL_CACHE["files"]
    return model.what_if(budget, radius_m, weights)


def run_plan(
    lake_or_paths: Any = None,
    budget: int = 100,
    radius_m: float = 150.0,
    method: str = "lazy",
    weights: Mapping[str, float] | None = None,
    time_limit_s: float = 60.0,
    settings: CoverageSettings | None = None,
) -> PlanResult:
    """``pantau plan``: build the model from the lake (or reference folder, or reuse a built
    :class:`PlanningModel`) and rank ``budget`` sites.

    ``pantau plan`` prints the result with ``orchestration.plan_report``.
    """
    model = lake_or_paths if isinstance(lake_or_paths, PlanningModel) else PlanningModel.build(lake_or_paths, settings)
    return model.plan(budget, radius_m, weights, method=method, time_limit_s=time_limit_s)
