"""The one function every camera registry change goes through: ``record_change`` (pure, no I/O).

Given the camera record before (None for a new camera) and after, the action and who/when, it returns a
``RegistryChange``: the new record stamped with its version, ``updated_at``/``updated_by``, and the field-level
difference ``{field: [old, new]}``. The lake writer (``ingest.registry.store``) persists exactly what it returns,
and an audit log can subscribe to the same objects. It refuses records that would put a credential in the lake.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.registry.secrets import has_credentials, is_secret_ref

STATUSES: tuple[str, ...] = ("planned", "installed", "retired")
ACTIONS: tuple[str, ...] = ("seed", "add", "import", "edit", "retire", "plan", "install")

# The columns of ``cameras`` a registry change may set (everything else is bookkeeping).
RECORD_FIELDS: tuple[str, ...] = (
    "camera_id", "name", "operator", "provider", "stream_url", "stream_kind", "secret_ref", "lat", "lon",
    "kelurahan_code", "kelurahan", "kecamatan", "kota", "kelurahan_method", "view_radius_m", "heading_deg",
    "zones", "installed_at", "active", "catalog_source", "address", "n_channels", "status", "plan_site_id",
    "retired_at",
)  # fmt: skip
BOOKKEEPING: tuple[str, ...] = ("version", "updated_at", "updated_by")


@dataclass(frozen=True)
class RegistryChange:
    """One change of one camera: who, when, what (``fields``: ``{name: [old, new]}``), and the new record."""

    change_id: str
    camera_id: str
    action: str
    actor: str
    changed_at: datetime
    version: int
    fields: dict[str, list[Any]]
    record: dict[str, Any]
    source: str = ""
    note: str = ""
    batch_id: str = ""
    previous: dict[str, Any] | None = field(default=None, compare=False)

    def as_row(self) -> dict[str, Any]:
        """The ``camera_registry_changes`` row."""
        return {
            "change_id": self.change_id,
            "batch_id": self.batch_id,
            "camera_id": self.camera_id,
            "action": self.action,
            "actor": self.actor,
            "changed_at": self.changed_at,
            "version": self.version,
            "status": self.record.get("status"),
            "fields": json.dumps(self.fields, default=str, ensure_ascii=False, sort_keys=True),
            "source": self.source or None,
            "note": self.note or None,
        }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return bool(a == b)


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` over ``RECORD_FIELDS`` (old is None for a new camera)."""
    out: dict[str, list[Any]] = {}
    for k in RECORD_FIELDS:
        old = None if before is None else before.get(k)
        new = after.get(k)
        if old is None and new is None:
            continue
        if old is None or new is None or not _same(old, new):
            out[k] = [old, new]
    return out


def record_change(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    *,
    action: str,
    actor: str,
    at: datetime,
    source: str = "",
    note: str = "",
    batch_id: str = "",
) -> RegistryChange:
    """Stamp ``after`` as the next version of the camera and describe the change. Raises ``ValueError`` for an
    unknown action or status, a missing actor, a naive timestamp, a camera id that changes, a stream URL with
    credentials, a malformed secret reference, or an edit that changes nothing."""
    if action not in ACTIONS:
        raise ValueError(f"unknown registry action {action!r}; expected one of {ACTIONS}")
    if not actor or not actor.strip():
        raise ValueError("a registry change needs an actor (who made it)")
    if at.tzinfo is None:
        raise ValueError("a registry change needs a timezone-aware time")
    cid = str(after.get("camera_id") or "")
    if not cid:
        raise ValueError("camera_id must not be empty")
    if before is not None and str(before.get("camera_id")) != cid:
        raise ValueError(f"camera_id cannot change ({before.get('camera_id')!r} -> {cid!r})")
    status = after.get("status")
    if status not in STATUSES:
        raise ValueError(f"camera {cid}: unknown status {status!r}; expected one of {STATUSES}")
    if has_credentials(after.get("stream_url")):
        raise ValueError(f"camera {cid}: stream_url carries credentials; store them as a secret reference")
    ref = after.get("secret_ref")
    if ref and not is_secret_ref(str(ref)):
        raise ValueError(f"camera {cid}: bad secret_ref; use env:NAME or file:KEY")
    record = {k: after.get(k) for k in RECORD_FIELDS}
    record["active"] = status != "retired" if after.get("active") is None else bool(after.get("active"))
    changes = diff(before, record)
    if before is not None and not changes:
        raise ValueError(f"camera {cid}: nothing to change")
    version = int((before or {}).get("version") or 0) + 1
    record.update(version=version, updated_at=at, updated_by=actor.strip())
    return RegistryChange(
        change_id=uuid.uuid4().hex,
        camera_id=cid,
        action=action,
        actor=actor.strip(),
        changed_at=at,
        version=version,
        fields=changes,
        record=record,
        source=source,
        note=note,
        batch_id=batch_id,
        previous=dict(before) if before is not None else None,
    )
