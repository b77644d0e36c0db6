"""`pantau` command line. Every command here works; each has --help."""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestration.settings import load_settings

app = typer.Typer(
    help="Pantau: Jakarta CCTV + Jaki data platform.", no_args_is_help=True, pretty_exceptions_show_locals=False
)
console = Console()


DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: $PANTAU_DATA_DIR or ./pantau-data)")
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _settings(data_dir: Path | None) -> Any:
    s = load_settings(data_dir=data_dir)
    os.environ["PANTAU_DATA_DIR"] = str(s.data_dir)  # so Dagster resources launched from here agree
    return s


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


@app.command()
def migrate(data_dir: DataDirOpt = None) -> None:
    """Create or upgrade the lake schema (versioned migrations)."""
    from warehouse.lake import Lake
    from warehouse.migrations import current_version
    from warehouse.migrations import migrate as run_migrate

    s = _settings(data_dir)
    with Lake(s.lake_config()) as lake:
        applied = run_migrate(lake)
        console.print(f"schema version {current_version(lake)} ({len(applied)} migration(s) applied now)")


@app.command("load-reference")
def load_reference(data_dir: DataDirOpt = None) -> None:
    """Load the shipped Jakarta reference data into the lake (replaces reference tables)."""
    from ingest.reference.pipeline import load_reference_data
    from warehouse.lake import Lake
    from warehouse.migrations import migrate as run_migrate

    s = _settings(data_dir)
    with Lake(s.lake_config()) as lake:
        run_migrate(lake)
        loads = load_reference_data(lake, progress=lambda t: console.print(f"  loading {t}"))
    table = Table("table", "rows", "source rows", "issues")
    for ld in loads:
        table.add_row(ld.table, str(ld.rows), str(ld.source_rows), str(ld.issues))
    console.print(table)


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run read-only over the lakehouse")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format")] = OutputFormat.table,
    limit: Annotated[int, typer.Option(help="Max rows shown in table format (0 = all)")] = 100,
    data_dir: DataDirOpt = None,
) -> None:
    """Run a read-only SQL query over the lakehouse (safe while the pipeline writes).

    Example: pantau sql "SELECT kota, count(*) FROM cameras GROUP BY 1"
    """
    import duckdb

    from warehouse.lake import Lake, LakeError

    s = _settings(data_dir)
    try:
        with Lake(s.lake_config(), read_only=True) as lake:
            result = lake.query(query)
    except (duckdb.Error, LakeError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    names = result.column_names
    rows = result.to_pylist()
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps([{k: _jsonable(v) for k, v in r.items()} for r in rows], ensure_ascii=False))
        sys.stdout.write("\n")
    elif fmt is OutputFormat.csv:
        w = csv.writer(sys.stdout)
        w.writerow(names)
        for r in rows:
            w.writerow([_jsonable(r[n]) for n in names])
    else:
        table = Table(*names)
        shown = rows if limit == 0 else rows[:limit]
        for r in shown:
            table.add_row(*["" if r[n] is None else str(r[n]) for n in names])
        console.print(table)
        if len(shown) < len(rows):
            console.print(f"({len(rows)} rows, {len(shown)} shown; use --limit 0 or --format csv for all)")


@app.command()
def tables(data_dir: DataDirOpt = None) -> None:
    """List lake tables with row counts."""
    from warehouse.lake import Lake, ident

    s = _settings(data_dir)
    with Lake(s.lake_config(), read_only=True) as lake:
        t = Table("table", "rows")
        for name in lake.tables():
            t.add_row(name, str(lake.scalar(f"SELECT count(*) FROM {ident(name)}")))
    console.print(t)


@app.command()
def compact(
    table: Annotated[str | None, typer.Option(help="Only this table")] = None, data_dir: DataDirOpt = None
) -> None:
    """Merge small Parquet files of the lake and delete files no snapshot needs."""
    from warehouse.lake import Lake

    s = _settings(data_dir)
    with Lake(s.lake_config()) as lake:
        console.print(lake.compact(table))


