"""The audit log's anchors: ``audit_head`` (the chain's end, updated with every row) and ``audit_checkpoints``
(signed copies of the head, append-only), with their triggers (``access.audit``).

A log that already has rows gets its head from the chain as it stands now.

Revision ID: 0005_audit_anchor
Revises: 0004_signin_throttle
Create Date: 2026-12-04 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from access.audit import audit_head_t, ensure_audit_schema, start_head

revision = "0005_audit_anchor"
down_revision = "0004_signin_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    ensure_audit_schema(bind)  # the new tables and triggers (a new, empty log starts its head here)
    if bind.execute(sa.select(audit_head_t.c.id)).first() is None:
        start_head(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("audit_checkpoints_no_update", "audit_checkpoints_no_delete", "audit_head_no_delete"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")  # constant names
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
