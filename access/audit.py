"""The append-only audit log: one row per change to alerts, subscriptions, cameras and users.

Each row says who (actor and role), when, what (action, target) and the state before and after
(JSON, secrets redacted). Rows are written in the same transaction as the change they record, so a
change without its audit row cannot commit. The log cannot be changed afterwards:

* no Pantau function updates or deletes it (there is no such function to call);
* the database refuses it: ``BEFORE UPDATE`` / ``BEFORE DELETE`` triggers abort on SQLite, and on
  PostgreSQL a trigger function refuses UPDATE, DELETE and TRUNCATE;
* every row carries the SHA-256 of its content and of the previous row (a hash chain), so an edit
  made around the triggers (a superuser dropping them) is found by :func:`verify_audit_chain`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from access.roles import Role

audit_metadata = sa.MetaData()

audit_t = sa.Table(
    "audit_log",
    audit_metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False),  # ISO 8601 UTC, microseconds (hashed as stored)
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # public|analyst|operator|admin, or system (internal call)
    sa.Column("action", sa.String(64), nullable=False),  # alert.acknowledge, subscription.add, camera.edit, ...
    sa.Column("target_type", sa.String(32), nullable=False),
    sa.Column("target_id", sa.String(200), nullable=False),
    sa.Column("before", sa.Text),  # JSON or NULL
    sa.Column("after", sa.Text),  # JSON or NULL
    sa.Column("reason", sa.Text),
    sa.Column("source", sa.String(32), nullable=False),  # dashboard | cli | api | pipeline
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False, unique=True),
    sa.Index("ix_audit_target", "target_type", "target_id"),
)
AUDIT_COLUMNS = tuple(c.name for c in audit_t.columns)
GENESIS = "0" * 64

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION pantau_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
)
_PG_TRIGGERS = (
    ("audit_log_no_change", "BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW"),
    ("audit_log_no_truncate", "BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT"),
)
_PG_TRIGGER_EXISTS = "SELECT 1 FROM pg_trigger WHERE tgname = :name"

# keys whose values never enter the log, and credentials inside URLs (scheme://user:password@host)
_SECRET_KEY = re.compile(r"secret|passw|token|api_?key|credential|private", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<pre>[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:)[^/@\s]+@")
# query parameters that carry credentials (?token=..., &api_key=..., &sig=...)
_QUERY_SECRET = re.compile(
    r"(?P<pre>[?&][^=&\s#]*(?:token|key|secret|sig|passw|auth|credential)[^=&\s#]*=)[^&\s#\"']+", re.IGNORECASE
)
REDACTED = "[redacted]"


class Transactional(Protocol):
    """Anything that hands out write and read connections (``alerts.db.OpsDB`` does)."""

    def begin(self) -> contextlib.AbstractContextManager[Connection]: ...

    def read(self) -> contextlib.AbstractContextManager[Connection]: ...


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    role: str
    action: str
    target_type: str
    target_id: str
    row_hash: str


class AuditChainError(RuntimeError):
    pass


def redact(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) with secret fields and URL passwords replaced by ``[redacted]``."""
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        value = _URL_PASSWORD.sub(lambda m: m.group("pre") + REDACTED + "@", value)
        return _QUERY_SECRET.sub(lambda m: m.group("pre") + REDACTED, value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _json(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(redact(value), sort_keys=True, default=str, ensure_ascii=False)


def _hash(prev: str, row: Mapping[str, Any]) -> str:
    fields = [prev] + [row.get(c) for c in AUDIT_COLUMNS if c not in ("seq", "prev_hash", "row_hash")]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def ensure_audit_schema(bind: Engine | Connection) -> None:
    """Create ``audit_log`` and the triggers that make it append-only (idempotent)."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            ensure_audit_schema(conn)
        return
    audit_metadata.create_all(bind, checkfirst=True)
    if bind.dialect.name == "sqlite":
        for ddl in _SQLITE_TRIGGERS:
            bind.exec_driver_sql(ddl)
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql(_PG_FUNCTION)
        for name, when in _PG_TRIGGERS:
            if bind.execute(sa.text(_PG_TRIGGER_EXISTS), {"name": name}).first() is None:
                bind.exec_driver_sql(
                    f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION pantau_audit_append_only()"  # constant names
                )


@contextlib.contextmanager
def _conn(target: Transactional | Connection) -> Iterator[Connection]:
    if isinstance(target, Connection):
        yield target
    else:
        with target.begin() as conn:
            yield conn


def principal_role(principal: Any) -> str:
    """The role an audit row records for a principal: ``system`` for internal calls (no interface)."""
    return "system" if getattr(principal, "source", "") == "system" else Role.parse(principal.role).value


def record_audit(
    target: Transactional | Connection,
    *,
    actor: str,
    role: Role | str,
    action: str,
    target_type: str,
    target_id: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
    source: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Append one audit row, inside ``target`` when it is a connection (the caller's transaction).

    Pass the same connection the change is written with: the change and its audit row then commit
    or roll back together. ``before``/``after`` are JSON-able mappings; secret fields are redacted.
    """
    if not actor or not actor.strip():
        raise ValueError("an audit row needs an actor")
    when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    row: dict[str, Any] = {
        "at": when,
        "actor": actor.strip()[:200],
        "role": "system" if str(role) == "system" else Role.parse(role).value,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id)[:200],
        "before": _json(before),
        "after": _json(after),
        "reason": reason or None,
        "source": source or "unknown",
    }
    with _conn(target) as conn:
        if conn.dialect.name == "postgresql":  # one writer at a time extends the chain
            conn.exec_driver_sql("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
        prev = conn.execute(sa.select(audit_t.c.row_hash).order_by(audit_t.c.seq.desc()).limit(1)).scalar()
        row["prev_hash"] = prev or GENESIS
        row["row_hash"] = _hash(row["prev_hash"], row)
        seq = conn.execute(sa.insert(audit_t).values(**row)).inserted_primary_key[0]  # type: ignore[index]
    return AuditEntry(int(seq), when, row["actor"], row["role"], action, target_type, row["target_id"], row["row_hash"])


def query_audit(
    target: Transactional | Connection,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Audit rows, newest first, filtered by exact values (bound parameters only)."""
    q = sa.select(audit_t).order_by(audit_t.c.seq.desc()).limit(max(1, min(int(limit), 100_000)))
    for col, value in (
        (audit_t.c.action, action),
        (audit_t.c.actor, actor),
        (audit_t.c.target_type, target_type),
        (audit_t.c.target_id, target_id),
    ):
        if value:
            q = q.where(col == value)
    if since is not None:
        q = q.where(audit_t.c.at >= since.astimezone(UTC).isoformat(timespec="microseconds"))
    if isinstance(target, Connection):
        return [dict(r._mapping) for r in target.execute(q)]
    with target.read() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def verify_audit_chain(target: Transactional | Connection) -> int:
    """Check every row's hash and link; returns the row count or raises :class:`AuditChainError`."""
    q = sa.select(audit_t).order_by(audit_t.c.seq)
    with contextlib.ExitStack() as stack:
        conn = target if isinstance(target, Connection) else stack.enter_context(target.read())
        prev, n = GENESIS, 0
        for r in conn.execute(q):
            row = dict(r._mapping)
            if row["prev_hash"] != prev:
                raise AuditChainError(
                    f"audit row {row['seq']} does not follow the row before it (removed or reordered)"
                )
            if _hash(prev, row) != row["row_hash"]:
                raise AuditChainError(f"audit row {row['seq']} was changed after it was written")
            prev, n = row["row_hash"], n + 1
    return n
