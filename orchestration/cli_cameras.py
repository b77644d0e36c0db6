"""`pantau cameras ...`: the camera registry (add, import, edit, install, retire, accept a plan, list, history,
probe). Every change is versioned in the lake with who and when; stream credentials go to the secrets file."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

cameras_app = typer.Typer(
    help="Camera registry: add, import, edit, install, retire, accept planned sites, list, history, probe.",
    no_args_is_help=True,
)
console = Console(width=None if sys.stdout.isatty() else 160)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: $PANTAU_DATA_DIR or ./pantau-data)")
]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who makes the change (default: the login name)")]


class Status(StrEnum):
    planned = "planned"
    installed = "installed"
    retired = "retired"


class Kind(StrEnum):
    hls = "hls"
    rtsp = "rtsp"
    mjpeg = "mjpeg"
    snapshot = "snapshot"
    viewer = "viewer"


class Fmt(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _settings(data_dir: Path | None) -> Any:
    from orchestration.cli import _settings as s

    return s(data_dir)


def _actor(by: str | None) -> str:
    return by or getpass.getuser()


def _fail(msg: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {msg}", markup=True, highlight=False)
    raise typer.Exit(code)


def _open_lake(s: Any, read_only: bool = False) -> Any:
    from warehouse.lake import Lake
    from warehouse.migrations import migrate

    lake = Lake(s.lake_config(), read_only=read_only)
    if not read_only:
        migrate(lake)
    return lake


def _audit(s: Any, changes: list[Any], by: str | None) -> None:
    """Each registry change also goes to the append-only audit log (``ingest.registry.audit``)."""
    from alerts.cli_ops import cli_principal
    from ingest.registry.audit import audit_registry_changes

    if changes:
        audit_registry_changes(s.resolved_ops_db_url(), changes, cli_principal(_actor(by)))


def _show_change(change: Any) -> None:
    console.print(
        f"{change.action} {change.camera_id} v{change.version} by {change.actor} at "
        f"{change.changed_at.isoformat(timespec='seconds')}: " + ", ".join(sorted(change.fields)),
        markup=False,
        highlight=False,
    )


def _row(
    camera_id: str | None = None,
    *,
    name: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    stream_url: str | None = None,
    kind: Kind | None = None,
    secret_ref: str | None = None,
    operator: str | None = None,
    status: Status | None = None,
    view_radius: float | None = None,
    heading: float | None = None,
) -> dict[str, Any]:
    row = {
        "camera_id": camera_id, "name": name, "lat": lat, "lon": lon, "stream_url": stream_url,
        "stream_kind": kind.value if kind else None, "secret_ref": secret_ref, "operator": operator,
        "status": status.value if status else None, "view_radius_m": view_radius, "heading_deg": heading,
    }  # fmt: skip
    return {k: v for k, v in row.items() if v is not None}


@cameras_app.command("add")
def add(
    camera_id: Annotated[str, typer.Argument(help="New camera id")],
    lat: Annotated[float, typer.Option(help="Latitude (WGS84)")],
    lon: Annotated[float, typer.Option(help="Longitude (WGS84)")],
    stream_url: Annotated[
        str | None, typer.Option(help="Stream URL (credentials in it go to the secrets file)")
    ] = None,
    kind: Annotated[Kind | None, typer.Option(help="Stream kind (default: guessed from the URL)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    operator: Annotated[str | None, typer.Option(help="Operating agency")] = None,
    status: Annotated[Status, typer.Option(help="planned or installed")] = Status.installed,
    secret_ref: Annotated[str | None, typer.Option(help="Credentials reference: env:NAME or file:KEY")] = None,
    view_radius: Annotated[float | None, typer.Option(help="View radius, metres")] = None,
    heading: Annotated[float | None, typer.Option(help="Viewing direction, degrees from north")] = None,
    by: ByOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Add one camera (validated like an import row; the kelurahan comes from the boundaries)."""
    from ingest.registry.ops import RegistryError, add_camera

    s = _settings(data_dir)
    row = _row(camera_id, name=name, lat=lat, lon=lon, stream_url=stream_url, kind=kind, secret_ref=secret_ref,
               operator=operator, status=status, view_radius=view_radius, heading=heading)  # fmt: skip
    with _open_lake(s) as lake:
        try:
            change = add_camera(lake, row, actor=_actor(by), secrets_file=s.resolved_secrets_file())
        except RegistryError as exc:
            _fail(str(exc))
    _audit(s, [change], by)
    _show_change(change)


