"""``pantau plan`` output: a placement run as rich tables (ranked sites, coverage before/after, baselines)."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.table import Table

from analytics.planning import PlanResult


def plan_renderable(res: PlanResult) -> Group:
    """Ranked sites, the city's covered share per layer before and after, and the objective against baselines."""
    t = Table(title=f"Ranked sites: {res.method}, budget {res.budget}, radius {res.radius_m:.0f} m")
    for col in ("rank", "site", "kelurahan", "lat", "lon", "gain", "residents", "reason"):
        t.add_column(col, overflow="fold")
    for r in res.candidates.itertuples(index=False):
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
    for k, v in res.before.items():
        c.add_row(k, f"{100 * v:.2f} %", f"{100 * res.after[k]:.2f} %", f"{100 * (res.after[k] - v):+.2f} pp")
    bl = Table(title="Objective (weighted share newly covered)")
    for col in ("plan", "objective", "vs this plan"):
        bl.add_column(col)
    bl.add_row(res.method, f"{100 * res.objective:.3f} pp", "100 %")
    for k, v in res.baselines.items():
        bl.add_row(k, f"{100 * v:.3f} pp", f"{100 * v / res.objective:.0f} %" if res.objective > 0 else "-")
    bl.add_row("upper bound on optimum", f"{100 * res.upper_bound:.3f} pp", "proven optimal" if res.optimal else "")
    return Group(t, c, bl, *[f"note: {n}" for n in res.notes])


def plan_text(res: PlanResult, width: int = 160) -> str:
    """:func:`plan_renderable` as plain text."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(plan_renderable(res))
    return console.export_text()
