"""Placement benchmark: time to rank 100 and 1,000 new camera sites over all of Jakarta,
and exact (CBC) versus greedy objective values.

Run: .venv/bin/python bench/bench_placement.py [--exact-limit 120] [--budgets 100 1000]
"""

from __future__ import annotations

import argparse
import time

from analytics.planning import (
    CoverageSettings,
    PlanningModel,
    exact,
    greedy,
    load_inputs_from_files,
    populous_baseline,
    random_baseline,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budgets", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--radius", type=float, default=150.0)
    ap.add_argument("--exact-limit", type=float, default=120.0, help="CBC time limit per budget (s)")
    ap.add_argument("--cell", type=float, default=125.0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    inputs = load_inputs_from_files()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = PlanningModel.build(inputs, CoverageSettings(cell_m=args.cell, radius_m=args.radius))
    t_build = time.perf_counter() - t0
    prob = model.problem(args.radius)
    print(f"reference files loaded in {t_load:.2f} s; model (grid, layers, camera reach) built in {t_build:.2f} s")
    print(
        f"grid {model.grid.n:,} cells of {args.cell:.0f} m, {prob.n_candidates:,} candidate sites, "
        f"{model.reach.n_cameras:,} cameras, radius {args.radius:.0f} m, composite covered today "
        f"{100 * float(prob.demand[prob.covered0].sum()):.2f} %"
    )
    print()
    hdr = f"{'budget':>6} {'method':<8} {'seconds':>8} {'objective (pp)':>15} {'upper bound':>12} {'vs exact':>9}  note"
    print(hdr)
    print("-" * len(hdr))
    for b in args.budgets:
        t0 = time.perf_counter()
        res = model.plan(b, args.radius, method="lazy", baselines=False)
        t_rank = time.perf_counter() - t0
        lazy = greedy(prob, b, lazy=True)
        plain = greedy(prob, b, lazy=False)
        ex = exact(prob, b, time_limit_s=args.exact_limit, warm_start=lazy)
        rnd = random_baseline(prob, b, seed=0)
        pop = populous_baseline(prob, model.grid, model.population_by_kel(), b)
        rows = [
            ("rank", t_rank, res.objective, res.upper_bound, "lazy greedy + table + reasons (what `pantau plan` does)"),
            ("lazy", lazy.seconds, lazy.objective, lazy.upper_bound, f"{lazy.evaluations:,} gain evaluations"),
            (
                "greedy",
                plain.seconds,
                plain.objective,
                plain.upper_bound,
                f"{plain.evaluations:,} gain evaluations; same picks: {plain.picks.tolist() == lazy.picks.tolist()}",
            ),
            (
                "exact",
                ex.seconds,
                ex.objective,
                ex.upper_bound,
                ("proven optimal" if ex.optimal else "time limit hit") + f"; {ex.note}",
            ),
            ("random", float("nan"), rnd.objective, float("nan"), "uniform random candidate cells"),
            ("populous", float("nan"), pop.objective, float("nan"), "most-populous kelurahan first, at its centre"),
        ]
        for name, sec, obj, ub, note in rows:
            vs = obj / ex.objective if ex.objective > 0 else float("nan")
            print(f"{b:>6} {name:<8} {sec:>8.2f} {100 * obj:>15.4f} {100 * ub:>12.4f} {100 * vs:>8.1f}%  {note}")
        print()
    t0 = time.perf_counter()
    for radius, weights in ((150.0, None), (200.0, None), (150.0, {"population": 1.0, "fire_2024": 0.5})):
        model.what_if(100, radius, weights)
    print(f"what-if (budget 100, 3 variants incl. a new radius): {(time.perf_counter() - t0) / 3:.2f} s each")
    t0 = time.perf_counter()
    sens = model.sensitivity(100, args.radius)
    print(f"sensitivity of the top-100 ({len(sens)} perturbations) in {time.perf_counter() - t0:.1f} s:")
    print(sens.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
