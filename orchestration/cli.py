"""`pantau` command line. Every command here works; each has --help."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestration.cli_cameras import cameras_app
from orchestration.cli_webhooks import webhooks_app
from orchestration.settings import PantauSettings, load_settings

app = typer.Typer(
    help="Pantau: Jakarta CCTV + Jaki data platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    pretty_exceptions_short=True,
)
console = Console(width=None if sys.stdout.isatty() else 140)


DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: $PANTAU_DATA_DIR or ./pantau-data)")
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


#: the settings loaded once when this invocation started (set by ``_main``)
_launch: dict[str, PantauSettings] = {}


def _settings(data_dir: Path | None) -> PantauSettings:
    """The settings loaded once when the command started, with its ``--data-dir`` applied."""
    s = _launch.get("settings") or load_settings()
    return s.model_copy(update={"data_dir": data_dir}) if data_dir is not None else s


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging")] = False) -> None:
    from orchestration.logging_config import configure_logging

    _launch["settings"] = s = load_settings()
    # a terminal command logs warnings only, unless a log level is configured (environment or config file)
    level = "DEBUG" if verbose else (s.log_level if "log_level" in s.model_fields_set else "WARNING")
    configure_logging(level=level, settings=s)


@app.command()
def migrate(data_dir: DataDirOpt = None) -> None:
    """Create or upgrade the lake schema (versioned migrations) and the ops database (Alembic revisions)."""
    from warehouse.lake import Lake
    from warehouse.migrations import current_version
    from warehouse.migrations import migrate as run_migrate

    s = _settings(data_dir)
    with Lake(s.lake_config()) as lake:
        applied = run_migrate(lake)
        console.print(f"schema version {current_version(lake)} ({len(applied)} migration(s) applied now)")
    _ops_db_upgrade(s.resolved_ops_db_url())


def _ops_db_upgrade(url: str) -> None:
    import sqlalchemy as sa

    from alerts.ops_schema import head_revision, upgrade_ops_db

    engine = sa.create_engine(url)
    try:
        start = upgrade_ops_db(engine)
    finally:
        engine.dispose()
    console.print(f"ops database at revision {head_revision()} (was {start or 'empty or made by create_all'})")


@app.command("load-reference")
def load_reference(data_dir: DataDirOpt = None) -> None:
    """Load the shipped Jakarta reference data into the lake (replaces reference tables)."""
    from alerts.cli_ops import cli_principal
    from ingest.reference.pipeline import load_reference_data
    from ingest.registry.audit import audit_registry_changes
    from warehouse.lake import Lake
    from warehouse.migrations import migrate as run_migrate

    s = _settings(data_dir)
    with Lake(s.lake_config()) as lake:
        run_migrate(lake)
        loads = load_reference_data(
            lake,
            progress=lambda t: console.print(f"  loading {t}"),
            audit=lambda changes: audit_registry_changes(s.resolved_ops_db_url(), changes, cli_principal("")),
        )
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
    # read-only means statements that only read: an ATTACH of another database file (the ops DB and its
    # audit log), DROP, COPY TO or SET never run from here
    try:
        kinds = {st.type for st in duckdb.extract_statements(query)}
    except duckdb.Error as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    refused = sorted(k.name for k in kinds - {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
    if refused or not kinds:
        console.print(f"[red]error:[/red] pantau sql runs read-only queries (SELECT); refused: {', '.join(refused)}")
        raise typer.Exit(1)
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
    table: Annotated[str | None, typer.Option(help="Only this table")] = None,
    target_mb: Annotated[float | None, typer.Option(help="Target file size, MB (default: the upkeep policy's)")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Merge small Parquet files of the lake up to the target size (what the hourly lake_compaction job runs)."""
    from warehouse.lake import Lake
    from warehouse.upkeep import compact_lake, policy_from_mapping

    s = _settings(data_dir)
    policy = policy_from_mapping(s.upkeep)
    with Lake(s.lake_config()) as lake:
        out = compact_lake(
            lake,
            target_file_mb=target_mb or policy.target_file_mb,
            delete_threshold=policy.delete_threshold,
            tables=[table] if table else None,
        )
    for e in out:
        console.print(f"{e['table']}: {e['files_before']} -> {e['files_after']} files")
    if not out:
        console.print("nothing to compact")


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


