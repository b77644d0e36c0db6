"""Alembic environment for the operational database.

``alerts.ops_schema`` passes an open connection in ``config.attributes["connection"]`` (so the upgrade runs inside
the caller's transaction and lock); the ``alembic`` command line may instead set ``sqlalchemy.url``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import access.accounts  # noqa: F401  (registers pantau_users on audit_metadata)
from access.audit import audit_metadata
from alerts.db import metadata as alerts_metadata

config = context.config
target_metadata = [alerts_metadata, audit_metadata]


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite goes through table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
