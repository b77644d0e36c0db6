"""The demo: the main job on the embedded default, step by step, with a readable summary.

Each step is a small function; later capabilities add steps. The Dagster part runs the real
asset jobs in-process against a persistent Dagster instance under ``<data_dir>/dagster`` so the
runs and materialisations show up in `pantau dev` afterwards.
"""

from __future__ import annotations

import logging
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
    _defs: Any = None

    def defs(self) -> Any:
        """The platform's Dagster definitions, built once with these settings."""
        if self._defs is None:
            from orchestration.definitions import build_defs

            self._defs = build_defs(self.settings)
        return self._defs


Step = Callable[[DemoContext], None]

#: Dagster run config that keeps the demo's console readable (runs are fully logged in the instance)
QUIET: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _dagster_instance(settings: PantauSettings) -> Any:
    import dagster as dg

    home = Path(settings.data_dir).resolve() / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def _record_checks(ctx: DemoContext, instance: Any, run_id: str) -> None:
    """What the daemon's run-status sensors do in production: copy the run's asset checks into the lake."""
    from orchestration.check_results import record_run_checks
    from warehouse.lake import Lake

    with Lake(ctx.settings.lake_config()) as lake:
        new = record_run_checks(instance, run_id, lake)
    ctx.facts["asset_checks_recorded"] = int(ctx.facts.get("asset_checks_recorded", 0)) + new


def step_reference(ctx: DemoContext) -> None:
    """Migrate the lake and load the Jakarta reference data through the Dagster job."""
    instance = _dagster_instance(ctx.settings)
    job = ctx.defs().resolve_job_def("reference_job")
    result = job.execute_in_process(instance=instance, run_config=QUIET)
    _record_checks(ctx, instance, result.run_id)
    if not result.success:
        raise RuntimeError("reference_job failed")
    ctx.facts["reference_run_id"] = result.run_id


def _run_job(
    ctx: DemoContext, name: str, run_config: dict[str, Any] | None = None, partition_key: str | None = None
) -> Any:
    instance = _dagster_instance(ctx.settings)
    result = (
        ctx.defs()
        .resolve_job_def(name)
        .execute_in_process(instance=instance, run_config={**QUIET, **(run_config or {})}, partition_key=partition_key)
    )
    _record_checks(ctx, instance, result.run_id)
    if not result.success:
        raise RuntimeError(f"{name} failed")
    return result


DEMO_PANIC_ID = "demo-panic-1"


def demo_panic_request(camera_id: str, rows: list[dict[str, Any]]) -> Any:
    """The demo's panic press: one pending ``camera_priority_requests`` row for ``camera_id``, pressed now."""
    from datetime import UTC, datetime

    import pyarrow as pa

    from ingest.jaki.signals import PRIORITY_REQUEST_SCHEMA

    cam = next((r for r in rows if r["camera_id"] == camera_id), {})
    now = datetime.now(UTC)
    return pa.Table.from_pylist(
        [
            {"request_id": f"{DEMO_PANIC_ID}:{camera_id}", "camera_id": camera_id, "panic_id": DEMO_PANIC_ID,
             "pressed_at": now, "kelurahan_code": cam.get("kelurahan_code"), "kind": "crime", "distance_m": 25.0,
             "radius_m": 300.0, "priority": 1, "reason": "panic button (crime) 25 m away", "status": "pending",
             "requested_at": now}
        ],
        schema=PRIORITY_REQUEST_SCHEMA,
    )  # fmt: skip


