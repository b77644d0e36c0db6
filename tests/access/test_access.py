"""Roles, local accounts (argon2id) and the append-only audit log, on SQLite and real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from access.accounts import (
    ACCOUNT_FREE_FAILURES,
    AccountError,
    add_user,
    authenticate,
    deactivate_user,
    list_users,
    set_password,
    set_role,
    users_t,
)
from access.audit import (
    REDACTED,
    AuditChainError,
    audit_t,
    query_audit,
    record_audit,
    redact,
    verify_audit_chain,
)
from access.roles import SYSTEM, AccessDenied, Permission, Principal, Role, allowed, require
from alerts.db import OpsDB

ADMIN = Principal("ani", Role.ADMIN)
PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[OpsDB]:
    ops = OpsDB(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    yield ops
    ops.dispose()


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (Role.PUBLIC, {Permission.VIEW_PUBLIC}),
        (Role.ANALYST, {Permission.VIEW_PUBLIC, Permission.VIEW_ANALYTICS}),
        (
            Role.OPERATOR,
            {
                Permission.VIEW_PUBLIC,
                Permission.VIEW_ANALYTICS,
                Permission.ACK_ALERT,
                Permission.CANCEL_ALERT,
                Permission.VIEW_REGISTRY,
            },
        ),
        (Role.ADMIN, set(Permission)),
    ],
)
def test_each_role_holds_exactly_its_permissions(role: Role, granted: set[Permission]) -> None:
    assert {p for p in Permission if allowed(role, p)} == granted
    for p in set(Permission) - granted:
        with pytest.raises(AccessDenied):
            require(role, p, "someone")


@pytest.mark.parametrize("raw", [None, "", "root", "ADMIN ", "superuser", "Admin'--"])
def test_unknown_role_names_are_public_never_more(raw: str | None) -> None:
    expected = Role.ADMIN if raw == "ADMIN " else Role.PUBLIC
    assert Role.parse(raw) is expected


def test_passwords_are_salted_argon2id_hashes_and_never_returned(db: OpsDB) -> None:
    add_user(db, "budi", PASSWORD, "operator", by=ADMIN)
    add_user(db, "sari", PASSWORD, "analyst", by=ADMIN)
    with db.read() as conn:
        hashes = dict(conn.execute(sa.select(users_t.c.username, users_t.c.password_hash)).all())
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert hashes["budi"] != hashes["sari"]  # same password, different salt
    assert PASSWORD not in str(hashes)
    assert all("password_hash" not in u for u in list_users(db))
    audit = query_audit(db, action="user.add")
    assert [r["target_id"] for r in audit] == ["sari", "budi"]
    assert all("$argon2" not in (r["after"] or "") and PASSWORD not in (r["after"] or "") for r in audit)


def test_authenticate_and_lockout(db: OpsDB) -> None:
    add_user(db, "budi", PASSWORD, "operator", by=ADMIN)
    assert authenticate(db, "budi", PASSWORD) == Principal("budi", Role.OPERATOR, "local")
    assert authenticate(db, "BUDI ", PASSWORD) == Principal("budi", Role.OPERATOR, "local")
    assert authenticate(db, "budi", PASSWORD + "x") is None
    assert authenticate(db, "nobody", PASSWORD) is None
    assert authenticate(db, "budi' OR '1'='1", PASSWORD) is None
    assert authenticate(db, "budi", "x" * 100_000) is None
    now = datetime.now(UTC)
    for _ in range(ACCOUNT_FREE_FAILURES):
        assert authenticate(db, "budi", "wrong-password!", now=now) is None
    assert authenticate(db, "budi", PASSWORD, now=now) is None  # locked, even with the right password
    assert authenticate(db, "budi", PASSWORD, now=now + timedelta(minutes=16)) is not None
    deactivate_user(db, "budi", by=ADMIN)
    assert authenticate(db, "budi", PASSWORD, now=now + timedelta(minutes=16)) is None


@pytest.mark.parametrize(
    ("username", "password", "role"),
    [
        ("x", PASSWORD, "analyst"),
        ("Budi", PASSWORD, "analyst"),
        ("budi", "short", "analyst"),
        ("budi", PASSWORD, "root"),
    ],
)
def test_bad_accounts_are_refused(db: OpsDB, username: str, password: str, role: str) -> None:
    with pytest.raises(AccountError):
        add_user(db, username, password, role, by=ADMIN)
    assert list_users(db) == [] and query_audit(db) == []


@pytest.mark.parametrize("role", [Role.PUBLIC, Role.ANALYST, Role.OPERATOR])
def test_only_admins_manage_users(db: OpsDB, role: Role) -> None:
    add_user(db, "budi", PASSWORD, "operator", by=ADMIN)
    who = Principal("mallory", role)
    with pytest.raises(AccessDenied):
        add_user(db, "mallory2", PASSWORD, "admin", by=who)
    with pytest.raises(AccessDenied):
        set_role(db, "budi", "admin", by=who)
    with pytest.raises(AccessDenied):
        set_password(db, "budi", "mallory-knows-this", by=who)
    assert [u["username"] for u in list_users(db)] == ["budi"]
    assert authenticate(db, "budi", PASSWORD) is not None


def test_audit_rows_redact_secrets_and_url_passwords() -> None:
    out = redact(
        {
            "secret": "hunter2",
            "smtp_password": "p",
            "api_key": "k",
            "target": "rtsp://cam:s3cr3t@10.0.0.1/live",
            "hook": "https://h.example/x?a=1&token=abc&api_key=def#f",
            "nested": [{"token": "t"}],
            "name": "ok",
            "secret_ref": None,
        }
    )
    assert out == {
        "secret": REDACTED,
        "smtp_password": REDACTED,
        "api_key": REDACTED,
        "target": f"rtsp://cam:{REDACTED}@10.0.0.1/live",
        "hook": f"https://h.example/x?a=1&token={REDACTED}&api_key={REDACTED}#f",
        "nested": [{"token": REDACTED}],
        "name": "ok",
        "secret_ref": None,
    }


def _fill(db: OpsDB) -> None:
    for i in range(3):
        record_audit(
            db, actor="ani", role="admin", action="camera.edit", target_type="camera", target_id=f"cam-{i}",
            before={"name": "old"}, after={"name": f"new {i}"}, source="test",
        )  # fmt: skip


def test_audit_log_is_append_only_on_sqlite(db: OpsDB) -> None:
    _fill(db)
    assert verify_audit_chain(db) == 3
    for stmt in (sa.update(audit_t).values(actor="mallory"), sa.delete(audit_t)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin() as conn:
            conn.execute(stmt)
    rows = query_audit(db)
    assert [r["target_id"] for r in rows] == ["cam-2", "cam-1", "cam-0"]
    assert {r["actor"] for r in rows} == {"ani"}


def test_an_edit_around_the_triggers_breaks_the_hash_chain(db: OpsDB) -> None:
    _fill(db)
    with db.begin() as conn:  # someone with the database file drops the guard and edits a row
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.execute(sa.update(audit_t).where(audit_t.c.seq == 2).values(actor="mallory"))
    with pytest.raises(AuditChainError, match="row 2 was changed"):
        verify_audit_chain(db)


def test_a_removed_row_breaks_the_hash_chain(db: OpsDB) -> None:
    _fill(db)
    with db.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        conn.execute(sa.delete(audit_t).where(audit_t.c.seq == 2))
    with pytest.raises(AuditChainError, match="row 3 does not follow"):
        verify_audit_chain(db)


def test_audit_row_commits_with_its_change_or_not_at_all(db: OpsDB) -> None:
    with pytest.raises(RuntimeError), db.begin() as conn:
        record_audit(conn, actor="ani", role="admin", action="x.y", target_type="t", target_id="1", source="test")
        raise RuntimeError("the change failed")
    assert query_audit(db) == []


@pytest.mark.services
def test_audit_log_is_append_only_on_postgres(pg_database: str) -> None:
    parts = dict(p.split("=", 1) for p in pg_database.split())
    ops = OpsDB(f"postgresql+psycopg2://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}")
    try:
        ops.create_schema()  # idempotent: triggers are not duplicated
        _fill(ops)
        add_user(ops, "budi", PASSWORD, "operator", by=SYSTEM)
        for stmt in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), ops.begin() as conn:
                conn.exec_driver_sql(stmt)
        assert verify_audit_chain(ops) == 4
        assert query_audit(ops, action="user.add")[0]["role"] == "system"
    finally:
        ops.dispose()
