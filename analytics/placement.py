"""Where should Jakarta's next CCTV cameras go: the maximal covering location problem (MCLP).

Given demand per grid cell (the weighted composite of :mod:`analytics.coverage`), the cells
already seen by today's cameras, and candidate sites (uncovered cell centroids inside Jakarta),
choose ``budget`` new sites that maximise the demand newly covered.

* ``exact``: integer programme solved by CBC (the binary shipped in the PuLP wheel, offline),
  warm-started from greedy and bounded by a time limit; reports whether optimality was proven.
* ``greedy``: coverage is monotone submodular, so greedy is within (1 - 1/e) of the optimum
  (Nemhauser, Wolsey and Fisher 1978); ``lazy`` (CELF, Leskovec et al. 2007) gives the same
  picks with far fewer gain evaluations. Each run also reports the data-dependent bound
  OPT <= f(S) + sum of the ``budget`` largest marginal gains at S, usually much tighter.
* baselines: ``random`` and ``populous`` (most-populous kelurahan first, camera at its centre).

Pure computation: numpy, pandas, pulp; no project imports besides :mod:`analytics.coverage`.
"""

from __future__ import annotations

import heapq
import io
import logging
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from analytics.coverage import (
    LAYERS,
    CameraReach,
    CoverageSettings,
    Grid,
    Layers,
    PlanningInputs,
    build_grid,
    build_layers,
    camera_reach,
    city_coverage,
    composite_demand,
    coverage_table,
    covered_cells,
    disc_offsets,
    load_inputs,
    normalised_weights,
    uncovered_hotspots,
)

log = logging.getLogger(__name__)

GREEDY_RATIO = 1.0 - 1.0 / math.e
METHODS = ("auto", "exact", "greedy", "lazy", "random", "populous")


# --------------------------------------------------------------------------------------------
# the covering problem
@dataclass
class Problem:
    """MCLP instance in CSR form.

    demand (C,) >= 0 per demand point; covered0 (C,) bool, already covered; cand (J,) an id per
    candidate (a grid cell index for grid problems); candidate j covers
    ``indices[indptr[j]:indptr[j + 1]]``.
    """

    demand: np.ndarray
    covered0: np.ndarray
    cand: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray

    def __post_init__(self) -> None:
        self.demand = np.asarray(self.demand, dtype=float)
        self.covered0 = np.asarray(self.covered0, dtype=bool)
        self.indptr = np.asarray(self.indptr, dtype=np.int64)
        self.indices = np.asarray(self.indices, dtype=np.int64)
        if len(self.indptr) != len(self.cand) + 1:
            raise ValueError("indptr must have one entry more than cand")
        self.row = np.repeat(np.arange(len(self.cand)), np.diff(self.indptr))

    @property
    def n_candidates(self) -> int:
        return len(self.cand)

    def residual0(self) -> np.ndarray:
        return np.where(self.covered0, 0.0, self.demand)

    def members(self, j: int) -> np.ndarray:
        return self.indices[self.indptr[j] : self.indptr[j + 1]]

    def gains(self, residual: np.ndarray) -> np.ndarray:
        """Marginal gain of every candidate for the given residual demand -> (J,)."""
        return np.bincount(self.row, weights=residual[self.indices], minlength=self.n_candidates)

    def objective(self, picks: Sequence[int] | np.ndarray) -> float:
        """Demand newly covered by the candidates ``picks`` (positions in cand)."""
        hit = np.zeros(len(self.demand), dtype=bool)
        for j in picks:
            hit[self.members(int(j))] = True
        return float(self.residual0()[hit].sum())

    @classmethod
    def from_sets(
        cls,
        demand: Sequence[float] | np.ndarray,
        sets: Sequence[Sequence[int]],
        covered0: Sequence[bool] | np.ndarray | None = None,
    ) -> Problem:
        """Small explicit instances (tests, examples): ``sets[j]`` = demand points candidate j covers."""
        lengths = [len(s) for s in sets]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        indices = np.array([i for s in sets for i in s], dtype=np.int64)
        cov = np.zeros(len(demand), dtype=bool) if covered0 is None else np.asarray(covered0, dtype=bool)
        return cls(np.asarray(demand, dtype=float), cov, np.arange(len(sets)), indptr, indices)


