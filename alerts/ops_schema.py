"""The operational database's schema, versioned with Alembic (``alerts/ops_migrations``).

``upgrade_ops_db(engine)`` brings any ops database to the newest revision and is what ``OpsDB`` runs when it opens
one (``pantau migrate`` and ``pantau ops-db upgrade`` run it explicitly):

* a new, empty database gets every revision from ``0001_baseline``;
* a database made by the earlier ``metadata.create_all`` (tables present, no ``alembic_version``) is stamped at
  the baseline first, so only later revisions run on it;
* a database already at the head costs one ``SELECT`` (the head is read once per process).

Concurrent starters (capture workers, Celery workers, the daemon) are serialised: PostgreSQL by a transaction-level
advisory lock, SQLite by ``BEGIN IMMEDIATE`` (``alerts.db``), so one upgrades and the others find the head.
A schema change is a new file in ``alerts/ops_migrations/versions`` (``pantau ops-db revision -m "..."`` writes
one from the difference between the models and a database at head).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).parent / "ops_migrations"
BASELINE = "0001_baseline"
ADVISORY_LOCK_KEY = 0x70616E74  # "pant": one key for every Pantau ops-DB schema change
LEGACY_MARKER = "alerts"  # a table every create_all database has


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no ops-DB revisions in {SCRIPT_LOCATION}")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade_ops_db(engine: Engine, target: str = "head") -> str | None:
    """Upgrade the database to ``target``; returns the revision it started from (None: new or legacy database)."""
    if target == "head":
        with engine.connect() as conn:
            if current_revision(conn) == head_revision():
                return head_revision()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        start = current_revision(conn)
        cfg = alembic_config(conn)
        if start is None and sa.inspect(conn).has_table(LEGACY_MARKER):
            log.info("ops DB made before migrations: stamping %s", BASELINE)
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, target)
        now = current_revision(conn)
    if start != now:
        log.info("ops DB upgraded from %s to %s", start, now)
    return start


def revision(url: str, message: str) -> str:
    """Write a new revision from the difference between the models and the database at ``url`` (at head)."""
    cfg = alembic_config(url=url)
    script = command.revision(cfg, message=message, autogenerate=True)
    path = getattr(script, "path", "")
    return str(path)