@app.command()
def demo(
    data_dir: DataDirOpt = None,
    keep: Annotated[bool, typer.Option(help="Keep an existing data dir instead of rebuilding it")] = False,
    seconds: Annotated[int, typer.Option(help="Seconds of simulated camera capture")] = 60,
    dashboard: Annotated[bool, typer.Option(help="Start the dashboards at the end and keep running")] = False,
) -> None:
    """Run the main job on the embedded default: build ./pantau-data from scratch and report."""
    from orchestration.demo import run_demo

    s = _settings(data_dir)
    ok = run_demo(s, console=console, fresh=not keep, seconds=seconds, dashboard=dashboard)
    if not ok:
        raise typer.Exit(1)


@app.command()
def dev(data_dir: DataDirOpt = None, port: Annotated[int, typer.Option(help="Webserver port")] = 3000) -> None:
    """Start `dagster dev` (webserver + daemon) on the one Definitions entry point."""
    s = _settings(data_dir)
    env = dict(os.environ)
    env["PANTAU_DATA_DIR"] = str(s.data_dir)
    home = Path(s.data_dir).resolve() / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    env.setdefault("DAGSTER_HOME", str(home))
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions", "-p", str(port)]
    raise typer.Exit(subprocess.call(cmd, env=env))


class PlanMethod(StrEnum):
    lazy = "lazy"
    greedy = "greedy"
    exact = "exact"
    auto = "auto"
    random = "random"
    populous = "populous"


@app.command()
def plan(
    budget: Annotated[int, typer.Option("--budget", "-n", help="Number of new cameras to place")] = 100,
    radius: Annotated[float, typer.Option(help="Camera coverage radius, metres")] = 150.0,
    method: Annotated[PlanMethod, typer.Option(help="Solver or baseline")] = PlanMethod.lazy,
    time_limit: Annotated[float, typer.Option(help="Time limit of the exact solver, seconds")] = 60.0,
    from_files: Annotated[bool, typer.Option(help="Use the shipped reference files instead of the lake")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Rank sites for the next N cameras and print coverage before and after (maximal covering)."""
    from analytics.placement import run_plan
    from warehouse.lake import Lake

    if from_files:
        console.print(run_plan(None, budget=budget, radius_m=radius, method=method.value, time_limit_s=time_limit))
        return
    s = _settings(data_dir)
    with Lake(s.lake_config(), read_only=True) as lake:
        res = run_plan(lake, budget=budget, radius_m=radius, method=method.value, time_limit_s=time_limit)
    console.print(res)


@app.command()
def simulate(
    cameras: Annotated[int, typer.Option(help="Simulated cameras (mapped onto real camera sites)")] = 24,
    seed: Annotated[int, typer.Option(help="Scene seed")] = 0,
    duration: Annotated[float, typer.Option(help="Length of the scripted incident timeline, seconds")] = 60.0,
    port: Annotated[int, typer.Option(help="HTTP port on 127.0.0.1")] = 8554,
    hls: Annotated[int, typer.Option(help="How many cameras also serve HLS (FFmpeg segments)")] = 2,
    rtsp: Annotated[int, typer.Option(help="How many cameras also serve RTSP")] = 0,
    width: Annotated[int, typer.Option(help="Frame width")] = 640,
    height: Annotated[int, typer.Option(help="Frame height")] = 360,
    fps: Annotated[float, typer.Option(help="Frames per second")] = 10.0,
    serve_s: Annotated[float | None, typer.Option("--serve-s", help="Stop after this many seconds")] = None,
) -> None:
    """Serve simulated Jakarta street cameras on loopback (MJPEG, snapshot, HLS, RTSP) with ground truth."""
    from ingest.simulate.serve import run_simulator

    run_simulator(
        cameras, seed=seed, duration_s=duration, port=port, hls_cameras=hls, rtsp_cameras=rtsp,
        width=width, height=height, fps=fps, serve_s=serve_s,
    )  # fmt: skip


def main() -> None:
    app()


if __name__ == "__main__":
    main()
