"""record_change: the one pure function every registry change goes through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.registry.changes import record_change

AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
BASE: dict[str, Any] = {
    "camera_id": "c1", "name": "Cam 1", "status": "installed", "stream_url": "http://cam.example/snap.jpg",
    "stream_kind": "snapshot", "lat": -6.2, "lon": 106.8, "active": True, "version": 3,
}  # fmt: skip


def test_new_camera_is_version_one_with_every_field_as_added() -> None:
    ch = record_change(None, {**BASE, "version": None}, action="add", actor="alice", at=AT)
    assert ch.version == 1 and ch.record["version"] == 1
    assert ch.record["updated_by"] == "alice" and ch.record["updated_at"] == AT
    assert ch.fields["name"] == [None, "Cam 1"] and ch.fields["lat"] == [None, -6.2]
    row = ch.as_row()
    assert row["actor"] == "alice" and row["changed_at"] == AT and row["action"] == "add"


def test_edit_records_only_what_changed_and_bumps_the_version() -> None:
    ch = record_change(BASE, {**BASE, "name": "Cam One", "lat": -6.21}, action="edit", actor="bob", at=AT)
    assert ch.version == 4
    assert ch.fields == {"name": ["Cam 1", "Cam One"], "lat": [-6.2, -6.21]}
    assert ch.previous == BASE


def test_retire_sets_inactive() -> None:
    ch = record_change(BASE, {**BASE, "status": "retired", "active": False}, action="retire", actor="ops", at=AT)
    assert ch.record["active"] is False and ch.fields["status"] == ["installed", "retired"]


@pytest.mark.parametrize(
    ("before", "after", "kw", "message"),
    [
        (None, BASE, {"action": "delete"}, "unknown registry action"),
        (None, BASE, {"actor": " "}, "needs an actor"),
        (None, BASE, {"at": datetime(2026, 1, 1)}, "timezone-aware"),
        (None, {**BASE, "status": "broken"}, {}, "unknown status"),
        (None, {**BASE, "camera_id": ""}, {}, "camera_id must not be empty"),
        (BASE, {**BASE, "camera_id": "c2"}, {}, "cannot change"),
        (None, {**BASE, "stream_url": "rtsp://admin:hunter22@10.0.0.1/live"}, {}, "carries credentials"),
        (None, {**BASE, "secret_ref": "hunter22"}, {}, "bad secret_ref"),
        (BASE, dict(BASE), {"action": "edit"}, "nothing to change"),
    ],
)
def test_refuses(before: Any, after: Any, kw: dict[str, Any], message: str) -> None:
    args = {"action": "add", "actor": "alice", "at": AT, **kw}
    with pytest.raises(ValueError, match=message):
        record_change(before, after, **args)