def grid_problem(
    grid: Grid, demand: np.ndarray, covered0: np.ndarray, radius_m: float, candidates: np.ndarray | None = None
) -> Problem:
    """Candidates = uncovered cells whose centroid lies inside Jakarta; coverage = disc of ``radius_m``."""
    cand = np.flatnonzero(grid.candidate & ~covered0) if candidates is None else np.asarray(candidates, dtype=np.int64)
    dx, dy, _ = disc_offsets(radius_m, grid.cell_m)
    ny, nx = grid.raster.shape
    cx = (grid.ix[cand] - grid.ix0)[:, None] + dx[None, :]
    cy = (grid.iy[cand] - grid.iy0)[:, None] + dy[None, :]
    ok = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
    cell = np.full(cx.shape, -1, dtype=np.int64)
    cell[ok] = grid.raster[cy[ok], cx[ok]]
    valid = cell >= 0
    indptr = np.concatenate([[0], np.cumsum(valid.sum(axis=1))]).astype(np.int64)
    return Problem(demand, covered0, cand, indptr, cell[valid])


@dataclass
class Selection:
    """Chosen candidates (positions in Problem.cand) in rank order with their marginal gains."""

    picks: np.ndarray
    gains: np.ndarray
    objective: float
    upper_bound: float
    method: str
    optimal: bool = False
    evaluations: int = 0
    seconds: float = 0.0
    note: str = ""

    @property
    def ratio_to_bound(self) -> float:
        return self.objective / self.upper_bound if self.upper_bound > 0 else 1.0


def _online_bound(problem: Problem, residual: np.ndarray, budget: int, value: float) -> float:
    """OPT <= f(S) + sum of the ``budget`` largest marginal gains at S (submodularity)."""
    g = problem.gains(residual)
    k = min(budget, len(g))
    top = np.partition(g, len(g) - k)[len(g) - k :] if k > 0 else np.zeros(0)
    return value + float(top.sum())


def greedy(problem: Problem, budget: int, lazy: bool = True) -> Selection:
    """Greedy MCLP (ties -> lowest candidate position). ``lazy`` = CELF; same picks, fewer evaluations.

    Guarantee: objective >= (1 - 1/e) * OPT. ``upper_bound`` = min(objective / (1 - 1/e), online bound).
    """
    t0 = time.perf_counter()
    residual = problem.residual0()
    budget = max(0, min(int(budget), problem.n_candidates))
    picks: list[int] = []
    gains: list[float] = []
    evals = 0
    if lazy:
        g0 = problem.gains(residual)
        evals += problem.n_candidates
        heap = [(-float(g), j, 0) for j, g in enumerate(g0)]
        heapq.heapify(heap)
        it = 0
        while len(picks) < budget and heap:
            neg, j, stamp = heapq.heappop(heap)
            if stamp == it:
                picks.append(j)
                gains.append(-neg)
                residual[problem.members(j)] = 0.0
                it += 1
                continue
            g = float(residual[problem.members(j)].sum())
            evals += 1
            heapq.heappush(heap, (-g, j, it))
    else:
        for _ in range(budget):
            all_gains = problem.gains(residual)
            evals += problem.n_candidates
            j = int(np.argmax(all_gains))
            picks.append(j)
            gains.append(float(all_gains[j]))
            residual[problem.members(j)] = 0.0
    value = float(sum(gains))
    bound = min(value / GREEDY_RATIO if value > 0 else 0.0, _online_bound(problem, residual, budget, value))
    return Selection(
        picks=np.array(picks, dtype=np.int64),
        gains=np.array(gains),
        objective=value,
        upper_bound=max(bound, value),
        method="lazy" if lazy else "greedy",
        optimal=value >= bound - 1e-12,
        evaluations=evals,
        seconds=time.perf_counter() - t0,
    )