def step_cameras(ctx: DemoContext) -> None:
    """Serve simulated cameras on real Jakarta sites over MJPEG/snapshot/HLS, capture, score, land, ingest."""
    from ingest.cameras.landing import ingest_landed_batches
    from ingest.cameras.priority import LakePriorityRequests
    from ingest.cameras.registry import spec_from_mapping
    from ingest.cameras.worker import WorkerConfig, capture_for
    from simulate.serve import camera_rows, start_demo_server
    from warehouse.lake import Lake

    s = ctx.settings
    store = s.object_store()
    srv, specs = start_demo_server(24, duration_s=float(ctx.seconds), hls_cameras=2)
    try:
        rows = camera_rows(srv, specs)
        kinds: dict[str, int] = {}
        for r in rows:
            kinds[r["stream_kind"]] = kinds.get(r["stream_kind"], 0) + 1
        ctx.console.print(f"  {len(rows)} simulated cameras on loopback: {kinds}")
        with Lake(s.lake_config()) as lake:
            # a citizen presses Jaki's panic button next to the crowd camera: the worker serves the request and
            # samples that camera four times as often for the rest of the capture
            panic_cam = next((sp.camera_id for sp in specs if sp.role == "crowd"), specs[0].camera_id)
            lake.append("camera_priority_requests", demo_panic_request(panic_cam, rows))
            stats = capture_for(
                [spec_from_mapping(r) for r in rows],
                store,
                float(ctx.seconds),
                interval_s=1.0,
                scoring=s.scoring,
                priority=LakePriorityRequests(lake),
                config=WorkerConfig(priority_interval_s=0.25, priority_boost_s=float(ctx.seconds)),
            )
            served = lake.query(
                "SELECT request_id, status, served_at, served_by FROM camera_priority_requests WHERE panic_id = ?",
                [DEMO_PANIC_ID],
            ).to_pylist()
    finally:
        srv.stop()
    ctx.console.print(f"  capture: {stats}")
    ctx.console.print(f"  panic press next to {panic_cam}: {served}", markup=False, highlight=False)
    with Lake(s.lake_config()) as lake:
        landed = ingest_landed_batches(lake, store)
        ctx.console.print(f"  ingested: {landed}")
        roles = {sp.camera_id: sp.role for sp in specs}
        seen = lake.query(
            "SELECT camera_id, count(*) AS frames, max(fire) AS fire, max(smoke) AS smoke, max(flood) AS flood, "
            "max(flood_depth_class) AS depth, max(persons) AS persons, max(vehicles) AS vehicles, "
            "max(risk_level) AS level, "
            "string_agg(DISTINCT health, ',') AS health FROM frame_scores GROUP BY 1"
        ).to_pylist()
    t = Table(
        "camera",
        "scripted",
        "frames",
        "fire",
        "smoke",
        "flood",
        "depth",
        "persons",
        "vehicles",
        "health",
        title="What the cameras saw",
    )
    for r in sorted(seen, key=lambda r: (roles.get(r["camera_id"], "") == "normal", roles.get(r["camera_id"], ""))):

        def f(v: Any) -> str:
            return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)

        t.add_row(
            r["camera_id"], roles.get(r["camera_id"], "?"), str(r["frames"]), f(r["fire"]), f(r["smoke"]),
            f(r["flood"]), f(r["depth"]), f(r["persons"]), f(r["vehicles"]), str(r["health"]),
        )  # fmt: skip
    ctx.console.print(t)


def step_jaki(ctx: DemoContext) -> None:
    """Land one day of Jaki exports (with malformed rows); the Dagster ``jaki_ingest`` job ingests, validates
    (Great Expectations asset checks), quarantines and refreshes the Jaki marts."""
    from datetime import UTC, datetime, timedelta

    from assets.jaki import MART_SOURCES
    from ingest.jaki.demo import lake_file_accounting, land_demo_day, report_accounting
    from warehouse.lake import Lake

    s = ctx.settings
    day = (datetime.now(UTC) + timedelta(hours=7)).date()  # today in WIB
    landed = land_demo_day(s.object_store(), day, 200_000)
    marts_config = {"config": {"start_day": day.isoformat(), "end_day": day.isoformat()}}
    result = _run_job(ctx, "jaki_ingest", {"ops": dict.fromkeys(MART_SOURCES, marts_config)})
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    marts = {t: meta[t]["rows"].value for t in MART_SOURCES if t in meta}
    requests = meta.get("camera_priority_requests", {}).get("new_requests")
    with Lake(s.lake_config(), read_only=True) as lake:
        files = lake_file_accounting(lake, landed)
    ctx.facts["jaki"] = report_accounting(
        day, files, landed, marts, int(requests.value) if requests is not None else 0, ctx.console
    )


