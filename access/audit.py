"""The append-only audit log: one row per change to alerts, subscriptions, cameras and users.

Each row says who (actor and role), when, what (action, target) and the state before and after
(JSON, secrets redacted). Rows are written in the same transaction as the change they record, so a
change without its audit row cannot commit. The log cannot be changed afterwards:

* no Pantau function updates or deletes it (there is no such function to call);
* the database refuses it: ``BEFORE UPDATE`` / ``BEFORE DELETE`` triggers abort on SQLite, and on
  PostgreSQL a trigger function refuses UPDATE, DELETE and TRUNCATE;
* every row carries the SHA-256 of its content and of the previous row (a hash chain), so an edit
  made around the triggers (a superuser dropping them) is found by :func:`verify_audit_chain`;
* the chain's end is anchored twice. ``audit_head`` (one row: count, last seq, last hash) is updated
  in the same transaction as every row, so removing the newest rows (truncation) no longer leaves a
  valid-looking chain. Signed checkpoints (:func:`write_checkpoint`: HMAC-SHA256 of the head with a
  key held outside the database, ``PANTAU_AUDIT_KEY``) go to ``audit_checkpoints`` and to the object
  store, so someone who can write SQL and rewrites the head to match a truncated chain is still found
  by :func:`verify_audit` (a checkpoint names a row that is gone or changed, or its MAC fails).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
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

# the end of the chain, updated with every row (same transaction): truncation shows as a head/chain mismatch
audit_head_t = sa.Table(
    "audit_head",
    audit_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

# signed copies of the head (append-only; also written to the object store under CHECKPOINT_PREFIX)
audit_checkpoints_t = sa.Table(
    "audit_checkpoints",
    audit_metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),  # which key signed it (a hash of the key, not the key)
    sa.Column("mac", sa.String(64), nullable=False),
)
CHECKPOINT_PREFIX = "audit/checkpoints/"
HEAD_ID = 1

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints "
    "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
    "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_head cannot be removed'); END",
)
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION pantau_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END $$"
)
_PG_TRIGGERS = (
    ("audit_log_no_change", "BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW"),
    ("audit_log_no_truncate", "BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT"),
    ("audit_checkpoints_no_change", "BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW"),
    ("audit_checkpoints_no_truncate", "BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT"),
    ("audit_head_no_delete", "BEFORE DELETE ON audit_head FOR EACH ROW"),
    ("audit_head_no_truncate", "BEFORE TRUNCATE ON audit_head FOR EACH STATEMENT"),
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
    # a new, empty log starts its head here; a log with rows and no head was tampered with (or predates the
    # head: the ops-DB migration that adds it starts it from the chain), and writing to it is refused
    empty = bind.execute(sa.select(audit_t.c.seq).limit(1)).first() is None
    if empty and bind.execute(sa.select(audit_head_t.c.id)).first() is None:
        start_head(bind)


def start_head(conn: Connection) -> None:
    """Insert the head for the chain as it stands (used on a new log, and once by the migration adding heads)."""
    n = int(conn.execute(sa.select(sa.func.count()).select_from(audit_t)).scalar_one())
    last = conn.execute(sa.select(audit_t.c.seq, audit_t.c.row_hash).order_by(audit_t.c.seq.desc()).limit(1)).first()
    conn.execute(
        sa.insert(audit_head_t).values(
            id=HEAD_ID, row_count=n, last_seq=int(last.seq) if last else 0, last_hash=last.row_hash if last else GENESIS,
            updated_at=datetime.now(UTC).isoformat(timespec="microseconds"),
        )
    )  # fmt: skip


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
        moved = conn.execute(
            sa.update(audit_head_t)
            .where(audit_head_t.c.id == HEAD_ID, audit_head_t.c.last_hash == row["prev_hash"])
            .values(row_count=audit_head_t.c.row_count + 1, last_seq=seq, last_hash=row["row_hash"], updated_at=when)
        ).rowcount
        if moved != 1:  # rolls the change back with its row: nothing is written past a broken anchor
            raise AuditChainError(
                "the audit head does not match the log (removed or rewritten); see pantau audit --verify"
            )
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
    """Check every row's hash and link, and that the head names the chain's end; returns the row count or raises
    :class:`AuditChainError` (an edit, a removed or re-ordered row, a truncated tail, a missing or forged head)."""
    return _verify(target)[0]


def _verify(target: Transactional | Connection) -> tuple[int, dict[int, str]]:
    """The row count and each seq's hash, after checking the chain and the head."""
    q = sa.select(audit_t).order_by(audit_t.c.seq)
    hashes: dict[int, str] = {}
    with contextlib.ExitStack() as stack:
        conn = target if isinstance(target, Connection) else stack.enter_context(target.read())
        prev, n, last_seq = GENESIS, 0, 0
        for r in conn.execute(q):
            row = dict(r._mapping)
            if row["prev_hash"] != prev:
                raise AuditChainError(
                    f"audit row {row['seq']} does not follow the row before it (removed or reordered)"
                )
            if _hash(prev, row) != row["row_hash"]:
                raise AuditChainError(f"audit row {row['seq']} was changed after it was written")
            prev, n, last_seq = row["row_hash"], n + 1, int(row["seq"])
            hashes[last_seq] = prev
        head = conn.execute(sa.select(audit_head_t).where(audit_head_t.c.id == HEAD_ID)).first()
    if head is None:
        raise AuditChainError("the audit head is missing (removed)")
    if (int(head.row_count), int(head.last_seq), head.last_hash) != (n, last_seq, prev):
        raise AuditChainError(
            f"the audit head says {head.row_count} rows ending at row {head.last_seq}, the log has {n} ending at "
            f"row {last_seq}: rows were removed from the end (truncated) or the head was rewritten"
        )
    return n, hashes


