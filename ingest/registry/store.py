"""The registry in the lake: current state, versions, change log, rejected import rows, history queries.

``write_changes`` persists a batch of ``RegistryChange`` (one per camera) and the rejected rows of an import in
ONE lake transaction: the ``cameras`` rows are replaced, the open ``camera_versions`` rows are closed at the change
time and the new versions opened, the change log and rejects appended. Either all of it commits or none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from ingest.registry.changes import RegistryChange
from ingest.registry.validate import Rejection

WIB = ZoneInfo("Asia/Jakarta")
TS = pa.timestamp("us", tz="UTC")

CAMERA_SCHEMA = pa.schema(
    [
        ("camera_id", pa.string()), ("name", pa.string()), ("operator", pa.string()), ("provider", pa.string()),
        ("stream_url", pa.string()), ("stream_kind", pa.string()), ("lat", pa.float64()), ("lon", pa.float64()),
        ("kelurahan_code", pa.string()), ("kelurahan", pa.string()), ("kecamatan", pa.string()),
        ("kota", pa.string()), ("kelurahan_method", pa.string()), ("view_radius_m", pa.float64()),
        ("heading_deg", pa.float64()), ("zones", pa.string()), ("installed_at", TS), ("active", pa.bool_()),
        ("catalog_source", pa.string()), ("address", pa.string()), ("n_channels", pa.int32()),
        ("status", pa.string()), ("secret_ref", pa.string()), ("plan_site_id", pa.string()), ("retired_at", TS),
        ("version", pa.int32()), ("updated_at", TS), ("updated_by", pa.string()),
    ]
)  # fmt: skip
VERSION_SCHEMA = pa.schema(
    [("camera_id", pa.string()), ("version", pa.int32()), ("valid_from", TS), ("valid_to", TS),
     ("change_id", pa.string())]
    + [f for f in CAMERA_SCHEMA if f.name not in ("camera_id", "version", "updated_at")]
)  # fmt: skip
CHANGE_SCHEMA = pa.schema(
    [
        ("change_id", pa.string()), ("batch_id", pa.string()), ("camera_id", pa.string()), ("action", pa.string()),
        ("actor", pa.string()), ("changed_at", TS), ("version", pa.int32()), ("status", pa.string()),
        ("fields", pa.string()), ("source", pa.string()), ("note", pa.string()),
    ]
)  # fmt: skip
REJECT_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()), ("source", pa.string()), ("row_number", pa.int32()), ("camera_id", pa.string()),
        ("reasons", pa.string()), ("actor", pa.string()), ("rejected_at", TS),
    ]
)  # fmt: skip

SELECT_CAMERAS = "SELECT * FROM cameras ORDER BY camera_id"
SELECT_CAMERA = "SELECT * FROM cameras WHERE camera_id = ?"
DELETE_CAMERAS = "DELETE FROM cameras WHERE camera_id IN (SELECT camera_id FROM _reg_cams)"
INSERT_CAMERAS = "INSERT INTO cameras BY NAME SELECT * FROM _reg_cams"
CLOSE_VERSIONS = (
    "UPDATE camera_versions SET valid_to = c.changed_at FROM _reg_changes c "
    "WHERE camera_versions.camera_id = c.camera_id AND camera_versions.valid_to IS NULL"
)
INSERT_VERSIONS = "INSERT INTO camera_versions BY NAME SELECT * FROM _reg_versions"
INSERT_CHANGES = "INSERT INTO camera_registry_changes BY NAME SELECT * FROM _reg_changes"
INSERT_REJECTS = "INSERT INTO camera_import_rejects BY NAME SELECT * FROM _reg_rejects"
REGISTRY_VERSION = "SELECT count(*) FROM camera_registry_changes"
AS_OF = "SELECT * FROM camera_versions WHERE valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) ORDER BY camera_id"
LIVE_DURING = (
    "SELECT camera_id, any_value(name ORDER BY version DESC) AS name, any_value(kota ORDER BY version DESC) AS kota, "
    "any_value(kelurahan ORDER BY version DESC) AS kelurahan, "
    "any_value(stream_kind ORDER BY version DESC) AS stream_kind, min(valid_from) AS live_from, "
    "CASE WHEN bool_or(valid_to IS NULL) THEN NULL ELSE max(valid_to) END AS live_to FROM camera_versions "
    "WHERE status = 'installed' AND valid_from < ? AND (valid_to IS NULL OR valid_to > ?) "
    "GROUP BY camera_id ORDER BY camera_id"
)
HISTORY = (
    "SELECT c.changed_at, c.version, c.action, c.actor, c.status, c.fields, c.source, c.note "
    "FROM camera_registry_changes c WHERE c.camera_id = ? ORDER BY c.version"
)
RECENT_CHANGES = (
    "SELECT changed_at, camera_id, action, actor, status, fields, source FROM camera_registry_changes "
    "ORDER BY changed_at DESC, camera_id LIMIT ?"
)
STATUS_COUNTS = "SELECT coalesce(status, 'installed') AS status, count(*) AS n FROM cameras GROUP BY 1 ORDER BY 1"
UNVERSIONED = (
    "SELECT * FROM cameras c WHERE NOT EXISTS (SELECT 1 FROM camera_versions v WHERE v.camera_id = c.camera_id) "
    "ORDER BY camera_id"
)


def _table(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def current_cameras(lake: Any) -> dict[str, dict[str, Any]]:
    """Every camera of the registry (all statuses) by id."""
    return {str(r["camera_id"]): r for r in lake.query(SELECT_CAMERAS).to_pylist()}


def get_camera(lake: Any, camera_id: str) -> dict[str, Any] | None:
    rows = lake.query(SELECT_CAMERA, [camera_id]).to_pylist()
    return rows[0] if rows else None


def unversioned_cameras(lake: Any) -> list[dict[str, Any]]:
    """Cameras written by the reference loader that have no history yet (to be seeded)."""
    return list(lake.query(UNVERSIONED).to_pylist())


def write_changes(
    lake: Any,
    changes: Sequence[RegistryChange],
    rejects: Iterable[Rejection] = (),
    *,
    batch_id: str = "",
    source: str = "",
    actor: str = "",
    at: datetime | None = None,
) -> int:
    """Persist a batch atomically (see the module docstring); returns the number of changes written."""
    ids = [c.camera_id for c in changes]
    if len(set(ids)) != len(ids):
        raise ValueError("one change per camera per batch")
    rej_rows = [
        {**r.as_row(), "batch_id": batch_id, "source": source or None, "actor": actor, "rejected_at": at}
        for r in rejects
    ]
    if not changes and not rej_rows:
        return 0
    cams = _table([c.record for c in changes], CAMERA_SCHEMA)
    versions = _table(
        [{**c.record, "valid_from": c.changed_at, "valid_to": None, "change_id": c.change_id} for c in changes],
        VERSION_SCHEMA,
    )
    log_rows = _table([c.as_row() for c in changes], CHANGE_SCHEMA)
    rej = _table(rej_rows, REJECT_SCHEMA)

    def _do(cur: Any) -> int:
        for name, t in (("_reg_cams", cams), ("_reg_versions", versions), ("_reg_changes", log_rows)):
            cur.register(name, t)
        cur.register("_reg_rejects", rej)
        try:
            if changes:
                cur.execute(DELETE_CAMERAS)
                cur.execute(INSERT_CAMERAS)
                cur.execute(CLOSE_VERSIONS)
                cur.execute(INSERT_VERSIONS)
                cur.execute(INSERT_CHANGES)
            if rej_rows:
                cur.execute(INSERT_REJECTS)
        finally:
            for name in ("_reg_cams", "_reg_versions", "_reg_changes", "_reg_rejects"):
                cur.unregister(name)
        return len(changes)

    return int(lake.write(_do))


def registry_version(lake: Any) -> int:
    """A number that grows with every registry change (the change-log length)."""
    return int(lake.scalar(REGISTRY_VERSION) or 0)


def cameras_as_of(lake: Any, at: datetime) -> list[dict[str, Any]]:
    """The registry as it was at ``at`` (every camera's version valid then)."""
    return list(lake.query(AS_OF, [at, at]).to_pylist())


def day_bounds(day: date, tz: tzinfo = WIB) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    return start, start + timedelta(days=1)


def live_on(lake: Any, day: date, tz: tzinfo = WIB) -> list[dict[str, Any]]:
    """Cameras that were live (status ``installed``) at any moment of ``day`` in ``tz`` (default WIB)."""
    start, end = day_bounds(day, tz)
    return list(lake.query(LIVE_DURING, [end, start]).to_pylist())


def history(lake: Any, camera_id: str) -> list[dict[str, Any]]:
    rows = lake.query(HISTORY, [camera_id]).to_pylist()
    for r in rows:
        r["fields"] = json.loads(r["fields"]) if r.get("fields") else {}
    return list(rows)


def recent_changes(lake: Any, limit: int = 50) -> list[dict[str, Any]]:
    return list(lake.query(RECENT_CHANGES, [limit]).to_pylist())


def status_counts(lake: Any) -> dict[str, int]:
    return {str(r["status"]): int(r["n"]) for r in lake.query(STATUS_COUNTS).to_pylist()}