def step_marts(ctx: DemoContext) -> None:
    """Hourly risk and daily uptime marts through the Dagster risk jobs, one run per hour / UTC day captured
    (what the risk schedules do every 15 minutes in production), with their blocking quality checks."""
    from datetime import UTC, timedelta

    from marts.risk import source_span
    from warehouse.lake import Lake, ident

    with Lake(ctx.settings.lake_config(), read_only=True) as lake:
        span = source_span(lake)
    if span is None:
        ctx.console.print("  no frames captured: nothing to refresh")
        return
    start, end = (t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC) for t in span)  # partitions are UTC
    hours = [start + timedelta(hours=i) for i in range(int((end - start) / timedelta(hours=1)))]
    for hour in hours:
        _run_job(ctx, "risk_hourly_job", partition_key=f"{hour:%Y-%m-%d-%H:%M}")
    days = sorted({h.date() for h in hours})
    for day in days:
        _run_job(ctx, "camera_uptime_job", partition_key=f"{day:%Y-%m-%d}")
    with Lake(ctx.settings.lake_config(), read_only=True) as lake:
        rows = {t: lake.scalar(f"SELECT count(*) FROM {ident(t)}") for t in MART_TABLES}
    ctx.facts["marts"] = rows
    ctx.console.print(f"  {len(hours)} hour(s) and {len(days)} day(s) refreshed: {rows}")


MART_TABLES = ("risk_hourly_camera", "risk_hourly_kelurahan", "camera_uptime_daily")


def step_alerts(ctx: DemoContext) -> None:
    """Run the urgent-alert rules over the scores, deliver to the local outbox (CAP 1.2), export history."""
    from datetime import timedelta

    from alerts.ack import AckLinks
    from alerts.agreement import check_level_agreement
    from alerts.db import OpsDB
    from alerts.demo import run_alerts_demo
    from marts.alerts import refresh_alert_ack_mart
    from warehouse.lake import Lake

    s = ctx.settings
    with Lake(s.lake_config()) as lake:
        links = AckLinks(s.ack_secret.get_secret_value(), s.open_data_base_url, timedelta(hours=s.ack_link_hours))
        summary = run_alerts_demo(
            lake,
            s.data_dir,
            ops_db_url=s.resolved_ops_db_url(),
            store=s.object_store(),
            ack_links=links,
            base_url=s.open_data_base_url,
        )
        refresh_alert_ack_mart(lake)  # time to acknowledge per agency (the Alerts page figure)
        ops = OpsDB(s.resolved_ops_db_url(), create=False)
        try:
            agreement = check_level_agreement(lake, ops)
        finally:
            ops.dispose()
    ctx.console.print(str(summary), markup=False, highlight=False)
    ctx.console.print(
        f"levels: {agreement.camera_hours} camera-hours, {agreement.compared} camera-hour-hazards compared across "
        f"scores, marts and alerts, {len(agreement.disagreements)} disagreements",
        markup=False,
        highlight=False,
    )


def step_planning(ctx: DemoContext) -> None:
    """Coverage of today's cameras and the 100 best sites for new ones (Dagster planning_job)."""
    _run_job(ctx, "planning_job", {"ops": {"planning_marts": {"config": {"method": "lazy", "budget": 100}}}})
    from warehouse.lake import Lake

    with Lake(ctx.settings.lake_config(), read_only=True) as lake:
        top = lake.query(
            "SELECT rank, site_id, kode_kelurahan, round(gain_total, 5) AS gain, reason_en FROM placement_candidates "
            "ORDER BY rank LIMIT 5"
        ).to_pylist()
    t = Table("rank", "site", "kelurahan", "gain", "why", title="Next camera sites (top 5 of 100)")
    for r in top:
        t.add_row(str(r["rank"]), str(r["site_id"]), str(r["kode_kelurahan"]), str(r["gain"]), str(r["reason_en"]))
    ctx.console.print(t)
    from access.roles import system
    from ingest.registry.audit import audit_registry_changes
    from ingest.registry.ops import accept_plan

    with Lake(ctx.settings.lake_config()) as lake:
        accepted = accept_plan(lake, actor="demo-planner", top=5)
    audit_registry_changes(ctx.settings.resolved_ops_db_url(), accepted.changes, system("demo-planner"))
    ctx.console.print(
        f"  registry: top {len(accepted.added)} sites accepted as planned cameras "
        "(pantau cameras accept-plan; pantau cameras install ID --stream-url ... when they are up)"
    )


def step_publish(ctx: DemoContext) -> None:
    """Build and publish a versioned, privacy-safe open-data release (Dagster open_data_release_job)."""
    result = _run_job(ctx, "open_data_release_job")
    mats = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    md = mats["open_data_release"].materialization.metadata
    ctx.facts["release"] = {k: v.value for k, v in md.items()}
    ctx.console.print(f"  release {md['version'].value}: {md['uri'].value}")


