"""Load all reference data into the lake (one call, used by the Dagster assets and the demo)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest.reference import loaders as L
from warehouse.lake import Lake


@dataclass(frozen=True)
class TableLoad:
    table: str
    rows: int
    source_rows: int
    issues: int


def build_reference_tables(data_dir: Path = L.DATA_DIR) -> dict[str, L.RefResult]:
    """Compute every reference table (pure; no lake needed)."""
    kel = L.load_kelurahan(data_dir)
    cams, channels = L.load_cameras(kel.table, data_dir)
    return {
        "kota": L.load_kota(data_dir),
        "kecamatan": L.load_kecamatan(data_dir),
        "kelurahan": kel,
        "cameras": cams,
        "camera_channels": channels,
        "flood_events_2024": L.load_flood_events_2024(kel.table, data_dir),
        "fire_incidents_2024": L.load_fire_incidents_2024(kel.table, data_dir),
        "flood_extent_2017": L.load_flood_extent_2017(data_dir),
        "flood_reports_2017": L.load_flood_reports_2017(kel.table, data_dir),
        "facilities": L.load_facilities(kel.table, data_dir),
        "water_gate_thresholds": L.load_water_gate_thresholds(data_dir),
        "hospital_capacity": L.load_hospital_capacity(data_dir),
        "parking_locations": L.load_parking(kel.table, data_dir),
    }


# receives the registry changes a reference load made (seeded cameras), for the audit log
AuditFn = Callable[[Sequence[Any]], Any]


def load_reference_data(
    lake: Lake,
    data_dir: Path = L.DATA_DIR,
    progress: Callable[[str], None] | None = None,
    audit: AuditFn | None = None,
) -> list[TableLoad]:
    """Replace every reference table and the issue log in the lake; returns per-table counts.

    ``audit`` (``ingest.registry.audit.audit_registry_changes`` bound to an ops DB and a principal) receives the
    registry changes of the cameras seeded now."""
    results = build_reference_tables(data_dir)
    out: list[TableLoad] = []
    all_issues: list[L.RefIssue] = []
    for table, res in results.items():
        if progress:
            progress(table)
        write_table(lake, table, res, audit)
        all_issues += res.issues
        out.append(TableLoad(table, res.table.num_rows, res.source_rows, len(res.issues)))
    lake.replace("reference_issues", L.issues_table(all_issues))
    return out


def write_table(lake: Lake, table: str, result: L.RefResult, audit: AuditFn | None = None) -> pa.Table:
    """Replace a reference table; ``cameras`` goes through the registry (see ``write_cameras``)."""
    if table == "cameras":
        write_cameras(lake, result.table, audit)
    else:
        lake.replace(table, result.table)
    return result.table


def write_cameras(lake: Lake, cameras: pa.Table, audit: AuditFn | None = None) -> int:
    """Seed the camera registry from the reference inventory.

    An empty registry takes the whole inventory; once the registry has history it owns its cameras, and only
    sites it has never seen are added. Every camera without history gets its first version (action ``seed``),
    and ``audit`` receives those changes. Returns the number of cameras seeded now.
    """
    from ingest.registry import ops, store

    if store.registry_version(lake) == 0:
        lake.replace("cameras", cameras)
    else:
        lake.insert_new("cameras", cameras, ["camera_id"])
    changes = ops.seed_changes(lake)
    if audit is not None and changes:
        audit(changes)
    return len(changes)
