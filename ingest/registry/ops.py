"""Registry operations behind ``pantau cameras ...``: add, import, edit, retire, accept a plan, install, seed.

Each operation validates, builds the new records, passes every one through ``record_change`` and writes the
batch with ``store.write_changes`` (one transaction). Credentials found in a stream URL are moved to the
secrets file first and replaced by a ``file:`` reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.registry import store
from ingest.registry.changes import RECORD_FIELDS, RegistryChange, diff, record_change
from ingest.registry.secrets import SecretsFile, remember
from ingest.registry.validate import AreaLookup, Rejection, normalise, validate_rows

SELECT_KELURAHAN = (
    "SELECT kode_kelurahan, nama_kelurahan, nama_kecamatan, nama_kota, geometry FROM kelurahan "
    "WHERE geometry IS NOT NULL"
)
SELECT_PLAN_SITES = (
    "SELECT rank, site_id, lat, lon, nama_kelurahan, gain_total, reason, run_id FROM placement_candidates ORDER BY rank"
)
ROW_FIELDS: tuple[str, ...] = (
    "name", "operator", "provider", "stream_url", "stream_kind", "secret_ref", "lat", "lon", "kelurahan_code",
    "kelurahan", "kecamatan", "kota", "kelurahan_method", "view_radius_m", "heading_deg", "zones", "address",
    "catalog_source", "n_channels", "status", "plan_site_id",
)  # fmt: skip


class RegistryError(ValueError):
    """An operation refused, with every reason."""

    def __init__(self, message: str, reasons: Sequence[str] = ()) -> None:
        self.reasons = tuple(reasons)
        super().__init__(message + (": " + "; ".join(reasons) if reasons else ""))


@dataclass
class ImportResult:
    batch_id: str
    source: str
    rows: int
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    dry_run: bool = False
    changes: list[RegistryChange] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "rows": self.rows,
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": len(self.rejected),
            "dry_run": self.dry_run,
        }


def area_lookup(lake: Any | None) -> AreaLookup:
    """Kelurahan lookup from the lake's ``kelurahan`` table, or from the shipped boundary files."""
    from ingest.reference.loaders import KelurahanIndex, load_kelurahan

    kel = lake.query(SELECT_KELURAHAN) if lake is not None else None
    if kel is None or kel.num_rows == 0:
        kel = load_kelurahan().table
    return AreaLookup(KelurahanIndex.from_table(kel))


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _secret_key(camera_id: str) -> str:
    return f"camera/{camera_id}"


def _record_from_row(base: Mapping[str, Any] | None, row: Mapping[str, Any], given: set[str]) -> dict[str, Any]:
    """``base`` (the current record, or empty) with the validated row's fields: those the source gave, plus the
    derived area and the defaults a new camera needs."""
    rec = {k: (base or {}).get(k) for k in RECORD_FIELDS}
    rec["camera_id"] = row["camera_id"]
    derived = {"kelurahan_code", "kelurahan", "kecamatan", "kota", "kelurahan_method"}
    for k in ROW_FIELDS:
        if base is None or k in given or k in derived or (k == "stream_kind" and "stream_url" in given):
            rec[k] = row.get(k)
    if row.get("userinfo"):
        rec["secret_ref"] = f"file:{_secret_key(row['camera_id'])}"
    return rec


def import_cameras(
    lake: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    source: str = "",
    first_row_number: int = 2,
    secrets_file: str | Path | None = None,
    update: bool = False,
    dry_run: bool = False,
    default_status: str = "installed",
    action: str = "import",
    now: datetime | None = None,
    areas: AreaLookup | None = None,
) -> ImportResult:
    """Validate every row; write all valid rows in one transaction (or none on error) and log the rejects.

    A row whose ``camera_id`` exists is ``unchanged`` when it changes nothing, an update with ``update=True``,
    and rejected otherwise. ``dry_run`` validates and reports without writing anything.
    """
    at = _now(now)
    batch_id = at.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    existing = store.current_cameras(lake)
    areas = areas or area_lookup(lake)
    given_by_row = [set(normalise(r)) for r in rows]
    row_ids = {str(normalise(r).get("camera_id") or "") for r in rows}
    checked = validate_rows(
        rows,
        areas,
        existing,
        first_row_number=first_row_number,
        default_status=default_status,
        skip_ids=row_ids if update else (),
    )
    res = ImportResult(batch_id, source, len(rows), dry_run=dry_run, rejected=list(checked.rejected))
    by_id_given = {str(normalise(r).get("camera_id") or ""): g for r, g in zip(rows, given_by_row, strict=True)}
    row_number = {str(normalise(r).get("camera_id") or ""): first_row_number + i for i, r in enumerate(rows)}
    secrets: dict[str, str] = {}
    changes: list[RegistryChange] = []
    for row in checked.accepted:
        cid = row["camera_id"]
        base = existing.get(cid)
        given = by_id_given.get(cid, set())
        if row.get("userinfo") and not secrets_file:
            res.rejected.append(
                Rejection(row_number.get(cid, 0), cid, ("stream_url has credentials but no secrets file is set",))
            )
            continue
        rec = _record_from_row(base, row, given)
        if base is not None:
            if not diff(base, rec) and not row.get("userinfo"):
                res.unchanged.append(cid)
                continue
            if not update:
                res.rejected.append(
                    Rejection(
                        row_number.get(cid, 0),
                        cid,
                        ("camera_id already in the registry with other values (edit it, or import with --update)",),
                    )
                )
                continue
        if base is None:
            rec["active"] = rec.get("status") != "retired"
            if rec.get("status") == "installed":
                rec["installed_at"] = at
        elif base.get("status") == "retired" and rec.get("status") != "retired":
            rec["retired_at"] = None
            rec["active"] = True
        if row.get("userinfo"):
            secrets[_secret_key(cid)] = str(row["userinfo"])
            remember(str(row["userinfo"]))
        try:
            changes.append(
                record_change(base, rec, action=action, actor=actor, at=at, source=source, batch_id=batch_id)
            )
        except ValueError as exc:  # e.g. an update that changes nothing but the secret
            if "nothing to change" in str(exc):
                res.unchanged.append(cid)
                continue
            res.rejected.append(Rejection(row_number.get(cid, 0), cid, (str(exc),)))
            continue
        (res.updated if base is not None else res.added).append(cid)
    res.rejected.sort(key=lambda r: r.row_number)
    res.changes = changes
    if dry_run:
        return res
    if secrets and secrets_file:
        SecretsFile(secrets_file).put_many(secrets)
    store.write_changes(lake, changes, res.rejected, batch_id=batch_id, source=source, actor=actor, at=at)
    return res


