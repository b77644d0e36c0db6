"""Local accounts for the embedded default: usernames, roles and argon2id password hashes.

Passwords are stored only as argon2id hashes (``argon2-cffi``; each hash carries its own random
salt and parameters). A wrong password and an unknown user cost the same time. Every change to an
account is audited. Deployments with an identity provider sign in through OIDC instead (see
``dashboards/auth.py``).

Sign-in throttling (brute force, password spraying): failed attempts are counted per account name
and per client address in ``signin_throttle`` (the ops DB, so the count survives restarts and is
shared by every dashboard session and process). After :data:`ACCOUNT_FREE_FAILURES` failures for an
account name, or :data:`CLIENT_FREE_FAILURES` from one client address, each further failure locks
that key for :data:`BASE_LOCK` doubled per failure beyond the allowance, up to :data:`MAX_LOCK`.
While a key is locked every attempt is refused before the password is checked (a correct password
too) and is not counted. A success clears the account's count, never the client's (a client
cannot reset its count by signing in to its own account); counts are forgotten :data:`FORGET_AFTER`
the last failure. Unknown account names are throttled like real ones, so the lock message says
nothing about which accounts exist.

Failures are counted in the throttle table, not the audit log: the log is append-only forever and an
unauthenticated client must not be able to grow it at will. Each lock of a real account or of a
client address is audited (``signin.locked``), at most one row per lock window and key.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from access.audit import Transactional, audit_metadata, ensure_audit_schema, principal_role, record_audit
from access.roles import ANONYMOUS, SYSTEM, Permission, Principal, Role, require, system

__all__ = ["ANONYMOUS", "SYSTEM", "Principal", "system"]

log = logging.getLogger(__name__)

users_t = sa.Table(
    "pantau_users",
    audit_metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.String(40)),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes anything, but an attacker's megabyte password is refused early
ACCOUNT_FREE_FAILURES = 5  # failures per account name before the first lock
CLIENT_FREE_FAILURES = 20  # per client address (an office behind one NAT shares it)
BASE_LOCK = timedelta(minutes=1)  # the first lock; each further failure doubles it
MAX_LOCK = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)  # a key's count is forgotten this long after its last failure
_HASHER = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))  # verified against for unknown users


throttle_t = sa.Table(
    "signin_throttle",
    audit_metadata,
    sa.Column("key", sa.String(300), primary_key=True),  # "account:<name>" | "client:<address>"
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", sa.String(40), nullable=False),
    sa.Column("locked_until", sa.String(40)),
)


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the principal, or why not (``locked_for`` > 0 while throttled)."""

    principal: Principal | None
    locked_for: timedelta = timedelta(0)

    @property
    def locked(self) -> bool:
        return self.locked_for > timedelta(0)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def ensure_account_schema(bind: Engine | Connection) -> None:
    """The users table and the audit log (with its append-only triggers)."""
    ensure_audit_schema(bind)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password has at most {MAX_PASSWORD} characters")


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, ~120 bits


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "password_hash"}