# -- signed checkpoints ---------------------------------------------------------------------------------------


class CheckpointStore(Protocol):
    """The part of an object store the checkpoints use (``warehouse.object_store`` implements it)."""

    def put_bytes(self, key: str, data: bytes, content_type: str = ..., *, durable: bool = ...) -> str: ...

    def get_bytes(self, key: str) -> bytes: ...

    def list(self, prefix: str = "") -> Any: ...


@dataclass(frozen=True)
class AuditReport:
    rows: int
    checkpoints: int  # signed checkpoints checked (ops DB and object store)


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"pantau-audit-key:" + key).hexdigest()[:16]


def _mac(key: bytes, at: str, row_count: int, last_seq: int, last_hash: str) -> str:
    msg = json.dumps(["pantau-audit-checkpoint/1", at, row_count, last_seq, last_hash]).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def write_checkpoint(target: Transactional, key: bytes, store: CheckpointStore | None = None) -> dict[str, Any]:
    """Verify the log, then sign its head into ``audit_checkpoints`` and (when given) the object store.

    Refuses (``AuditChainError``) to sign a log that does not verify: a checkpoint vouches for what it names.
    """
    if len(key) < 16:
        raise ValueError("the audit checkpoint key needs at least 16 bytes")
    with target.begin() as conn:
        if conn.dialect.name == "postgresql":  # no row is added while the head is read and signed
            conn.exec_driver_sql("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
        n, hashes = _verify(conn)
        last_seq = max(hashes, default=0)
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        last_hash = hashes.get(last_seq, GENESIS)
        cp: dict[str, Any] = {
            "at": at, "row_count": n, "last_seq": last_seq, "last_hash": last_hash, "key_id": key_id(key),
            "mac": _mac(key, at, n, last_seq, last_hash),
        }  # fmt: skip
        conn.execute(sa.insert(audit_checkpoints_t).values(**cp))
    if store is not None:
        name = f"{CHECKPOINT_PREFIX}{at.replace(':', '').replace('+', 'Z')}-{n:012d}.json"
        store.put_bytes(name, json.dumps(cp, sort_keys=True).encode(), "application/json")
    return cp


def _check_checkpoint(cp: Mapping[str, Any], key: bytes | None, n: int, hashes: dict[int, str], where: str) -> None:
    count, seq, last = int(cp["row_count"]), int(cp["last_seq"]), str(cp["last_hash"])
    if key is not None and cp.get("key_id") == key_id(key):
        if not hmac.compare_digest(_mac(key, str(cp["at"]), count, seq, last), str(cp.get("mac", ""))):
            raise AuditChainError(f"checkpoint {where} has a bad signature (forged or edited)")
    elif key is not None:
        raise AuditChainError(f"checkpoint {where} was signed with another key ({cp.get('key_id')})")
    if count > n or (count and hashes.get(seq) != last):
        raise AuditChainError(
            f"checkpoint {where} vouches for {count} rows ending at row {seq}; the log has {n}: rows were removed "
            "(truncated) or rewritten after it was signed"
        )
    if sum(1 for s in hashes if s <= seq) != count:
        raise AuditChainError(f"checkpoint {where}: the rows up to row {seq} are not the {count} it signed")


def verify_audit(
    target: Transactional, *, key: bytes | None = None, store: CheckpointStore | None = None
) -> AuditReport:
    """:func:`verify_audit_chain` plus every signed checkpoint in the ops DB and the object store.

    Without ``key`` the checkpoints are checked against the chain but their signatures are not.
    """
    n, hashes = _verify(target)
    checked = 0
    with target.read() as conn:
        rows = [
            dict(r._mapping) for r in conn.execute(sa.select(audit_checkpoints_t).order_by(audit_checkpoints_t.c.seq))
        ]
    for cp in rows:
        _check_checkpoint(cp, key, n, hashes, f"#{cp['seq']} (ops DB)")
        checked += 1
    if store is not None:
        in_db = {(str(cp["at"]), str(cp["mac"])) for cp in rows}
        for info in store.list(CHECKPOINT_PREFIX):
            cp = json.loads(store.get_bytes(info.key))
            _check_checkpoint(cp, key, n, hashes, info.key)
            if (str(cp["at"]), str(cp["mac"])) not in in_db:
                raise AuditChainError(f"checkpoint {info.key} is missing from the ops DB (removed)")
            checked += 1
    return AuditReport(n, checked)
