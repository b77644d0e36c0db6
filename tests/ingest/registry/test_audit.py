"""Every registry change reaches the append-only audit log through ``audit_registry_changes``: the CLI's, the
reference load's seeding, and changes made by other callers (the demo accepts plan sites this way)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from access.audit import query_audit, verify_audit_chain
from access.roles import system
from alerts.cli_ops import cli_principal
from alerts.db import OpsDB
from ingest.reference import loaders as L
from ingest.reference.pipeline import load_reference_data, write_cameras
from ingest.registry import ops
from ingest.registry.audit import audit_registry_changes

PASSWORD = "Audit-Pw-41f2"


@pytest.fixture
def ops_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ops.sqlite'}"


def _audit_rows(url: str, **kw: Any) -> list[dict[str, Any]]:
    db = OpsDB(url)
    try:
        assert verify_audit_chain(db) >= 0
        return query_audit(db, **{"limit": 100_000, **kw})
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("principal", "role", "source"),
    [
        (system("demo-planner"), "system", "system"),  # an internal caller (the demo)
        (cli_principal("ops-lead"), "admin", None),  # the CLI: admin, source cli:<os user>
    ],
)
def test_each_change_is_one_audit_row_with_before_and_after(
    lake: Any, ops_url: str, tmp_path: Path, principal: Any, role: str, source: str | None
) -> None:
    lake.replace("kelurahan", L.load_kelurahan().table)
    url = f"http://op:{PASSWORD}@cams.example.go.id/a/snap.jpg"
    row = {"camera_id": "cam-a", "lat": -6.2, "lon": 106.82, "stream_url": url, "stream_kind": "snapshot"}
    added = ops.add_camera(lake, row, actor=principal.name, secrets_file=tmp_path / "secrets.json")
    retired = ops.retire_camera(lake, "cam-a", actor=principal.name, reason="pole down")
    assert audit_registry_changes(ops_url, [added, retired], principal) == 2
    rows = _audit_rows(ops_url, target_id="cam-a")
    assert [r["action"] for r in rows] == ["camera.retire", "camera.add"]  # newest first
    assert {r["role"] for r in rows} == {role}
    assert {r["actor"] for r in rows} == {principal.name}
    assert rows[1]["before"] is None and '"status": "installed"' in rows[1]["after"]
    assert '"installed"' in rows[0]["before"] and '"retired"' in rows[0]["after"] and rows[0]["reason"] == "pole down"
    if source is not None:
        assert {r["source"] for r in rows} == {source}
    assert PASSWORD not in repr(rows)


def test_reference_seeding_is_audited_once_per_camera(lake: Any, ops_url: str) -> None:
    def audit(changes: Any) -> int:
        return audit_registry_changes(ops_url, changes, system("reference-load"))

    load_reference_data(lake, audit=audit)
    seeded = _audit_rows(ops_url, action="camera.seed")
    assert len(seeded) == 1289
    assert {r["role"] for r in seeded} == {"system"}
    load_reference_data(lake, audit=audit)  # a second load seeds nothing new: no new rows
    assert len(_audit_rows(ops_url, action="camera.seed")) == 1289
    one = lake.query("SELECT * FROM cameras LIMIT 0").schema
    new_site = pa.Table.from_pylist(
        [{"camera_id": "site-new", "lat": -6.2, "lon": 106.82, "active": True, "name": "Baru"}], schema=one
    )
    assert write_cameras(lake, new_site, audit) == 1
    assert [r["target_id"] for r in _audit_rows(ops_url, action="camera.seed", limit=1)] == ["site-new"]
