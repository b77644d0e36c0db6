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