def add_user(
    db: Transactional, username: str, password: str, role: Role | str, *, by: Principal, source: str = ""
) -> dict[str, Any]:
    """Create an account (admins only); the password is hashed, never stored or logged."""
    require(by.role, Permission.MANAGE_USERS, by.name)
    if not USERNAME.match(username):
        raise AccountError("a username is 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    r = Role(role) if isinstance(role, Role) else Role.parse(role)
    if r.value != str(role).strip().lower():
        raise AccountError(f"unknown role {role!r} (public, analyst, operator, admin)")
    check_password(password)
    now = _iso(_now())
    row = {
        "username": username,
        "role": r.value,
        "password_hash": _HASHER.hash(password),
        "active": True,
        "failed_logins": 0,
        "locked_until": None,
        "created_at": now,
        "updated_at": now,
    }
    with db.begin() as conn:
        if conn.execute(sa.select(users_t.c.username).where(users_t.c.username == username)).first():
            raise AccountError(f"user {username!r} exists")
        conn.execute(sa.insert(users_t).values(**row))
        record_audit(
            conn, actor=by.name, role=principal_role(by), action="user.add", target_type="user", target_id=username,
            after=_public(row), source=source or by.source,
        )  # fmt: skip
    return _public(row)


def _change(
    db: Transactional, username: str, values: dict[str, Any], action: str, by: Principal, source: str
) -> dict[str, Any]:
    require(by.role, Permission.MANAGE_USERS, by.name)
    with db.begin() as conn:
        old = conn.execute(sa.select(users_t).where(users_t.c.username == username)).first()
        if old is None:
            raise AccountError(f"no user {username!r}")
        before = _public(dict(old._mapping))
        values = {**values, "updated_at": _iso(_now())}
        conn.execute(sa.update(users_t).where(users_t.c.username == username).values(**values))
        after = {**before, **_public(values)}
        record_audit(
            conn, actor=by.name, role=principal_role(by), action=action, target_type="user", target_id=username,
            before=before, after=after, source=source or by.source,
        )  # fmt: skip
    return after


def set_password(db: Transactional, username: str, password: str, *, by: Principal, source: str = "") -> None:
    check_password(password)
    values = {"password_hash": _HASHER.hash(password), "failed_logins": 0, "locked_until": None}
    _change(db, username, values, "user.password", by, source)
    clear_throttle(db, username)


def set_role(db: Transactional, username: str, role: Role | str, *, by: Principal, source: str = "") -> None:
    r = Role.parse(role)
    if r.value != str(role).strip().lower():
        raise AccountError(f"unknown role {role!r}")
    _change(db, username, {"role": r.value}, "user.role", by, source)


def deactivate_user(db: Transactional, username: str, *, by: Principal, source: str = "") -> None:
    _change(db, username, {"active": False}, "user.deactivate", by, source)


def list_users(db: Transactional) -> list[dict[str, Any]]:
    """Accounts (never the hash); ``locked_until`` is the sign-in throttle's lock when one is running."""
    with db.read() as conn:
        rows = [_public(dict(r._mapping)) for r in conn.execute(sa.select(users_t).order_by(users_t.c.username))]
    for r in rows:
        r["locked_until"] = account_locked_until(db, r["username"])
    return rows


def authenticate(db: Transactional, username: str, password: str, *, now: datetime | None = None) -> Principal | None:
    """The principal for a correct username and password; None otherwise (never says which was wrong)."""
    return sign_in(db, username, password, now=now).principal


def _keys(username: str, client: str) -> list[tuple[str, int]]:
    return [(f"account:{username[:64]}", ACCOUNT_FREE_FAILURES), (f"client:{client[:64]}", CLIENT_FREE_FAILURES)]


def lock_length(failures: int, free: int) -> timedelta:
    """How long a key is locked after its ``failures``-th failure (zero within the allowance)."""
    if failures < free:
        return timedelta(0)
    return min(MAX_LOCK, BASE_LOCK * 2 ** min(failures - free, 16))


def _throttle_rows(conn: Connection, keys: list[str], now: datetime, *, lock: bool = False) -> dict[str, Any]:
    q = sa.select(throttle_t).where(throttle_t.c.key.in_(keys))
    rows = {r.key: r for r in conn.execute(q.with_for_update() if lock else q)}  # PostgreSQL: counts in order
    return {k: r for k, r in rows.items() if datetime.fromisoformat(r.last_failure_at) > now - FORGET_AFTER}


def _locked_for(rows: dict[str, Any], now: datetime) -> timedelta:
    ends = [datetime.fromisoformat(r.locked_until) for r in rows.values() if r.locked_until]
    return max((e - now for e in ends if e > now), default=timedelta(0))


def sign_in(
    db: Transactional, username: str, password: str, *, client: str = "unknown", now: datetime | None = None
) -> SignIn:
    """Check a sign-in against the account store and the throttle (per account name and client address).

    ``client`` is the caller's address as the server saw it. A locked key refuses the attempt before
    the password is checked; a failure is counted against both keys and may start a lock.
    """
    now = now or _now()
    username = (username or "").strip().lower()
    valid_name = bool(USERNAME.match(username))
    keys = _keys(username if valid_name else "-invalid-", client or "unknown")
    with db.begin() as conn:
        rows = _throttle_rows(conn, [k for k, _ in keys], now, lock=True)
        wait = _locked_for(rows, now)
        if wait:
            return SignIn(None, wait)
        if not valid_name or not password or len(password) > MAX_PASSWORD:
            _verify(_DUMMY_HASH, password or "x")
            return _failed(conn, keys, rows, None, client, now)
        row = conn.execute(sa.select(users_t).where(users_t.c.username == username)).first()
        if row is None or not row.active:
            _verify(_DUMMY_HASH, password)
            return _failed(conn, keys, rows, None, client, now)
        if not _verify(row.password_hash, password):
            return _failed(conn, keys, rows, username, client, now)
        conn.execute(sa.delete(throttle_t).where(throttle_t.c.key == keys[0][0]))  # the account's count only
        if _HASHER.check_needs_rehash(row.password_hash):
            values = {"password_hash": _HASHER.hash(password), "updated_at": _iso(now)}
            conn.execute(sa.update(users_t).where(users_t.c.username == username).values(**values))
        return SignIn(Principal(username, Role.parse(row.role), "local"))


def _failed(
    conn: Connection, keys: list[tuple[str, int]], rows: dict[str, Any], account: str | None, client: str, now: datetime
) -> SignIn:
    """Count a failure against each key; lock those past their allowance (audited for real accounts and clients)."""
    conn.execute(sa.delete(throttle_t).where(throttle_t.c.last_failure_at < _iso(now - FORGET_AFTER)))
    longest = timedelta(0)
    for key, free in keys:
        failures = (int(rows[key].failures) if key in rows else 0) + 1
        lock = lock_length(failures, free)
        values = {
            "failures": failures,
            "last_failure_at": _iso(now),
            "locked_until": _iso(now + lock) if lock else None,
        }
        _upsert_throttle(conn, key, values)
        if not lock:
            continue
        longest = max(longest, lock)
        kind, _, name = key.partition(":")
        if kind == "account" and account is None:
            continue  # an unknown name: throttled, but not worth a permanent audit row
        record_audit(
            conn, actor="anonymous", role=Role.PUBLIC, action="signin.locked",
            target_type="user" if kind == "account" else "client", target_id=name,
            after={"failures": failures, "locked_until": values["locked_until"], "client": client},
            source="dashboard",
        )  # fmt: skip
    log.info("failed sign-in for %r from %s", (account or "?")[:64], client[:64])
    return SignIn(None, longest)


def _upsert_throttle(conn: Connection, key: str, values: dict[str, Any]) -> None:
    if conn.dialect.name == "postgresql":  # two failures at once for a new key: one insert, one update
        from sqlalchemy.dialects.postgresql import insert

        stmt = insert(throttle_t).values(key=key, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=[throttle_t.c.key], set_=values))
    elif conn.execute(sa.update(throttle_t).where(throttle_t.c.key == key).values(**values)).rowcount == 0:
        conn.execute(sa.insert(throttle_t).values(key=key, **values))  # SQLite: BEGIN IMMEDIATE serialises