@app.command()
def capture(
    data_dir: DataDirOpt = None,
    shard: Annotated[str | None, typer.Option(help="This worker's shard i/n (stable hash of camera_id)")] = None,
    interval: Annotated[float, typer.Option(help="Seconds between samples per camera")] = 10.0,
    flush_every: Annotated[float, typer.Option(help="Seconds between landing micro-batches")] = 10.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until SIGTERM)")
    ] = None,
    cameras_file: Annotated[str | None, typer.Option(help="CSV/JSON camera list instead of the lake")] = None,
    camera_id: Annotated[list[str] | None, typer.Option(help="Only these cameras (repeatable)")] = None,
    max_threads: Annotated[int, typer.Option(help="Concurrent camera fetches")] = 32,
    public_keyframes: Annotated[bool, typer.Option(help="Write blurred public keyframes")] = True,
    lease: Annotated[
        bool, typer.Option(help="Claim cameras through PostgreSQL leases instead of a fixed shard")
    ] = False,
    lease_dsn: Annotated[str | None, typer.Option(help="Lease DB DSN (default: $PANTAU_LEASE_DSN or pg_dsn)")] = None,
    lease_ttl: Annotated[float, typer.Option(help="Lease time-to-live, seconds")] = 30.0,
    heartbeat: Annotated[float, typer.Option(help="Lease renewal interval, seconds")] = 10.0,
    metrics_port: Annotated[int, typer.Option(help="Prometheus metrics port (0 = off)")] = 0,
    worker_id: Annotated[str | None, typer.Option(help="Worker id (default: host-pid)")] = None,
    priority: Annotated[
        bool, typer.Option(help="Serve panic-button priority requests (camera_priority_requests) for these cameras")
    ] = True,
    priority_interval: Annotated[float, typer.Option(help="Seconds between samples while a request lasts")] = 1.0,
    priority_boost: Annotated[
        float, typer.Option(help="How long a served request raises the sampling rate, s")
    ] = 120.0,
    registry_poll: Annotated[
        float, typer.Option(help="Shard workers: seconds between registry checks (added/retired/changed cameras)")
    ] = 5.0,
) -> None:
    """Run a long-lived capture worker: sample, check health, score, land micro-batches (SIGTERM flushes).

    Scoring follows the scoring setting (PANTAU_SCORING): vision (default) or passthrough (no hazard detection).
    """
    from ingest.cameras.worker import run_capture_command
    from warehouse.lake import Lake

    s = _settings(data_dir)
    if lease:
        from ingest.cameras.leases import run_leased_capture_command
        from warehouse.lake import LakeError

        lake_config = s.lake_config()
        priority_lake = None
        if priority:  # writable, to mark the requests it serves; capture goes on without it, said loudly
            try:
                priority_lake = Lake(lake_config)
            except LakeError as exc:
                console.print(f"[yellow]priority requests not served: the lake is unavailable ({exc})[/yellow]")
        try:
            stats = run_leased_capture_command(
                None, s.object_store(), lease_dsn=lease_dsn or s.lease_dsn or s.pg_dsn, ttl_s=lease_ttl,
                heartbeat_s=heartbeat, interval_s=interval, flush_every_s=flush_every, duration_s=duration,
                cameras_file=cameras_file, max_threads=max_threads, metrics_port=metrics_port or s.metrics_port,
                public_keyframes=public_keyframes, worker_id=worker_id, scoring=s.scoring,
                lake_factory=lambda: Lake(lake_config, read_only=True), secrets_file=str(s.resolved_secrets_file()),
                priority_lake=priority_lake, priority_interval_s=priority_interval, priority_boost_s=priority_boost,
            )  # fmt: skip
        finally:
            if priority_lake is not None:
                priority_lake.close()
        console.print(stats)
        return
    # writable only to mark priority requests served; cameras are read, and re-read (fresh read-only handle) when
    # the registry changes
    lake_config = s.lake_config()
    with Lake(lake_config, read_only=not priority) as lake:
        stats = run_capture_command(
            lake, s.object_store(), shard=shard, interval_s=interval, flush_every_s=flush_every, duration_s=duration,
            cameras_file=cameras_file, camera_ids=camera_id, max_threads=max_threads, public_keyframes=public_keyframes,
            secrets_file=str(s.resolved_secrets_file()), scoring=s.scoring, priority=priority,
            priority_interval_s=priority_interval, priority_boost_s=priority_boost,
            lake_factory=lambda: Lake(lake_config, read_only=True), registry_poll_s=registry_poll,
        )  # fmt: skip
    console.print(stats)