def add_camera(lake: Any, row: Mapping[str, Any], *, actor: str, **kwargs: Any) -> RegistryChange:
    """Add one camera; raises ``RegistryError`` with every reason when the row is invalid or the id exists."""
    kwargs.setdefault("source", "cli:add")
    res = import_cameras(lake, [row], actor=actor, first_row_number=1, action="add", **{**kwargs, "dry_run": True})
    if res.rejected:
        raise RegistryError(f"camera {row.get('camera_id')!r} not added", res.rejected[0].reasons)
    if res.unchanged:
        raise RegistryError(f"camera {row.get('camera_id')!r} is already in the registry with these values")
    res = import_cameras(lake, [row], actor=actor, first_row_number=1, action="add", **kwargs)
    if res.rejected or not res.changes:
        raise RegistryError(
            f"camera {row.get('camera_id')!r} not added", res.rejected[0].reasons if res.rejected else ()
        )
    return res.changes[0]


def _require(lake: Any, camera_id: str) -> dict[str, Any]:
    cam = store.get_camera(lake, camera_id)
    if cam is None:
        raise RegistryError(f"no camera {camera_id!r} in the registry")
    return cam


def edit_camera(
    lake: Any,
    camera_id: str,
    updates: Mapping[str, Any],
    *,
    actor: str,
    note: str = "",
    secrets_file: str | Path | None = None,
    now: datetime | None = None,
    areas: AreaLookup | None = None,
    source: str = "cli:edit",
) -> RegistryChange:
    """Change fields of a planned or installed camera (re-validated as a whole; the area is re-derived).

    Setting ``status`` from planned to installed is recorded as ``install`` and stamps ``installed_at``."""
    at = _now(now)
    base = _require(lake, camera_id)
    if base.get("status") == "retired":
        raise RegistryError(f"camera {camera_id} is retired; add it again under a new id")
    upd = {k: v for k, v in normalise({**updates, "camera_id": camera_id}).items() if v is not None}
    merged = {k: base.get(k) for k in RECORD_FIELDS if base.get(k) is not None}
    merged.pop("kelurahan_code", None)
    if "stream_url" in upd and "stream_kind" not in upd:
        merged.pop("stream_kind", None)
    merged.update(upd)
    existing = store.current_cameras(lake)
    checked = validate_rows(
        [merged], areas or area_lookup(lake), existing, default_status=str(base.get("status") or "installed"),
        skip_ids=[camera_id],
    )  # fmt: skip
    if checked.rejected:
        raise RegistryError(f"camera {camera_id} not changed", checked.rejected[0].reasons)
    row = checked.accepted[0]
    if row.get("userinfo") and not secrets_file:
        raise RegistryError(
            f"camera {camera_id} not changed", ["stream_url has credentials but no secrets file is set"]
        )
    rec = _record_from_row(base, row, set(upd) | {"stream_kind"} if "stream_url" in upd else set(upd))
    action = "edit"
    if base.get("status") == "planned" and rec.get("status") == "installed":
        action = "install"
        rec["installed_at"] = at
        rec["active"] = True
    change = record_change(base, rec, action=action, actor=actor, at=at, note=note, source=source)
    if row.get("userinfo") and secrets_file:
        SecretsFile(secrets_file).put_many({_secret_key(camera_id): str(row["userinfo"])})
        remember(str(row["userinfo"]))
    store.write_changes(lake, [change], actor=actor, at=at)
    return change


