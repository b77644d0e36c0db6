"""Sign-in throttling as an attacker meets it: a brute-force loop against one account, password spraying from one
address, a correct password during a lock, locks that outlive a process and are shared by every session, and the
dashboard's sign-in form (AppTest)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from access.accounts import (
    ACCOUNT_FREE_FAILURES,
    BASE_LOCK,
    CLIENT_FREE_FAILURES,
    MAX_LOCK,
    add_user,
    list_users,
    lock_length,
    set_password,
    sign_in,
)
from access.audit import query_audit, verify_audit_chain
from access.roles import Principal, Role
from alerts.db import OpsDB, sqlite_url

ADMIN = Principal("ani", Role.ADMIN, "cli")
PASSWORD = "correct horse battery"
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[OpsDB]:
    ops = OpsDB(sqlite_url(str(tmp_path)))
    add_user(ops, "budi", PASSWORD, "operator", by=ADMIN)
    yield ops
    ops.dispose()


@pytest.mark.parametrize(
    ("failures", "free", "lock"),
    [
        (1, 5, timedelta(0)),
        (4, 5, timedelta(0)),
        (5, 5, BASE_LOCK),
        (6, 5, 2 * BASE_LOCK),
        (8, 5, 8 * BASE_LOCK),
        (40, 5, MAX_LOCK),
        (10_000, 5, MAX_LOCK),
        (20, 20, BASE_LOCK),
    ],
)
def test_lock_grows_exponentially_up_to_a_cap(failures: int, free: int, lock: timedelta) -> None:
    assert lock_length(failures, free) == lock


def test_a_brute_force_loop_is_refused_after_the_allowance(db: OpsDB) -> None:
    guesses = [f"guess-{i:04d}-wrong" for i in range(200)]
    outcomes = [sign_in(db, "budi", g, client="203.0.113.9", now=T0) for g in guesses]
    assert all(o.principal is None for o in outcomes)
    assert [o.locked for o in outcomes].index(True) == ACCOUNT_FREE_FAILURES - 1  # the 5th failure starts the lock
    assert all(o.locked for o in outcomes[ACCOUNT_FREE_FAILURES - 1 :])
    # the right password during the lock is refused too, from any address
    for client in ("203.0.113.9", "198.51.100.7"):
        late = sign_in(db, "budi", PASSWORD, client=client, now=T0 + BASE_LOCK - timedelta(seconds=1))
        assert late.principal is None and late.locked
    # the lock expires: the owner signs in; the next failure after that starts counting afresh
    ok = sign_in(db, "budi", PASSWORD, client="198.51.100.7", now=T0 + BASE_LOCK)
    assert ok.principal == Principal("budi", Role.OPERATOR, "local")
    locks = query_audit(db, action="signin.locked")
    assert [(r["target_type"], r["target_id"], r["actor"], r["role"]) for r in locks] == [
        ("user", "budi", "anonymous", "public")
    ]  # one row per lock, not one per refused guess
    assert verify_audit_chain(db) == 2


def test_each_failure_after_a_lock_doubles_it(db: OpsDB) -> None:
    now = T0
    for _ in range(ACCOUNT_FREE_FAILURES):
        sign_in(db, "budi", "wrong-password!", client="203.0.113.9", now=now)
    for lock in (BASE_LOCK, 2 * BASE_LOCK, 4 * BASE_LOCK):
        refused = sign_in(db, "budi", PASSWORD, client="203.0.113.9", now=now + lock - timedelta(seconds=1))
        assert refused.locked and refused.principal is None
        now += lock
        failed = sign_in(db, "budi", "wrong-password!", client="203.0.113.9", now=now)
        assert failed.locked_for == 2 * lock
    set_password(db, "budi", PASSWORD + "!", by=ADMIN)  # an admin's new password lifts the lock
    assert sign_in(db, "budi", PASSWORD + "!", client="203.0.113.9", now=now).principal is not None


def test_password_spraying_from_one_address_is_refused(db: OpsDB) -> None:
    names = [f"user{i:03d}" for i in range(CLIENT_FREE_FAILURES + 10)]
    outcomes = [sign_in(db, n, PASSWORD, client="203.0.113.66", now=T0) for n in names]
    assert [o.locked for o in outcomes].index(True) == CLIENT_FREE_FAILURES - 1
    # the sprayer's own valid sign-in is refused while its address is locked, and does not reset the count
    assert sign_in(db, "budi", PASSWORD, client="203.0.113.66", now=T0).locked
    # budi from another address is not affected: nobody tried budi's name
    assert sign_in(db, "budi", PASSWORD, client="198.51.100.7", now=T0).principal is not None
    locks = query_audit(db, action="signin.locked")
    assert [(r["target_type"], r["target_id"]) for r in locks] == [("client", "203.0.113.66")]


def test_unknown_names_are_throttled_like_real_ones(db: OpsDB) -> None:
    real = [sign_in(db, "budi", "wrong-password!", client=f"192.0.2.{i}", now=T0).locked for i in range(6)]
    fake = [sign_in(db, "nobody", "wrong-password!", client=f"192.0.2.{i}", now=T0).locked for i in range(6)]
    assert real == fake == [False] * (ACCOUNT_FREE_FAILURES - 1) + [True, True]
    assert [r["target_id"] for r in query_audit(db, action="signin.locked")] == ["budi"]  # no row for a made-up name


def test_a_lock_outlives_the_process_and_is_shared(tmp_path: Path) -> None:
    """Failures made by another process (another dashboard server) lock the account here, after it exited."""
    url = sqlite_url(str(tmp_path))
    ops = OpsDB(url)
    try:
        add_user(ops, "budi", PASSWORD, "operator", by=ADMIN)
    finally:
        ops.dispose()
    script = (
        "import sys\n"
        "from access.accounts import sign_in\n"
        "from alerts.db import OpsDB\n"
        "ops = OpsDB(sys.argv[1])\n"
        "print(sum(sign_in(ops, 'budi', f'wrong-{i}-password', client='203.0.113.9').locked for i in range(7)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "3"  # 5 counted, the 5th locks, the last 2 refused unchecked
    fresh = OpsDB(url)
    try:
        outcome = sign_in(fresh, "budi", PASSWORD, client="198.51.100.7")
        assert outcome.principal is None and outcome.locked
        assert list_users(fresh)[0]["locked_until"] is not None
    finally:
        fresh.dispose()


def test_the_sign_in_form_says_the_account_is_locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crafted import TEST_PASSWORD, add_test_users
    from streamlit.testing.v1 import AppTest
    from test_app import APP, assert_clean

    from dashboards.auth import LOGIN_PASSWORD, PRINCIPAL
    from dashboards.i18n import translate

    root = tmp_path / "pantau-data"
    add_test_users(root)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    monkeypatch.delenv("PANTAU_OPS_DB_URL", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert_clean(at)

    def attempt(password: str) -> list[str]:
        at.text_input(key="login_user").input("operator")
        at.text_input(key=LOGIN_PASSWORD).input(password)
        next(b for b in at.button if b.label == translate("login")).click().run()
        return [w.value for w in at.warning]

    for i in range(ACCOUNT_FREE_FAILURES - 1):
        assert translate("login_failed") in attempt(f"wrong password {i}")
    locked = translate("login_locked", minutes=1)
    assert locked in attempt("wrong password, again")
    assert locked in attempt(TEST_PASSWORD)  # the right one, during the lock
    assert PRINCIPAL not in at.session_state