def clear_throttle(db: Transactional, username: str) -> None:
    """Forget an account name's failures (a new password, set by an admin, lifts its lock)."""
    with db.begin() as conn:
        conn.execute(sa.delete(throttle_t).where(throttle_t.c.key == f"account:{username}"))


def account_locked_until(db: Transactional, username: str, *, now: datetime | None = None) -> str | None:
    now = now or _now()
    with db.read() as conn:
        rows = _throttle_rows(conn, [f"account:{username}"], now)
    until = [r.locked_until for r in rows.values() if r.locked_until and datetime.fromisoformat(r.locked_until) > now]
    return until[0] if until else None


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def count_users(db: Transactional) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(users_t)).scalar_one())


def get_user(db: Transactional, username: str) -> dict[str, Any] | None:
    """An account's public fields (never the hash), or None."""
    with db.read() as conn:
        row = conn.execute(sa.select(users_t).where(users_t.c.username == username)).first()
    return None if row is None else _public(dict(row._mapping))


def current(db: Transactional, principal: Principal) -> Principal | None:
    """The principal as the account store says now (role changes and deactivation apply at once)."""
    if principal.source != "local":
        return principal
    row = get_user(db, principal.name)
    if row is None or not row["active"]:
        return None
    return Principal(principal.name, Role.parse(row["role"]), "local")
