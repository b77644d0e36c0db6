"""Local accounts for the embedded default: usernames, roles and argon2id password hashes.

Passwords are stored only as argon2id hashes (``argon2-cffi``; each hash carries its own random
salt and parameters). A wrong password and an unknown user cost the same time; five failures in a
row lock the account for :data:`LOCKOUT` (brute force). Every change to an account is audited.
Deployments with an identity provider sign in through OIDC instead (see ``dashboards/auth.py``).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from access.audit import Transactional, audit_metadata, ensure_audit_schema, principal_role, record_audit
from access.roles import ANONYMOUS, SYSTEM, Permission, Principal, Role, require, system

__all__ = ["ANONYMOUS", "SYSTEM", "Principal", "system"]

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
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_HASHER = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))  # verified against for unknown users


class AccountError(ValueError):
    pass


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


def set_role(db: Transactional, username: str, role: Role | str, *, by: Principal, source: str = "") -> None:
    r = Role.parse(role)
    if r.value != str(role).strip().lower():
        raise AccountError(f"unknown role {role!r}")
    _change(db, username, {"role": r.value}, "user.role", by, source)


def deactivate_user(db: Transactional, username: str, *, by: Principal, source: str = "") -> None:
    _change(db, username, {"active": False}, "user.deactivate", by, source)


def list_users(db: Transactional) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [_public(dict(r._mapping)) for r in conn.execute(sa.select(users_t).order_by(users_t.c.username))]


def authenticate(db: Transactional, username: str, password: str, *, now: datetime | None = None) -> Principal | None:
    """The principal for a correct username and password; None otherwise (never says which was wrong)."""
    now = now or _now()
    username = (username or "").strip().lower()
    if not USERNAME.match(username) or not password or len(password) > MAX_PASSWORD:
        _verify(_DUMMY_HASH, password or "x")
        return None
    with db.begin() as conn:
        row = conn.execute(sa.select(users_t).where(users_t.c.username == username)).first()
        if row is None or not row.active:
            _verify(_DUMMY_HASH, password)
            return None
        if row.locked_until and datetime.fromisoformat(row.locked_until) > now:
            _verify(_DUMMY_HASH, password)
            return None
        if not _verify(row.password_hash, password):
            failures = int(row.failed_logins) + 1
            values: dict[str, Any] = {"failed_logins": failures}
            if failures >= MAX_FAILURES:
                values.update(failed_logins=0, locked_until=_iso(now + LOCKOUT))
            conn.execute(sa.update(users_t).where(users_t.c.username == username).values(**values))
            return None
        values = {"failed_logins": 0, "locked_until": None}
        if _HASHER.check_needs_rehash(row.password_hash):
            values["password_hash"] = _HASHER.hash(password)
        conn.execute(sa.update(users_t).where(users_t.c.username == username).values(**values))
        return Principal(username, Role.parse(row.role), "local")


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
