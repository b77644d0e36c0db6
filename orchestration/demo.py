"""The demo: the main job on the embedded default, step by step, with a readable summary.

Each step is a small function; later capabilities add steps. The Dagster part runs the real
asset jobs in-process against a persistent Dagster instance under ``<data_dir>/dagster`` so the
runs and materialisations show up in `pantau dev` afterwards.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from orchestration.settings import PantauSettings


@dataclass
class DemoContext:
    settings: PantauSettings
    console: Console
    seconds: int
    facts: dict[str, Any] = field(default_factory=dict)


Step = Callable[[DemoContext], None]


def _dagster_instance(settings: PantauSettings) -> Any:
    import dagster as dg

    home = Path(settings.data_dir).resolve() / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def step_reference(ctx: DemoContext) -> None:
    """Migrate the lake and load the Jakarta reference data through the Dagster job."""
    os.environ["PANTAU_DATA_DIR"] = str(ctx.settings.data_dir)
    from orchestration.definitions import defs

    instance = _dagster_instance(ctx.settings)
    job = defs.resolve_job_def("reference_job")
    result = job.execute_in_process(instance=instance)
    if not result.success:
        raise RuntimeError("reference_job failed")
    ctx.facts["reference_run_id"] = result.run_id


STEPS: list[tuple[str, Step]] = [
    ("Lake schema + Jakarta reference data", step_reference),
]


def summary(ctx: DemoContext) -> None:
    from warehouse.lake import Lake, ident

    s = ctx.settings
    with Lake(s.lake_config(), read_only=True) as lake:
        t = Table("table", "rows", title="Lakehouse tables")
        for name in lake.tables():
            n = lake.scalar(f"SELECT count(*) FROM {ident(name)}")
            t.add_row(name, f"{n:,}")
        ctx.console.print(t)
        cams = lake.query(
            "SELECT k.nama_kota AS kota, sum(k.population) AS population, "
            "sum((SELECT count(*) FROM cameras c WHERE c.kelurahan_code = k.kode_kelurahan)) AS cameras "
            "FROM kelurahan k GROUP BY 1 ORDER BY 1"
        ).to_pylist()
        t2 = Table("kota", "cameras", "population (2019)", title="Cameras by kota")
        for r in cams:
            t2.add_row(r["kota"], str(r["cameras"]), f"{int(r['population'] or 0):,}")
        ctx.console.print(t2)
        snap = lake.snapshot_id()
    root = Path(s.data_dir).resolve()
    ctx.console.print(f"Lake catalog : {s.lake_config().catalog_path.resolve()} (snapshot {snap})")
    ctx.console.print(f"Parquet data : {root / 'lake' / 'data'}")
    ctx.console.print(f"Object store : {root / 'store'}")
    ctx.console.print('Try          : pantau sql "SELECT kota, count(*) FROM cameras GROUP BY 1"')
    ctx.console.print("Dagster UI   : pantau dev   (runs of this demo are recorded there)")


def run_demo(
    settings: PantauSettings,
    *,
    console: Console | None = None,
    fresh: bool = True,
    seconds: int = 60,
    dashboard: bool = False,
) -> bool:
    console = console or Console()
    root = Path(settings.data_dir)
    if fresh and root.exists():
        console.print(f"Removing previous {root}/ (use --keep to keep it)")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(settings=settings, console=console, seconds=seconds)
    t0 = time.perf_counter()
    for i, (title, step) in enumerate(STEPS, start=1):
        console.rule(f"[bold]{i}/{len(STEPS)} {title}")
        t = time.perf_counter()
        with console.status(title):
            step(ctx)
        console.print(f"[green]done[/green] in {time.perf_counter() - t:.1f} s")
    console.rule("[bold]Summary")
    summary(ctx)
    console.print(f"Demo finished in {time.perf_counter() - t0:.1f} s")
    return True
