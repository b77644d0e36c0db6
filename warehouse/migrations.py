"""Versioned schema migrations for the lake.

Migration files live in ``warehouse/sql/migrations`` as ``NNNN_name.sql``; statements are
separated by ``;`` at line ends. Each applied version is recorded in ``schema_migrations``
in the same transaction as its statements, so a migration applies entirely or not at all.

Number ranges by domain (keeps parallel work from colliding):
0001-0099 foundation/reference, 0100-0199 cameras, 0200-0299 risk, 0300-0399 jaki,
0400-0499 alerts, 0500-0599 open data, 0600-0699 planning, 0700-0799 operations.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.lake import MIGRATIONS_DIR, Lake

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER, name VARCHAR, applied_at TIMESTAMPTZ)"
)
SELECT_APPLIED = "SELECT version FROM schema_migrations ORDER BY version"
INSERT_APPLIED = "INSERT INTO schema_migrations VALUES (?, ?, ?)"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        text = "\n".join(line for line in self.path.read_text().splitlines() if not line.strip().startswith("--"))
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip()]


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise ValueError(f"bad migration file name {path.name}: expected NNNN_name.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return found


def migrate(lake: Lake, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply every pending migration in order, all in one transaction; returns the versions applied.

    One transaction means one catalog commit: either the schema moves to the newest version or
    it stays where it was (a failing migration leaves nothing behind).
    """
    migrations = discover(directory)

    def _apply(cur: duckdb.DuckDBPyConnection) -> list[int]:
        cur.execute(CREATE_MIGRATIONS_TABLE)
        done = {r[0] for r in cur.execute(SELECT_APPLIED).fetchall()}
        applied: list[int] = []
        now = datetime.now(UTC)
        for mig in migrations:
            if mig.version in done:
                continue
            for stmt in mig.statements():
                cur.execute(stmt)
            applied.append(mig.version)
        if applied:
            cur.execute(
                "INSERT INTO schema_migrations SELECT * FROM (VALUES " + ", ".join(["(?, ?, ?)"] * len(applied)) + ")",
                [v for m in migrations if m.version in applied for v in (m.version, m.name, now)],
            )
        return applied

    applied_now: list[int] = lake.write(_apply)
    for v in applied_now:
        log.info("applied migration %04d", v)
    return applied_now


def current_version(lake: Lake) -> int:
    try:
        v = lake.scalar("SELECT max(version) FROM schema_migrations")
    except duckdb.Error:
        return 0
    return int(v or 0)