def install_camera(
    lake: Any,
    camera_id: str,
    *,
    stream_url: str,
    actor: str,
    stream_kind: str | None = None,
    secret_ref: str | None = None,
    **kwargs: Any,
) -> RegistryChange:
    """A planned camera enters service with its stream: status ``installed``."""
    cam = _require(lake, camera_id)
    if cam.get("status") != "planned":
        raise RegistryError(f"camera {camera_id} is {cam.get('status') or 'installed'}, not planned")
    upd: dict[str, Any] = {"status": "installed", "stream_url": stream_url}
    if stream_kind:
        upd["stream_kind"] = stream_kind
    if secret_ref:
        upd["secret_ref"] = secret_ref
    return edit_camera(lake, camera_id, upd, actor=actor, source="cli:install", **kwargs)


def save_probed_stream(
    lake: Any, camera_id: str, *, stream_url: str, protocol: str, detected: str | None, actor: str, **kwargs: Any
) -> RegistryChange | None:
    """Store the stream a probe resolved for a camera (e.g. a viewer page's HLS playlist), so it is captured.
    Returns None when the camera already has that stream."""
    cam = _require(lake, camera_id)
    if cam.get("stream_url") == stream_url and cam.get("stream_kind") == protocol:
        return None
    return edit_camera(
        lake, camera_id, {"stream_url": stream_url, "stream_kind": protocol}, actor=actor,
        note=f"probe resolved the {detected or 'camera'} URL to its {protocol} stream", source="cli:probe", **kwargs,
    )  # fmt: skip


def retire_camera(
    lake: Any, camera_id: str, *, actor: str, reason: str = "", now: datetime | None = None
) -> RegistryChange:
    """Take a camera out of service: status ``retired``, inactive; capture workers drop it at their next
    heartbeat. Its history stays."""
    at = _now(now)
    base = _require(lake, camera_id)
    if base.get("status") == "retired":
        raise RegistryError(f"camera {camera_id} is already retired")
    rec = {k: base.get(k) for k in RECORD_FIELDS}
    rec.update(status="retired", active=False, retired_at=at)
    change = record_change(base, rec, action="retire", actor=actor, at=at, note=reason, source="cli:retire")
    store.write_changes(lake, [change], actor=actor, at=at)
    return change


def plan_sites(lake: Any) -> list[dict[str, Any]]:
    """The ranked sites of the latest ``pantau plan`` run (``placement_candidates``)."""
    return list(lake.query(SELECT_PLAN_SITES).to_pylist())


def accept_plan(
    lake: Any,
    *,
    actor: str,
    site_ids: Iterable[str] = (),
    top: int | None = None,
    now: datetime | None = None,
    areas: AreaLookup | None = None,
) -> ImportResult:
    """Accept ranked sites of the latest plan into the registry as ``planned`` cameras (id ``plan-<site_id>``)."""
    sites = plan_sites(lake)
    wanted = {str(s) for s in site_ids}
    chosen = [s for s in sites if str(s["site_id"]) in wanted] if wanted else sites[: top or 0]
    missing = wanted - {str(s["site_id"]) for s in chosen}
    if missing:
        raise RegistryError("not in the latest plan: " + ", ".join(sorted(missing)))
    if not chosen:
        raise RegistryError("no plan sites chosen (give site ids or --top N; run `pantau plan --save` first)")
    rows = [
        {
            "camera_id": f"plan-{s['site_id']}",
            "name": f"Rencana #{s['rank']} {s.get('nama_kelurahan') or ''}".strip(),
            "lat": s["lat"],
            "lon": s["lon"],
            "status": "planned",
            "catalog_source": "plan",
            "plan_site_id": str(s["site_id"]),
        }
        for s in chosen
    ]
    return import_cameras(
        lake, rows, actor=actor, source=f"plan:{chosen[0].get('run_id') or ''}", first_row_number=1,
        default_status="planned", action="plan", now=now, areas=areas,
    )  # fmt: skip


def seed_unversioned(lake: Any, *, actor: str = "reference-load", now: datetime | None = None) -> int:
    """Give every camera without history (written by the reference loader) its first version (``seed``)."""
    return len(seed_changes(lake, actor=actor, now=now))


def seed_changes(lake: Any, *, actor: str = "reference-load", now: datetime | None = None) -> list[RegistryChange]:
    """``seed_unversioned``, returning the changes written (for the audit log)."""
    at = _now(now)
    changes = []
    for cam in store.unversioned_cameras(lake):
        rec = {k: cam.get(k) for k in RECORD_FIELDS}
        rec["status"] = rec.get("status") or ("installed" if cam.get("active") is not False else "retired")
        changes.append(record_change(None, rec, action="seed", actor=actor, at=at, source="reference"))
    if changes:
        store.write_changes(lake, changes, actor=actor, at=at)
    return changes


def list_cameras(
    lake: Any, *, status: str | None = None, kota: str | None = None, search: str | None = None
) -> list[dict[str, Any]]:
    out = []
    for cam in store.current_cameras(lake).values():
        st = cam.get("status") or "installed"
        if status and st != status:
            continue
        if kota and kota.lower() not in str(cam.get("kota") or "").lower():
            continue
        if search and search.lower() not in f"{cam.get('camera_id')} {cam.get('name')}".lower():
            continue
        out.append(cam)
    return out
