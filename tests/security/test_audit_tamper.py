"""Trying to change the audit log through Pantau's own commands (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PANTAU = [sys.executable, "-m", "orchestration.cli"]


def pantau(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PANTAU_DATA_DIR": str(data), "COLUMNS": "200"}
    env.pop("PANTAU_OPS_DB_URL", None)
    return subprocess.run([*PANTAU, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tamper") / "pantau-data"
    assert pantau(root, "migrate").returncode == 0
    assert pantau(root, "users", "add", "budi", "--role", "operator", "--generate", "--by", "ani").returncode == 0
    return root


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE o.audit_log",
        "DELETE FROM o.audit_log",
        "UPDATE o.audit_log SET actor = 'mallory'",
        'INSERT INTO o.audit_log (seq, "at", actor, role, action, target_type, target_id, source, prev_hash, row_hash)'
        " VALUES (99, 'x', 'mallory', 'admin', 'x', 'x', 'x', 'x', 'x', 'x')",
        "UPDATE o.pantau_users SET role = 'admin'",
    ],
)
def test_pantau_sql_cannot_reach_the_ops_db(data: Path, statement: str) -> None:
    ops = data / "ops.sqlite"
    res = pantau(data, "sql", f"ATTACH '{ops}' AS o (TYPE sqlite); {statement}")
    assert res.returncode == 1 and "read-only queries" in res.stdout, res.stdout + res.stderr
    assert "ATTACH" in res.stdout
    verified = pantau(data, "audit", "--verify")
    assert verified.returncode == 0 and "1 rows, hash chain verified" in verified.stdout
    users = pantau(data, "users", "list").stdout
    assert "operator" in users and "admin" not in users


def test_pantau_sql_still_reads(data: Path) -> None:
    res = pantau(data, "sql", "SELECT 42 AS answer", "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout) == [{"answer": 42}]
    assert pantau(data, "sql", "COPY (SELECT 1) TO 'x.csv'").returncode == 1


def test_no_command_edits_or_deletes_audit_rows() -> None:
    """The CLI has commands to read and verify the log, none to change it."""
    out = subprocess.run([*PANTAU, "audit", "--help"], capture_output=True, text=True, timeout=120).stdout
    assert "--verify" in out
    from orchestration.cli import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    assert "audit" in names
    groups = {g.name for g in app.registered_groups}
    assert "audit" not in groups  # a plain read command, no sub-commands (no edit, no delete)


# -- editing the log around Pantau (raw SQL with the triggers dropped, as the database's owner could) ------------

DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoints_no_update",
    "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
]
LAST = "(SELECT max(seq) FROM audit_log)"
# the head rewritten to match whatever chain is left: what someone hiding a truncation would do
FORGE_HEAD = (
    "UPDATE audit_head SET row_count = (SELECT count(*) FROM audit_log), last_seq = (SELECT max(seq) FROM audit_log),"
    " last_hash = (SELECT row_hash FROM audit_log ORDER BY seq DESC LIMIT 1)"
)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with four audit rows and a signed checkpoint after the third."""
    root = tmp_path_factory.mktemp("signed") / "pantau-data"
    assert pantau(root, "migrate").returncode == 0
    for name in ("budi", "sari", "joko"):
        assert pantau(root, "users", "add", name, "--role", "analyst", "--generate", "--by", "ani").returncode == 0
    cp = pantau(root, "audit", "--checkpoint")
    assert cp.returncode == 0 and "checkpoint signed: 3 rows up to row 3" in cp.stdout, cp.stdout + cp.stderr
    assert pantau(root, "users", "role", "joko", "operator", "--by", "ani").returncode == 0
    return root


def _tampered(signed: Path, dst: Path, statements: list[str]) -> Path:
    import shutil
    import sqlite3

    data = dst / "pantau-data"
    shutil.copytree(signed, data)
    con = sqlite3.connect(data / "ops.sqlite")
    try:
        for sql in [*DROP_TRIGGERS, *statements]:
            con.execute(sql)
        con.commit()
    finally:
        con.close()
    return data


def test_the_signed_log_verifies(signed: Path) -> None:
    res = pantau(signed, "audit", "--verify")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 rows, hash chain verified, head matches, 2 signed checkpoints verified" in res.stdout  # DB and store


@pytest.mark.parametrize(
    ("statements", "found"),
    [
        ([f"DELETE FROM audit_log WHERE seq = {LAST}"], "removed from the end (truncated)"),  # the newest row
        (["DELETE FROM audit_log WHERE seq > 1"], "removed from the end (truncated)"),
        (["DELETE FROM audit_log"], "removed from the end (truncated)"),
        # truncation hidden by a rewritten head: the signed checkpoint still names row 3
        (["DELETE FROM audit_log WHERE seq >= 3", FORGE_HEAD], "rows were removed (truncated) or rewritten"),
        # ... and the checkpoints removed from the ops DB too: the object store's copy remains
        (["DELETE FROM audit_log WHERE seq >= 3", FORGE_HEAD, "DELETE FROM audit_checkpoints"], "rows were removed"),
        # a forged head that does not match the chain
        (["UPDATE audit_head SET row_count = row_count + 1"], "the head was rewritten"),
        (["DELETE FROM audit_head"], "audit head is missing"),
        (["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"], "row 2 was changed"),
        # re-ordering: rows 2 and 3 swap places (their content moves to the other seq)
        (
            [
                "UPDATE audit_log SET seq = -2 WHERE seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = -2",
            ],
            "does not follow the row before it",
        ),
        # a forged checkpoint (its MAC made without the key) vouching for a shorter log
        (
            [
                "DELETE FROM audit_log WHERE seq >= 2",
                FORGE_HEAD,
                "DELETE FROM audit_checkpoints",
                "INSERT INTO audit_checkpoints (at, row_count, last_seq, last_hash, key_id, mac) SELECT '2026-12-04T00:00"
                ":00+00:00', 1, 1, row_hash, '0000000000000000', '00' FROM audit_log WHERE seq = 1",
            ],
            "checkpoint",
        ),
    ],
)
def test_raw_sql_tampering_is_found(signed: Path, tmp_path: Path, statements: list[str], found: str) -> None:
    data = _tampered(signed, tmp_path, statements)
    res = pantau(data, "audit", "--verify")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "audit log tampered" in res.stdout and found in res.stdout, res.stdout


def test_a_forged_checkpoint_signature_is_found(signed: Path, tmp_path: Path) -> None:
    """Same key id, wrong MAC: someone who can read the key's id but not the key."""
    data = _tampered(
        signed,
        tmp_path,
        ["UPDATE audit_checkpoints SET row_count = 4, last_seq = 4,"
         " last_hash = (SELECT row_hash FROM audit_log WHERE seq = 4)"],
    )  # fmt: skip
    res = pantau(data, "audit", "--verify")
    assert res.returncode == 2 and "bad signature" in res.stdout, res.stdout


def test_nothing_is_written_past_a_truncation(signed: Path, tmp_path: Path) -> None:
    """After the newest rows were removed, an audited change is refused (with its change), not chained on."""
    data = _tampered(signed, tmp_path, [f"DELETE FROM audit_log WHERE seq = {LAST}"])
    res = pantau(data, "users", "add", "eko", "--role", "analyst", "--generate", "--by", "ani")
    assert res.returncode != 0 and "audit head does not match" in res.stdout + res.stderr
    assert "eko" not in pantau(data, "users", "list").stdout