@app.command("ingest-cameras")
def ingest_cameras(data_dir: DataDirOpt = None) -> None:
    """Turn newly landed camera micro-batches into lake rows, exactly once."""
    from ingest.cameras.landing import ingest_landed_batches
    from warehouse.lake import Lake

    s = _settings(data_dir)
    with Lake(s.lake_config()) as lake:
        console.print(ingest_landed_batches(lake, s.object_store()).as_dict())


@app.command("jaki-demo")
def jaki_demo(
    data_dir: DataDirOpt = None,
    day: Annotated[str | None, typer.Option(help="Simulated day YYYY-MM-DD (default: today, WIB)")] = None,
    events: Annotated[int, typer.Option(help="Usage events to generate")] = 200_000,
    malformed_share: Annotated[float, typer.Option(help="Share of deliberately malformed rows")] = 0.002,
) -> None:
    """Generate a day of synthetic Jaki activity as export files, ingest and validate it, print the accounting."""
    from datetime import date as date_cls

    from ingest.jaki.demo import run_jaki_demo
    from warehouse.lake import Lake
    from warehouse.migrations import migrate as run_migrate

    s = _settings(data_dir)
    try:
        d = date_cls.fromisoformat(day) if day else datetime.now().date()
    except ValueError:
        console.print(f"[red]error:[/red] bad --day {day!r}: use YYYY-MM-DD")
        raise typer.Exit(2) from None
    with Lake(s.lake_config()) as lake:
        run_migrate(lake)
        run_jaki_demo(
            lake, s.object_store(), d, events, salt=s.salt.get_secret_value(), malformed_share=malformed_share,
            console=console,
        )  # fmt: skip


@app.command()
def publish(
    data_dir: DataDirOpt = None,
    snapshot: Annotated[int | None, typer.Option(help="Lake snapshot id to release (default: latest)")] = None,
    version: Annotated[str | None, typer.Option(help="Release version (default: date + snapshot)")] = None,
    base_url: Annotated[str | None, typer.Option(help="Public base URL written into the metadata")] = None,
    force: Annotated[bool, typer.Option(help="Publish even if the data equal the previous release")] = False,
    threshold: Annotated[int | None, typer.Option(help="Suppress Jaki counts below this")] = None,
) -> None:
    """Build a versioned, privacy-safe open-data release from a lake snapshot and publish it to the store."""
    from rich import print_json

    from open_data.publish import run_publish
    from warehouse.lake import Lake

    s = _settings(data_dir)
    with Lake(s.lake_config()) as lake:
        summary = run_publish(
            lake, s.object_store(), snapshot, version=version, base_url=base_url or s.open_data_base_url,
            force=force, threshold=threshold if threshold is not None else s.open_data_threshold,
        )  # fmt: skip
    print_json(data=summary, default=str)


@app.command("serve-api")
def serve_api(
    data_dir: DataDirOpt = None,
    root: Annotated[
        Path | None, typer.Option(help="Folder holding releases/ (default: the configured object store)")
    ] = None,
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8765,
    metrics: Annotated[bool, typer.Option(help="Expose Prometheus metrics at /metrics")] = True,
    threads: Annotated[int, typer.Option(help="DuckDB threads for datastore_search")] = 2,
    memory_limit: Annotated[str, typer.Option(help="DuckDB buffer memory limit, e.g. 1GB")] = "1GB",
) -> None:
    """Serve the open-data portal, the CKAN-compatible read API, the public zone and the public alert feeds
    (/alerts/feed.atom, /alerts/<id>.cap.xml, /alerts/map, POST /alerts/<id>/ack?token=...)."""
    import uvicorn

    from alerts.db import OpsDB
    from alerts.http import alert_routes
    from ingest.cameras.metrics import instrument_asgi
    from open_data.api import create_app
    from warehouse.object_store import LocalObjectStore

    s = _settings(data_dir)
    store = LocalObjectStore(root) if root else s.object_store()  # folder or S3, as configured
    # the alert feeds, CAP files, public alert map and acknowledgement links beside the open data
    routes = alert_routes(store, ops=OpsDB(s.resolved_ops_db_url()), ack_secret=s.ack_secret.get_secret_value())
    app_ = create_app(
        store,
        threads=threads,
        memory_limit=memory_limit,
        extra_routes=routes,
        rate=s.api_rate,
        burst=s.api_burst,
        trust_forwarded_for=s.api_behind_proxy,
    )
    # uvicorn's own X-Forwarded-For handling is off: the API's hardening decides (PANTAU_API_BEHIND_PROXY)
    uvicorn.run(instrument_asgi(app_) if metrics else app_, host=host, port=port, log_level="info", proxy_headers=False)