STEPS: list[tuple[str, Step]] = [
    ("Lake schema + Jakarta reference data", step_reference),
    ("Simulated cameras: capture, score, land, ingest", step_cameras),
    ("Jaki: a day of service usage, validated", step_jaki),
    ("Risk marts", step_marts),
    ("Urgent alerts (CAP 1.2 to the local outbox)", step_alerts),
    ("Camera placement planning", step_planning),
    ("Open-data release", step_publish),
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
            "sum((SELECT count(*) FROM cameras c WHERE c.kelurahan_code = k.kode_kelurahan "
            "AND coalesce(c.status, 'installed') = 'installed')) AS cameras, "
            "sum((SELECT count(*) FROM cameras c WHERE c.kelurahan_code = k.kode_kelurahan "
            "AND c.status = 'planned')) AS planned "
            "FROM kelurahan k GROUP BY 1 ORDER BY 1"
        ).to_pylist()
        t2 = Table("kota", "live cameras", "planned", "population (2019)", title="Cameras by kota")
        for r in cams:
            t2.add_row(r["kota"], str(r["cameras"]), str(r["planned"]), f"{int(r['population'] or 0):,}")
        ctx.console.print(t2)
        checks = lake.query(
            "SELECT count(*) AS n, count(*) FILTER (WHERE NOT passed) AS failed FROM asset_check_results"
        ).to_pylist()[0]
        snap = lake.snapshot_id()
    root = Path(s.data_dir).resolve()
    ctx.console.print(f"Lake catalog : {s.lake_config().catalog_path.resolve()} (snapshot {snap})")
    ctx.console.print(f"Parquet data : {root / 'lake' / 'data'}")
    ctx.console.print(
        f"Asset checks : {checks['n']} evaluations recorded, {checks['failed']} failed (asset_check_results)"
    )
    ctx.console.print(f"Object store : {root / 'store'}")
    ctx.console.print('Try          : pantau sql "SELECT kota, count(*) FROM cameras GROUP BY 1"')
    ctx.console.print(f"Alert outbox : {root / 'outbox'}")
    ctx.console.print(f"Open data    : {root / 'store' / 'releases'}   (portal: pantau serve-api)")
    ctx.console.print("Dashboards   : pantau dashboard   (http://127.0.0.1:8501)")
    for name, password in demo_accounts(s).items():
        ctx.console.print(f"Sign in as   : {name:<8} password {password}", markup=False, highlight=False)
    ctx.console.print(
        "               (dashboard sidebar, 'Masuk' / 'Sign in'; without signing in: the public map and open "
        "data only; change a password: pantau users passwd NAME)"
    )
    ctx.console.print("Dagster UI   : pantau dev   (runs of this demo are recorded there)")


DEMO_ACCOUNTS = ("admin", "operator", "analyst")


def demo_accounts(settings: PantauSettings) -> dict[str, str]:
    """One local dashboard account per role, each with a new random password (argon2id-hashed in the ops DB).

    Accounts that already exist are left alone (their password is not known here and is shown as such).
    """
    from access.accounts import add_user, generate_password, get_user
    from access.roles import system
    from alerts.db import OpsDB

    ops = OpsDB(settings.resolved_ops_db_url())
    out: dict[str, str] = {}
    try:
        for name in DEMO_ACCOUNTS:
            if get_user(ops, name) is not None:
                out[name] = "(unchanged: the account existed)"
                continue
            password = generate_password()
            add_user(ops, name, password, name, by=system("pantau demo"))
            out[name] = password
    finally:
        ops.dispose()
    return out


def run_demo(
    settings: PantauSettings,
    *,
    console: Console | None = None,
    fresh: bool = True,
    seconds: int = 60,
    dashboard: bool = False,
) -> bool:
    console = console or Console()
    # Great Expectations announces each ephemeral context at INFO; the demo's console shows results instead
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
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
    if dashboard:
        from dashboards.launch import run_dashboard

        console.print(
            "[bold]Dashboards: open http://127.0.0.1:8501[/bold] and sign in with an account printed above "
            "(public visitors see the Overview map and Open data); Ctrl-C stops them"
        )
        run_dashboard(str(settings.data_dir), 8501, True, "127.0.0.1")
    return True
