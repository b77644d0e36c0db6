"""`pantau users ...` and `pantau audit` as an administrator uses them (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from access.accounts import authenticate
from access.roles import Principal, Role
from alerts.db import OpsDB, sqlite_url

PANTAU = [sys.executable, "-m", "orchestration.cli"]


def pantau(data_dir: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("PANTAU_OPS_DB_URL", None)
    proc = subprocess.run([*PANTAU, *args], env=env, capture_output=True, text=True, timeout=120)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc


def test_users_and_audit_from_the_command_line(tmp_path: Path) -> None:
    root = tmp_path / "pantau-data"
    out = pantau(root, "users", "add", "budi", "--role", "operator", "--generate", "--by", "ani").stdout
    password = out.strip().rsplit("password: ", 1)[1]
    assert len(password) >= 12
    pantau(root, "users", "add", "budi", "--role", "admin", "--generate", ok=False)  # exists
    pantau(root, "users", "role", "budi", "analyst", "--by", "ani")
    listing = pantau(root, "users", "list").stdout
    assert "budi" in listing and "analyst" in listing and "$argon2" not in listing
    ops = OpsDB(sqlite_url(str(root)))
    try:
        assert authenticate(ops, "budi", password) == Principal("budi", Role.ANALYST, "local")
    finally:
        ops.dispose()
    rows = json.loads(pantau(root, "audit", "--format", "json").stdout)
    assert [(r["action"], r["actor"], r["role"]) for r in rows] == [
        ("user.role", "ani", "admin"),
        ("user.add", "ani", "admin"),
    ]
    assert rows[0]["source"].startswith("cli:")
    assert password not in json.dumps(rows)
    assert "2 rows, hash chain verified" in pantau(root, "audit", "--verify").stdout
    assert "audit" in pantau(root, "--help").stdout