@app.command()
def dashboard(
    data_dir: DataDirOpt = None,
    port: Annotated[int, typer.Option(help="HTTP port")] = 8501,
    host: Annotated[str | None, typer.Option(help="Bind address (default: Streamlit's)")] = None,
    headless: Annotated[bool, typer.Option(help="Do not open a browser")] = True,
) -> None:
    """Start the Streamlit dashboards (sign-in: OIDC when configured, else `pantau users add`)."""
    from dashboards.launch import run_dashboard, write_auth_secrets

    s = _settings(data_dir)
    secrets_file = write_auth_secrets(s, Path(s.data_dir) / ".dashboards")
    raise typer.Exit(run_dashboard(str(s.data_dir), port, headless, host, secrets_file))


@app.command("eval")
def eval_(
    path: Annotated[Path | None, typer.Argument(help="Folder with MANIFEST.csv (file,label[,count,source])")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    manifest: Annotated[Path | None, typer.Option(help="Manifest CSV (default PATH/MANIFEST.csv)")] = None,
    split: Annotated[str | None, typer.Option(help="Keep only rows whose 'split' column equals this")] = None,
    threshold: Annotated[list[str] | None, typer.Option(help="Threshold override, e.g. fire=0.6 (repeatable)")] = None,
    limit: Annotated[int | None, typer.Option(help="Score at most N images")] = None,
    clips: Annotated[bool, typer.Option(help="Evaluate simulator clips against their ground truth")] = False,
    duration: Annotated[float, typer.Option(help="Clip length in seconds (--clips)")] = 100.0,
    step: Annotated[float, typer.Option(help="Seconds between sampled frames (--clips)")] = 2.5,
    seed: Annotated[int, typer.Option(help="Scene seed of the simulator clips (--clips)")] = 7,
    by_source: Annotated[
        bool, typer.Option("--by-source", help="Leave-one-source-out: retrain the heads without each source, score it")
    ] = False,
    backbone: Annotated[str, typer.Option(help="Backbone for --by-source: lite0, lite1 or lite2")] = "lite0",
    views: Annotated[int, typer.Option(help="CCTV-augmented views per training image (--by-source)")] = 3,
    cache: Annotated[Path | None, typer.Option(help="Feature cache folder (--by-source)")] = None,
) -> None:
    """Score labelled images (or simulator clips): precision/recall/F1/AUC per class, false alarms, crowd MAE/MAPE.
    With --by-source: nested leave-one-source-out validation of the head recipe, per source and worst/mean."""
    from analytics.evaluation import run_eval

    thresholds: dict[str, float] = {}
    for t in threshold or []:
        name, _, value = t.partition("=")
        try:
            thresholds[name.strip()] = float(value)
        except ValueError:
            console.print(f"[red]error:[/red] bad threshold {t!r}: use hazard=value")
            raise typer.Exit(2) from None
    if clips:
        from simulate.evaluate import run_eval_clip  # the simulator's clip driver

        run_eval_clip(duration_s=duration, step_s=step, seed=seed, json_out=json_out, thresholds=thresholds or None)
        return
    if path is None:
        console.print("[red]error:[/red] give a PATH to a labelled folder, or --clips")
        raise typer.Exit(2)
    if not path.is_dir():
        console.print(f"[red]error:[/red] {path} is not a folder")
        raise typer.Exit(2)
    if by_source:
        # a child process with single-threaded BLAS: the many small fits of the nested validation run ~20x
        # faster than with a thread pool fighting for shared cores
        cmd = [sys.executable, "-m", "analytics.vision.training.loso", "--data", str(path), "--variant", backbone]
        cmd += ["--views", str(views)] + (["--cache", str(cache)] if cache else []) + (["--json"] if json_out else [])
        cmd += ["--manifest", str(manifest)] if manifest else []
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        raise typer.Exit(subprocess.run(cmd, env=env, check=False).returncode)
    run_eval(path, json_out=json_out, thresholds=thresholds or None, manifest=manifest, split=split, limit=limit)


class PlanMethod(StrEnum):
    lazy = "lazy"
    greedy = "greedy"
    exact = "exact"
    auto = "auto"
    random = "random"
    populous = "populous"


def parse_weights(items: list[str]) -> dict[str, float] | None:
    """``["public_space=0.2", ...]`` -> ``{"public_space": 0.2}``; unknown layers and bad numbers raise."""
    from analytics.planning import LAYERS

    out: dict[str, float] = {}
    for item in items:
        layer, sep, value = item.partition("=")
        layer = layer.strip()
        if not sep or layer not in LAYERS:
            raise ValueError(f"{item!r}: expected LAYER=VALUE with LAYER one of {', '.join(LAYERS)}")
        try:
            out[layer] = float(value)
        except ValueError as exc:
            raise ValueError(f"{item!r}: {value!r} is not a number") from exc
        if out[layer] < 0:
            raise ValueError(f"{item!r}: weights must be >= 0")
    return out or None


@app.command()
def plan(
    budget: Annotated[int, typer.Option("--budget", "-n", help="Number of new cameras to place")] = 100,
    radius: Annotated[float, typer.Option(help="Camera coverage radius, metres")] = 150.0,
    method: Annotated[PlanMethod, typer.Option(help="Solver or baseline")] = PlanMethod.lazy,
    time_limit: Annotated[float, typer.Option(help="Time limit of the exact solver, seconds")] = 60.0,
    from_files: Annotated[bool, typer.Option(help="Use the shipped reference files instead of the lake")] = False,
    save: Annotated[
        bool, typer.Option(help="Store the ranked sites as placement_candidates (for `pantau cameras accept-plan`)")
    ] = False,
    weight: Annotated[
        list[str] | None,
        typer.Option(help="Layer weight LAYER=VALUE, repeatable (e.g. public_space=0.2); see docs/planning.md"),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Rank sites for the next N cameras and print coverage before and after (maximal covering).

    Coverage counts installed cameras; planned ones (accepted with `pantau cameras accept-plan`) are listed in the
    notes until they are installed."""
    from analytics.planning import run_plan
    from orchestration.plan_report import plan_renderable
    from warehouse.lake import Lake

    try:
        weights = parse_weights(weight or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--weight") from exc
    if from_files:
        res = run_plan(
            None, budget=budget, radius_m=radius, method=method.value, weights=weights, time_limit_s=time_limit
        )
        console.print(plan_renderable(res))
        return
    s = _settings(data_dir)
    with Lake(s.lake_config(), read_only=not save) as lake:
        res = run_plan(
            lake, budget=budget, radius_m=radius, method=method.value, weights=weights, time_limit_s=time_limit
        )
        if save:
            now = datetime.now(UTC)
            run_id = f"cli-{now:%Y%m%dT%H%M%S}"
            cand = res.candidates.assign(
                run_id=run_id, objective=res.objective, upper_bound=res.upper_bound, optimal=res.optimal,
                created_at=now,
            )  # fmt: skip
            lake.replace("placement_candidates", cand)
    console.print(plan_renderable(res))
    if save:
        console.print(f"saved {len(res.candidates)} sites as placement_candidates (run {run_id})")


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
    from simulate.serve import run_simulator

    run_simulator(
        cameras, seed=seed, duration_s=duration, port=port, hls_cameras=hls, rtsp_cameras=rtsp,
        width=width, height=height, fps=fps, serve_s=serve_s,
    )  # fmt: skip


subscribe_app = typer.Typer(
    help="Manage alert subscriptions (agencies by hazard, anyone by area).", no_args_is_help=True
)
alerts_app = typer.Typer(help="List, acknowledge, cancel and dispatch alerts.", no_args_is_help=True)
users_app = typer.Typer(
    help="Local dashboard accounts (argon2id password hashes in the operational DB).", no_args_is_help=True
)
ops_db_app = typer.Typer(help="The operational database's schema (Alembic revisions).", no_args_is_help=True)
app.add_typer(ops_db_app, name="ops-db")
app.add_typer(subscribe_app, name="subscribe")
app.add_typer(alerts_app, name="alerts")
app.add_typer(users_app, name="users")
app.add_typer(cameras_app, name="cameras")
app.add_typer(webhooks_app, name="webhooks")
ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (recorded in the audit log; default: OS user)")]


class Channel(StrEnum):
    webhook = "webhook"
    email = "email"
    mqtt = "mqtt"
    apprise = "apprise"
    outbox = "outbox"


class SubKind(StrEnum):
    area = "area"
    agency = "agency"


class Hazard(StrEnum):
    fire = "fire"
    flood = "flood"
    crowd = "crowd"
    camera = "camera"


class AreaType(StrEnum):
    kelurahan = "kelurahan"
    kecamatan = "kecamatan"
    kota = "kota"
    point = "point"


class Level(StrEnum):
    waspada = "Waspada"
    siaga = "Siaga"
    awas = "Awas"


class PayloadFormat(StrEnum):
    json = "json"
    cap = "cap"


@subscribe_app.command("add")
def subscribe_add(
    name: Annotated[str, typer.Option(help="Subscriber name")],
    channel: Annotated[Channel, typer.Option(help="Delivery channel")],
    target: Annotated[str, typer.Option(help="URL, e-mail address, MQTT topic prefix, Apprise URL or folder")],
    kind: Annotated[SubKind, typer.Option(help="agency (by hazard) or area subscriber")] = SubKind.area,
    hazard: Annotated[Hazard | None, typer.Option(help="Only this hazard")] = None,
    area_type: Annotated[AreaType | None, typer.Option(help="Area kind")] = None,
    area_code: Annotated[str | None, typer.Option(help="Kemendagri code of the kelurahan/kecamatan/kota")] = None,
    lat: Annotated[float | None, typer.Option(help="Point latitude (area-type point)")] = None,
    lon: Annotated[float | None, typer.Option(help="Point longitude (area-type point)")] = None,
    radius_m: Annotated[float | None, typer.Option(help="Radius around the point, metres")] = None,
    min_level: Annotated[Level, typer.Option(help="Minimum risk level")] = Level.waspada,
    fmt: Annotated[PayloadFormat, typer.Option("--format", help="Webhook payload: json or cap")] = PayloadFormat.json,
    secret: Annotated[str | None, typer.Option(help="Webhook HMAC secret (generated if omitted)")] = None,
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Add a subscription (stored transactionally in the operational DB)."""
    from alerts.cli_ops import subscribe_add as add

    s = _settings(data_dir)
    try:
        row = add(
            s.resolved_ops_db_url(), name=name, channel=channel.value, target=target, kind=kind.value,
            hazard=hazard.value if hazard else None, area_type=area_type.value if area_type else None,
            area_code=area_code, lat=lat, lon=lon, radius_m=radius_m, min_level=min_level.value, fmt=fmt.value,
            secret=secret, allow_http=s.allow_http_webhooks, by=by,
        )  # fmt: skip
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(row)


@subscribe_app.command("list")
def subscribe_list(
    all_: Annotated[bool, typer.Option("--all", help="Include inactive subscriptions")] = False,
    hazard: Annotated[Hazard | None, typer.Option(help="Only this hazard")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List subscriptions."""
    from alerts.cli_ops import subscribe_list as lst
    from alerts.cli_ops import subscriptions_table

    s = _settings(data_dir)
    rows = lst(s.resolved_ops_db_url(), include_inactive=all_, hazard=hazard.value if hazard else None)
    console.print(subscriptions_table(rows))


@subscribe_app.command("remove")
def subscribe_remove(
    subscription_id: Annotated[str, typer.Argument(help="Subscription id")],
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Deactivate a subscription."""
    from alerts.cli_ops import subscribe_remove as rm

    s = _settings(data_dir)
    if not rm(s.resolved_ops_db_url(), subscription_id, by=by):
        console.print(f"[red]no active subscription {subscription_id}[/red]")
        raise typer.Exit(1)
    console.print(f"removed {subscription_id}")


@alerts_app.command("list")
def alerts_list(
    all_: Annotated[bool, typer.Option("--all", help="Include resolved and cancelled alerts")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """List alerts (active by default)."""
    from alerts.cli_ops import alerts_list as lst
    from alerts.cli_ops import alerts_table

    s = _settings(data_dir)
    console.print(alerts_table(lst(s.resolved_ops_db_url(), active_only=not all_)))


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[str, typer.Argument(help="Alert id")],
    by: Annotated[str, typer.Option("--by", help="Who acknowledges")],
    note: Annotated[str, typer.Option(help="Optional note")] = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Acknowledge an alert."""
    from alerts.cli_ops import alerts_ack as ack

    s = _settings(data_dir)
    try:
        console.print(ack(s.resolved_ops_db_url(), alert_id, actor=by, note=note))
    except (KeyError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@alerts_app.command("cancel")
def alerts_cancel(
    alert_id: Annotated[str, typer.Argument(help="Alert id")],
    by: Annotated[str, typer.Option("--by", help="Who cancels")],
    reason: Annotated[str, typer.Option(help="Why (sent in the CAP Cancel message)")],
    data_dir: DataDirOpt = None,
) -> None:
    """Cancel an alert (sends a CAP Cancel referencing it)."""
    from alerts.cli_ops import alerts_cancel as cancel

    s = _settings(data_dir)
    try:
        console.print(cancel(s.resolved_ops_db_url(), alert_id, actor=by, reason=reason))
    except (KeyError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@alerts_app.command("dispatch")
def alerts_dispatch(data_dir: DataDirOpt = None) -> None:
    """Deliver everything due now from the outbox (retries with backoff, dead letters)."""
    from alerts.cli_ops import alerts_dispatch as dispatch

    s = _settings(data_dir)
    stats, counts = dispatch(
        s.resolved_ops_db_url(), outbox_dir=str(Path(s.data_dir) / "outbox"), smtp_host=s.smtp_host,
        smtp_port=s.smtp_port, mqtt_broker=s.mqtt_broker, allow_http=s.allow_http_webhooks,
    )  # fmt: skip
    console.print(stats)
    console.print(counts)


class RoleName(StrEnum):
    public = "public"
    analyst = "analyst"
    operator = "operator"
    admin = "admin"


def _ops(data_dir: Path | None) -> Any:
    from alerts.db import OpsDB

    return OpsDB(_settings(data_dir).resolved_ops_db_url())


def _password(generate: bool) -> tuple[str, bool]:
    from access.accounts import generate_password

    if generate:
        return generate_password(), True
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (lower case)")],
    role: Annotated[RoleName, typer.Option(help="public, analyst, operator or admin")],
    generate: Annotated[bool, typer.Option(help="Generate a random password and print it once")] = False,
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Create a dashboard account (asks for the password unless --generate)."""
    from access.accounts import AccountError, add_user
    from alerts.cli_ops import cli_principal

    password, generated = _password(generate)
    ops = _ops(data_dir)
    try:
        add_user(ops, username, password, role.value, by=cli_principal(by))
    except AccountError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        ops.dispose()
    console.print(f"created {username} ({role.value})" + (f"; password: {password}" if generated else ""))


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Login name")],
    generate: Annotated[bool, typer.Option(help="Generate a random password and print it once")] = False,
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Set a new password (also lifts a lock-out)."""
    from access.accounts import AccountError, set_password
    from alerts.cli_ops import cli_principal

    password, generated = _password(generate)
    ops = _ops(data_dir)
    try:
        set_password(ops, username, password, by=cli_principal(by))
    except AccountError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        ops.dispose()
    console.print(f"password set for {username}" + (f": {password}" if generated else ""))


@users_app.command("role")
def users_role(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[RoleName, typer.Argument(help="public, analyst, operator or admin")],
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Change an account's role."""
    from access.accounts import AccountError, set_role
    from alerts.cli_ops import cli_principal

    ops = _ops(data_dir)
    try:
        set_role(ops, username, role.value, by=cli_principal(by))
    except AccountError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        ops.dispose()
    console.print(f"{username} is now {role.value}")


@users_app.command("deactivate")
def users_deactivate(
    username: Annotated[str, typer.Argument(help="Login name")], by: ByOpt = "", data_dir: DataDirOpt = None
) -> None:
    """Disable an account (kept for the audit log)."""
    from access.accounts import AccountError, deactivate_user
    from alerts.cli_ops import cli_principal

    ops = _ops(data_dir)
    try:
        deactivate_user(ops, username, by=cli_principal(by))
    except AccountError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        ops.dispose()
    console.print(f"{username} deactivated")


@users_app.command("list")
def users_list(data_dir: DataDirOpt = None) -> None:
    """List accounts (never their password hashes)."""
    from access.accounts import list_users

    ops = _ops(data_dir)
    try:
        rows = list_users(ops)
    finally:
        ops.dispose()
    table = Table("user", "role", "active", "locked until", "created (UTC)")
    for r in rows:
        table.add_row(
            r["username"], r["role"], "yes" if r["active"] else "no", r["locked_until"] or "", r["created_at"]
        )
    console.print(table)


@app.command()
def audit(
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. alert.cancel")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor")] = None,
    target: Annotated[str | None, typer.Option(help="Only this target id (alert, subscription, camera, user)")] = None,
    limit: Annotated[int, typer.Option(help="Newest rows shown")] = 50,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format")] = OutputFormat.table,
    verify: Annotated[
        bool, typer.Option(help="Check the hash chain, its head and every signed checkpoint (ops DB and object store)")
    ] = False,
    checkpoint: Annotated[
        bool, typer.Option(help="After verifying, sign the log's head (PANTAU_AUDIT_KEY) into a new checkpoint")
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Read the append-only audit log (who, role, when, what, before/after). Nothing can edit it."""
    from access.audit import AUDIT_COLUMNS, AuditChainError, query_audit, verify_audit, write_checkpoint

    s = _settings(data_dir)
    ops = _ops(data_dir)
    try:
        if verify or checkpoint:
            try:
                store = s.object_store()
                key = s.resolved_audit_key(create=checkpoint)
                report = verify_audit(ops, key=key, store=store)
                console.print(
                    f"audit log intact: {report.rows} rows, hash chain verified, head matches, "
                    f"{report.checkpoints} signed checkpoints verified"
                    + ("" if key else " (no key: signatures unchecked)")
                )
                if checkpoint:
                    cp = write_checkpoint(ops, s.resolved_audit_key() or b"", store)
                    console.print(f"checkpoint signed: {cp['row_count']} rows up to row {cp['last_seq']}")
            except AuditChainError as exc:
                console.print(f"[red]audit log tampered:[/red] {exc}")
                raise typer.Exit(2) from None
            return
        rows = query_audit(ops, action=action, actor=actor, target_id=target, limit=limit)
    finally:
        ops.dispose()
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
    elif fmt is OutputFormat.csv:
        w = csv.writer(sys.stdout)
        w.writerow(AUDIT_COLUMNS)
        for r in rows:
            w.writerow([r[c] for c in AUDIT_COLUMNS])
    else:
        table = Table("seq", "at (UTC)", "actor", "role", "action", "target", "reason", "source")
        for r in rows:
            table.add_row(
                str(r["seq"]), r["at"][:19], r["actor"], r["role"], r["action"],
                f"{r['target_type']} {r['target_id']}", r["reason"] or "", r["source"],
            )  # fmt: skip
        console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()


@ops_db_app.command("upgrade")
def ops_db_upgrade(data_dir: DataDirOpt = None) -> None:
    """Upgrade the ops database to the newest revision (stamps a database made before migrations first)."""
    _ops_db_upgrade(_settings(data_dir).resolved_ops_db_url())


@ops_db_app.command("current")
def ops_db_current(data_dir: DataDirOpt = None) -> None:
    """Print the ops database's revision and the newest one this code knows."""
    import sqlalchemy as sa

    from alerts.ops_schema import current_revision, head_revision

    engine = sa.create_engine(_settings(data_dir).resolved_ops_db_url())
    try:
        with engine.connect() as conn:
            console.print(f"current {current_revision(conn)} · head {head_revision()}")
    finally:
        engine.dispose()


@ops_db_app.command("revision")
def ops_db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision changes")],
    data_dir: DataDirOpt = None,
) -> None:
    """Write a new revision from the difference between the models and the ops database (which must be at head)."""
    from alerts.ops_schema import revision

    console.print(revision(_settings(data_dir).resolved_ops_db_url(), message))