@cameras_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV, GeoJSON or YAML file of cameras")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv | geojson | yaml (default: by suffix)")] = None,
    update: Annotated[bool, typer.Option(help="Update cameras that exist with other values")] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate and report only")] = False,
    status: Annotated[Status, typer.Option(help="Status of rows that give none")] = Status.installed,
    by: ByOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Import cameras: every valid row lands in one transaction, every rejected row is listed with its reasons
    (and kept in camera_import_rejects)."""
    from ingest.registry.ops import import_cameras
    from ingest.registry.sources import read_rows

    s = _settings(data_dir)
    try:
        rows, first = read_rows(path, fmt)
    except (OSError, ValueError) as exc:
        _fail(f"{path}: {exc}")
    with _open_lake(s) as lake:
        res = import_cameras(
            lake, rows, actor=_actor(by), source=path.name, first_row_number=first, update=update, dry_run=dry_run,
            secrets_file=s.resolved_secrets_file(), default_status=status.value,
        )  # fmt: skip
    if not dry_run:
        _audit(s, res.changes, by)
    summary = res.summary()
    console.print(
        f"{summary['rows']} rows: {summary['added']} added, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged, {summary['rejected']} rejected"
        + (" (dry run: nothing written)" if dry_run else f" (batch {res.batch_id})"),
        markup=False,
        highlight=False,
    )
    if res.rejected:
        t = Table("row", "camera_id", "reasons", title="Rejected rows")
        for r in res.rejected:
            t.add_row(str(r.row_number), r.camera_id or "", "; ".join(r.reasons))
        console.print(t)


@cameras_app.command("edit")
def edit(
    camera_id: Annotated[str, typer.Argument(help="Camera id")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude")] = None,
    stream_url: Annotated[str | None, typer.Option(help="Stream URL")] = None,
    kind: Annotated[Kind | None, typer.Option(help="Stream kind")] = None,
    secret_ref: Annotated[str | None, typer.Option(help="Credentials reference: env:NAME or file:KEY")] = None,
    operator: Annotated[str | None, typer.Option(help="Operating agency")] = None,
    status: Annotated[Status | None, typer.Option(help="planned or installed (use retire to retire)")] = None,
    view_radius: Annotated[float | None, typer.Option(help="View radius, metres")] = None,
    heading: Annotated[float | None, typer.Option(help="Viewing direction, degrees")] = None,
    note: Annotated[str, typer.Option(help="Why")] = "",
    by: ByOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Change a camera (re-validated as a whole; moving it re-derives its kelurahan)."""
    from ingest.registry.ops import RegistryError, edit_camera

    if status is Status.retired:
        _fail("use `pantau cameras retire` to retire a camera", 2)
    s = _settings(data_dir)
    upd = _row(name=name, lat=lat, lon=lon, stream_url=stream_url, kind=kind, secret_ref=secret_ref,
               operator=operator, status=status, view_radius=view_radius, heading=heading)  # fmt: skip
    if not upd:
        _fail("nothing to change: give at least one option", 2)
    with _open_lake(s) as lake:
        try:
            change = edit_camera(lake, camera_id, upd, actor=_actor(by), note=note,
                                 secrets_file=s.resolved_secrets_file())  # fmt: skip
        except (RegistryError, ValueError) as exc:
            _fail(str(exc))
    _audit(s, [change], by)
    _show_change(change)


