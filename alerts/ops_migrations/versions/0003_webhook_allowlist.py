"""The admin allow-list of private webhook targets (``alerts.allowlist``).

UTC datetimes are plain ``DateTime`` columns (``alerts.db.UTCDateTime`` converts in Python only).

Revision ID: 0003_webhook_allowlist
Revises: 0002_escalation_ack_links
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_webhook_allowlist"
down_revision = "0002_escalation_ack_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("webhook_allowlist"):  # made by a newer create_all
        return
    op.create_table(
        "webhook_allowlist",
        sa.Column("entry", sa.String(length=253), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry"),
    )


def downgrade() -> None:
    op.drop_table("webhook_allowlist")