def order_by_gain(problem: Problem, chosen: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank a chosen set by sequential marginal gain (largest first) -> (picks, gains)."""
    residual = problem.residual0()
    left = [int(j) for j in chosen]
    picks: list[int] = []
    gains: list[float] = []
    while left:
        vals = [float(residual[problem.members(j)].sum()) for j in left]
        i = int(np.argmax(vals))
        j = left.pop(i)
        picks.append(j)
        gains.append(vals[i])
        residual[problem.members(j)] = 0.0
    return np.array(picks, dtype=np.int64), np.array(gains)


def exact(
    problem: Problem, budget: int, time_limit_s: float = 60.0, warm_start: Selection | None = None, threads: int = 1
) -> Selection:
    """MCLP as an integer programme, solved by CBC (PuLP's bundled binary; runs offline).

    max sum_i w_i y_i  s.t.  y_i <= sum_{j covers i} x_j,  sum_j x_j <= budget,  x binary, 0 <= y <= 1.
    Only demand points with residual demand and candidates with positive gain enter the model.
    ``optimal`` is True when CBC proved optimality within ``time_limit_s``.
    """
    t0 = time.perf_counter()
    budget = max(0, min(int(budget), problem.n_candidates))
    residual = problem.residual0()
    g0 = problem.gains(residual)
    useful = np.flatnonzero(g0 > 0)
    if budget == 0 or len(useful) == 0:
        return Selection(np.zeros(0, dtype=np.int64), np.zeros(0), 0.0, 0.0, "exact", True, 0, time.perf_counter() - t0)
    if len(useful) <= budget:
        picks, gains = order_by_gain(problem, useful)
        return Selection(
            picks, gains, float(gains.sum()), float(gains.sum()), "exact", True, 0, time.perf_counter() - t0
        )
    mask = np.zeros(problem.n_candidates, dtype=bool)
    mask[useful] = True
    sel = mask[problem.row] & (residual[problem.indices] > 0)
    rows, cols = problem.row[sel], problem.indices[sel]
    demand_pts = np.unique(cols)
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = {int(j): pulp.LpVariable(f"x{int(j)}", cat=pulp.LpBinary) for j in useful}
    y = {int(i): pulp.LpVariable(f"y{int(i)}", lowBound=0, upBound=1) for i in demand_pts}
    prob += pulp.LpAffineExpression([(y[int(i)], float(residual[i])) for i in demand_pts])
    prob += pulp.LpAffineExpression([(v, 1.0) for v in x.values()]) <= budget, "budget"
    order = np.argsort(cols, kind="stable")
    cols_s, rows_s = cols[order], rows[order]
    starts = np.flatnonzero(np.r_[True, cols_s[1:] != cols_s[:-1]])
    ends = np.r_[starts[1:], len(cols_s)]
    for a, b in zip(starts, ends, strict=True):
        i = int(cols_s[a])
        terms = [(y[i], 1.0)] + [(x[int(j)], -1.0) for j in rows_s[a:b]]
        prob += pulp.LpAffineExpression(terms) <= 0
    if warm_start is not None and len(warm_start.picks):
        chosen = {int(j) for j in warm_start.picks}
        for j, v in x.items():
            v.setInitialValue(1 if j in chosen else 0)
        hit = np.zeros(len(problem.demand), dtype=bool)
        for j in chosen:
            hit[problem.members(j)] = True
        for i, v in y.items():
            v.setInitialValue(1 if hit[i] else 0)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, warmStart=warm_start is not None, threads=threads)
    status = prob.solve(solver)
    chosen_now = [j for j, v in x.items() if (v.value() or 0) > 0.5]
    optimal = status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal
    note = f"CBC status {pulp.LpStatus[status]}, solution {pulp.LpSolution.get(prob.sol_status, prob.sol_status)}"
    if warm_start is not None and problem.objective(chosen_now) < warm_start.objective - 1e-12:
        chosen_now = [int(j) for j in warm_start.picks]
        optimal = False
        note += "; kept the warm start (CBC returned worse)"
    picks, gains = order_by_gain(problem, chosen_now)
    value = float(gains.sum())
    bound = value if optimal else max(value, warm_start.upper_bound if warm_start is not None else value)
    return Selection(picks, gains, value, bound, "exact", optimal, 0, time.perf_counter() - t0, note)


def sequential_gains(problem: Problem, picks: Sequence[int] | np.ndarray) -> np.ndarray:
    """Marginal gain of each pick given the picks before it (in the given order) -> (len(picks),)."""
    residual = problem.residual0()
    out = np.zeros(len(picks))
    for n, j in enumerate(picks):
        m = problem.members(int(j))
        out[n] = float(residual[m].sum())
        residual[m] = 0.0
    return out


def random_baseline(problem: Problem, budget: int, seed: int = 0) -> Selection:
    """Uniformly random candidate sites (seeded), in draw order."""
    rng = np.random.default_rng(seed)
    k = max(0, min(int(budget), problem.n_candidates))
    picks = rng.choice(problem.n_candidates, size=k, replace=False).astype(np.int64)
    gains = sequential_gains(problem, picks)
    return Selection(picks, gains, float(gains.sum()), float("nan"), "random", False)


def populous_baseline(problem: Problem, grid: Grid, population_by_kel: np.ndarray, budget: int) -> Selection:
    """Most-populous kelurahan first: one camera per kelurahan in population order, at the candidate
    nearest the kelurahan's (area-weighted) centre; further rounds take the next-nearest candidate."""
    n_kel = len(population_by_kel)
    area = np.bincount(grid.pair_kel, weights=grid.pair_area, minlength=n_kel)
    safe = np.where(area > 0, area, 1.0)
    kx = np.bincount(grid.pair_kel, weights=grid.pair_area * grid.x[grid.pair_cell], minlength=n_kel) / safe
    ky = np.bincount(grid.pair_kel, weights=grid.pair_area * grid.y[grid.pair_cell], minlength=n_kel) / safe
    kel_of = grid.kel[problem.cand]
    j = np.flatnonzero(kel_of >= 0)
    k = kel_of[j]
    d = np.hypot(grid.x[problem.cand[j]] - kx[k], grid.y[problem.cand[j]] - ky[k])
    order = np.lexsort((j, d, k))  # by kelurahan, then distance to its centre, then position
    j, k = j[order], k[order]
    starts = np.r_[0, np.flatnonzero(k[1:] != k[:-1]) + 1]
    rank_in_kel = np.arange(len(k)) - np.repeat(starts, np.diff(np.r_[starts, len(k)]))
    kel_rank = np.empty(n_kel, dtype=np.int64)
    kel_rank[np.lexsort((np.arange(n_kel), -population_by_kel))] = np.arange(n_kel)
    # round r visits every kelurahan in population order: sort by (round, kelurahan rank)
    seq = np.lexsort((kel_rank[k], rank_in_kel))
    budget = max(0, min(int(budget), len(seq)))
    picks = j[seq[:budget]].astype(np.int64)
    gains = sequential_gains(problem, picks)
    return Selection(picks, gains, float(gains.sum()), float("nan"), "populous", False)


# --------------------------------------------------------------------------------------------
# model for Jakarta: precomputed once, then fast what-ifs
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

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        t = Table(title=f"Ranked sites: {self.method}, budget {self.budget}, radius {self.radius_m:.0f} m")
        for col in ("rank", "site", "kelurahan", "lat", "lon", "gain", "residents", "reason"):
            t.add_column(col, overflow="fold")
        for r in self.candidates.itertuples(index=False):
            t.add_row(
                str(r.rank),
                str(r.cell_id),
                str(r.nama_kelurahan),
                f"{r.lat:.5f}",
                f"{r.lon:.5f}",
                f"{100 * r.gain_total:.3f} pp",
                f"{r.gain_population:,.0f}",
                str(r.reason_en),
            )
        c = Table(title="Covered share of Jakarta's demand (city)")
        for col in ("layer", "before", "after", "change"):
            c.add_column(col)
        for k, v in self.before.items():
            c.add_row(k, f"{100 * v:.2f} %", f"{100 * self.after[k]:.2f} %", f"{100 * (self.after[k] - v):+.2f} pp")
        bl = Table(title="Objective (weighted share newly covered)")
        for col in ("plan", "objective", "vs this plan"):
            bl.add_column(col)
        bl.add_row(self.method, f"{100 * self.objective:.3f} pp", "100 %")
        for k, v in self.baselines.items():
            bl.add_row(k, f"{100 * v:.3f} pp", f"{100 * v / self.objective:.0f} %" if self.objective > 0 else "-")
        bl.add_row(
            "upper bound on optimum", f"{100 * self.upper_bound:.3f} pp", "proven optimal" if self.optimal else ""
        )
        return Group(t, c, bl, *[f"note: {n}" for n in self.notes])

    def to_text(self, width: int = 160) -> str:
        from rich.console import Console

        console = Console(width=width, record=True, file=io.StringIO())
        console.print(self)
        return console.export_text()


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


def placement_geojson(df: pd.DataFrame) -> dict[str, Any]:
    """``placement_candidates`` rows -> GeoJSON FeatureCollection of points (open-data release)."""
    data = df if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
    feats = []
    for rec in data.to_dict("records"):
        props = {}
        for k, v in rec.items():
            if k in ("lat", "lon"):
                continue
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            props[k] = v
        feats.append(
            {
                "type": "Feature",
                "id": rec.get("site_id"),
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(rec["lon"]), 6), round(float(rec["lat"]), 6)],
                },
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": feats}


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

    The result prints with rich (``console.print(result)``) or as text (``result.to_text()``).
    """
    model = lake_or_paths if isinstance(lake_or_paths, PlanningModel) else PlanningModel.build(lake_or_paths, settings)
    return model.plan(budget, radius_m, weights, method=method, time_limit_s=time_limit_s)
