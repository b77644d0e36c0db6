"""Every camera registry change also goes to the append-only audit log (``access.audit``) in the operational DB.

This is the one way a registry change reaches the audit log, for every caller: the ``pantau cameras`` commands,
the demo's plan acceptance and the reference load's seeding. The lake keeps each camera's own versioned history;
the audit row (who, role, before/after, secrets redacted) is written right after the lake commit (two databases,
so not one transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingest.registry.changes import RegistryChange


def audit_registry_changes(ops_db_url: str, changes: Sequence[RegistryChange], principal: Any) -> int:
    """Append one audit row per change (action ``camera.<action>``) for ``principal``; returns the rows written."""
    from access.audit import principal_role, record_audit
    from alerts.db import OpsDB

    if not changes:
        return 0
    ops = OpsDB(ops_db_url)
    try:
        with ops.begin() as conn:
            for c in changes:
                record_audit(
                    conn, actor=principal.name, role=principal_role(principal), action=f"camera.{c.action}",
                    target_type="camera", target_id=c.camera_id,
                    before={k: v[0] for k, v in c.fields.items()} if c.previous is not None else None,
                    after={k: v[1] for k, v in c.fields.items()}, reason=c.note, source=principal.source,
                    at=c.changed_at,
                )  # fmt: skip
    finally:
        ops.dispose()
    return len(changes)