@cameras_app.command("install")
def install(
    camera_id: Annotated[str, typer.Argument(help="A planned camera's id")],
    stream_url: Annotated[str, typer.Option(help="Its stream URL")],
    kind: Annotated[Kind | None, typer.Option(help="Stream kind (default: guessed)")] = None,
    secret_ref: Annotated[str | None, typer.Option(help="Credentials reference: env:NAME or file:KEY")] = None,
    by: ByOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """A planned camera enters service with its stream (status installed; capture picks it up)."""
    from ingest.registry.ops import RegistryError, install_camera

    s = _settings(data_dir)
    with _open_lake(s) as lake:
        try:
            change = install_camera(lake, camera_id, stream_url=stream_url, stream_kind=kind.value if kind else None,
                                    secret_ref=secret_ref, actor=_actor(by),
                                    secrets_file=s.resolved_secrets_file())  # fmt: skip
        except (RegistryError, ValueError) as exc:
            _fail(str(exc))
    _audit(s, [change], by)
    _show_change(change)


@cameras_app.command("retire")
def retire(
    camera_id: Annotated[str, typer.Argument(help="Camera id")],
    reason: Annotated[str, typer.Option(help="Why it leaves service")] = "",
    by: ByOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Take a camera out of service (capture workers drop it at their next heartbeat or registry poll; history
    stays)."""
    from ingest.registry.ops import RegistryError, retire_camera

    s = _settings(data_dir)
    with _open_lake(s) as lake:
        try:
            change = retire_camera(lake, camera_id, actor=_actor(by), reason=reason)
        except RegistryError as exc:
            _fail(str(exc))
    _audit(s, [change], by)
    _show_change(change)


@cameras_app.command("accept-plan")
def accept_plan(
    site_id: Annotated[list[str] | None, typer.Argument(help="Site ids from `pantau plan --save`")] = None,
    top: Annotated[int | None, typer.Option(help="Accept the N best-ranked sites")] = None,
    by: ByOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Accept sites of the latest plan into the registry as planned cameras (ids plan-<site_id>)."""
    from ingest.registry.ops import RegistryError
    from ingest.registry.ops import accept_plan as accept

    s = _settings(data_dir)
    with _open_lake(s) as lake:
        try:
            res = accept(lake, actor=_actor(by), site_ids=site_id or (), top=top)
        except RegistryError as exc:
            _fail(str(exc))
    _audit(s, res.changes, by)
    console.print(
        f"planned: {len(res.added)} added, {len(res.unchanged)} already planned, {len(res.rejected)} rejected",
        markup=False,
    )
    for cid in res.added:
        console.print(f"  {cid}", markup=False)
    for r in res.rejected:
        console.print(f"  rejected {r.camera_id}: {'; '.join(r.reasons)}", markup=False)


LIST_COLUMNS = ("camera_id", "name", "status", "stream_kind", "kota", "kelurahan", "lat", "lon", "secret_ref",
                "version", "updated_by")  # fmt: skip


def _print_rows(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: Fmt, limit: int) -> None:
    import csv

    def j(v: Any) -> Any:
        return v.isoformat() if isinstance(v, datetime | date) else v

    if fmt is Fmt.json:
        sys.stdout.write(json.dumps([{c: j(r.get(c)) for c in columns} for r in rows], ensure_ascii=False) + "\n")
    elif fmt is Fmt.csv:
        w = csv.writer(sys.stdout)
        w.writerow(columns)
        for r in rows:
            w.writerow([j(r.get(c)) for c in columns])
    else:
        t = Table(*columns)
        shown = rows if limit == 0 else rows[:limit]
        for r in shown:
            t.add_row(*["" if r.get(c) is None else str(j(r.get(c))) for c in columns])
        console.print(t)
        if len(shown) < len(rows):
            console.print(f"({len(rows)} cameras, {len(shown)} shown; --limit 0 for all)", markup=False)


@cameras_app.command("list")
def list_(
    status: Annotated[Status | None, typer.Option(help="Only this status")] = None,
    kota: Annotated[str | None, typer.Option(help="Only this kota (substring)")] = None,
    search: Annotated[str | None, typer.Option(help="Id or name contains")] = None,
    live_on: Annotated[str | None, typer.Option(help="Cameras live at any time of this day (YYYY-MM-DD, WIB)")] = None,
    as_of: Annotated[str | None, typer.Option(help="The registry as it was at this time (ISO 8601)")] = None,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format")] = Fmt.table,
    limit: Annotated[int, typer.Option(help="Rows shown in table format (0 = all)")] = 50,
    data_dir: DataDirOpt = None,
) -> None:
    """List the registry (now, as of a time, or the cameras live on a day) with status counts."""
    from ingest.registry import ops, store

    s = _settings(data_dir)
    with _open_lake(s, read_only=True) as lake:
        if live_on:
            try:
                day = date.fromisoformat(live_on)
            except ValueError:
                _fail(f"bad --live-on {live_on!r}: use YYYY-MM-DD", 2)
            rows = store.live_on(lake, day)
            if fmt is Fmt.table:
                console.print(f"{len(rows)} cameras live on {day} (WIB)", markup=False)
            _print_rows(rows, ("camera_id", "name", "kota", "kelurahan", "stream_kind", "live_from", "live_to"),
                        fmt, limit)  # fmt: skip
            return
        if as_of:
            try:
                at = datetime.fromisoformat(as_of)
            except ValueError:
                _fail(f"bad --as-of {as_of!r}: use ISO 8601", 2)
            at = at if at.tzinfo else at.replace(tzinfo=store.WIB)
            rows = [r for r in store.cameras_as_of(lake, at.astimezone(UTC)) if not status or r["status"] == status]
        else:
            rows = ops.list_cameras(lake, status=status.value if status else None, kota=kota, search=search)
            counts = store.status_counts(lake)
            if fmt is Fmt.table:
                console.print(", ".join(f"{k}: {v}" for k, v in counts.items()) or "registry is empty", markup=False)
    _print_rows(rows, LIST_COLUMNS, fmt, limit)


@cameras_app.command("history")
def history(
    camera_id: Annotated[str, typer.Argument(help="Camera id")],
    data_dir: DataDirOpt = None,
) -> None:
    """Every change of one camera: when, who, what (old -> new)."""
    from ingest.registry import store

    s = _settings(data_dir)
    with _open_lake(s, read_only=True) as lake:
        rows = store.history(lake, camera_id)
    if not rows:
        _fail(f"no history for {camera_id!r}")
    t = Table("version", "changed_at", "action", "actor", "status", "changes", "note")
    for r in rows:
        changes = ", ".join(f"{k}: {v[0]!s} -> {v[1]!s}" for k, v in sorted(r["fields"].items()))
        t.add_row(str(r["version"]), str(r["changed_at"]), r["action"], r["actor"], r["status"] or "",
                  changes[:400], r.get("note") or "")  # fmt: skip
    console.print(t)


@cameras_app.command("probe")
def probe(
    target: Annotated[str, typer.Argument(help="A registry camera id or a URL")],
    timeout: Annotated[float, typer.Option(help="Connect/read timeout, seconds")] = 5.0,
    frames: Annotated[int, typer.Option(help="Frames to read for the frame rate (MJPEG, RTSP)")] = 6,
    test_frame: Annotated[Path | None, typer.Option(help="Write a blurred test frame (JPEG) here")] = None,
    save: Annotated[bool, typer.Option(help="For a registry viewer camera: store the resolved stream")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    by: ByOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Detect the protocol (HLS, RTSP, MJPEG, snapshot, viewer page -> its stream), read frames, report
    resolution, frame rate and latency; optionally write a blurred test frame."""
    from ingest.cameras.probe import probe as run_probe
    from ingest.registry.secrets import SecretResolver

    s = _settings(data_dir)
    url, userinfo, camera = target, None, None
    if "://" not in target:
        from ingest.registry import store

        with _open_lake(s, read_only=True) as lake:
            camera = store.get_camera(lake, target)
        if camera is None or not camera.get("stream_url"):
            _fail(f"no camera {target!r} with a stream URL in the registry")
        assert camera is not None
        url = str(camera["stream_url"])
        try:
            userinfo = SecretResolver(s.resolved_secrets_file()).resolve(camera.get("secret_ref"))
        except (KeyError, ValueError) as exc:
            _fail(str(exc))
    blur = None
    if test_frame is not None:
        from ingest.cameras.worker import _default_blur

        blur = _default_blur()
        if blur is None:
            _fail("privacy blurring is unavailable: no test frame can be written")
    res = run_probe(url, userinfo=userinfo, timeout_s=timeout, frames=frames, test_frame=test_frame, blur=blur)
    if json_out:
        sys.stdout.write(json.dumps(res.as_dict()) + "\n")
    else:
        t = Table("field", "value", title=f"probe {res.url}")
        for k, v in res.as_dict().items():
            t.add_row(k, "" if v is None or v == [] else str(v))
        console.print(t)
    if save and camera is not None and res.ok and res.stream_url and res.protocol:
        from ingest.registry.ops import save_probed_stream

        with _open_lake(s) as lake:
            change = save_probed_stream(lake, target, stream_url=res.stream_url, protocol=res.protocol,
                                        detected=res.detected, actor=_actor(by))  # fmt: skip
        if change is not None:
            _audit(s, [change], by)
            _show_change(change)
    if not res.ok:
        raise typer.Exit(1)
