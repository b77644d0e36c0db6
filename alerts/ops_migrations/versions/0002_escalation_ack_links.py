"""Escalation tiers and one-time acknowledgement links.

``subscriptions.escalation_tier`` (0: every matching alert; N: only alerts left unacknowledged until tier N),
``alert_escalations`` (one row per tier an alert reached) and ``alert_ack_tokens`` (each acknowledgement link is
accepted once: its delivery id is recorded with the acknowledgement).

Revision ID: 0002_escalation_ack_links
Revises: 0001_baseline
Create Date: 2026-12-04 16:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_escalation_ack_links"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made by a newer ``create_all`` and stamped at the baseline already has these: add what is missing
    insp = sa.inspect(op.get_bind())
    if "escalation_tier" not in {c["name"] for c in insp.get_columns("subscriptions")}:
        with op.batch_alter_table("subscriptions", schema=None) as batch_op:
            batch_op.add_column(sa.Column("escalation_tier", sa.Integer(), server_default="0", nullable=False))
    if not insp.has_table("alert_escalations"):
        _create_escalations()
    if not insp.has_table("alert_ack_tokens"):
        _create_ack_tokens()


def _create_escalations() -> None:
    op.create_table(
        "alert_escalations",
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", "tier"),
    )


def _create_ack_tokens() -> None:
    op.create_table(
        "alert_ack_tokens",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("subscriber_id", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token_id"),
    )


def downgrade() -> None:
    op.drop_table("alert_ack_tokens")
    op.drop_table("alert_escalations")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("escalation_tier")
