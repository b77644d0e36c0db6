"""Sign-in throttling per account name and client address (``access.accounts``).

Revision ID: 0004_signin_throttle
Revises: 0003_webhook_allowlist
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_signin_throttle"
down_revision = "0003_webhook_allowlist"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("signin_throttle"):  # made by a newer create_all
        return
    op.create_table(
        "signin_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.String(length=40), nullable=False),
        sa.Column("locked_until", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("signin_throttle")
