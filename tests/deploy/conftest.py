"""Deploy fixtures: a Dagster instance from deploy/dagster.yaml on a throwaway PostgreSQL database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def dagster_pg_env(dsn: str) -> dict[str, str]:
    """DAGSTER_PG_* variables (as deploy/dagster.yaml reads them) for a libpq DSN."""
    from psycopg2.extensions import parse_dsn

    p = parse_dsn(dsn)
    return {
        "DAGSTER_PG_HOST": p.get("host", "127.0.0.1"),
        "DAGSTER_PG_PORT": p.get("port", "5432"),
        "DAGSTER_PG_USER": p.get("user", "postgres"),
        "DAGSTER_PG_PASSWORD": p.get("password", ""),
        "DAGSTER_PG_DB": p["dbname"],
    }


@pytest.fixture
def dagster_home(tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DAGSTER_HOME with the production dagster.yaml, its DAGSTER_PG_* env pointing at ``pg_database``."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for k, v in dagster_pg_env(pg_database).items():
        monkeypatch.setenv(k, v)
    return home


@pytest.fixture
def pg_instance(dagster_home: Path) -> Iterator[object]:
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    try:
        yield instance
    finally:
        instance.dispose()
