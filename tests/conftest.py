"""Shared fixtures. Everything lives under tmp_path; nothing is written to the repo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the defaults: no ``PANTAU_CONFIG`` file and no ``PANTAU_<setting>`` from the caller's shell."""
    from orchestration.settings import CONFIG_ENV, PantauSettings

    monkeypatch.delenv(CONFIG_ENV, raising=False)
    for name in PantauSettings.model_fields:
        monkeypatch.delenv(f"PANTAU_{name.upper()}", raising=False)


@pytest.fixture
def lake_config(tmp_path: Path) -> LakeConfig:
    return LakeConfig(root=tmp_path / "pantau-data")


@pytest.fixture
def lake(lake_config: LakeConfig) -> Iterator[Lake]:
    """An embedded (SQLite catalog) lake with every migration applied."""
    lk = Lake(lake_config)
    migrate(lk)
    yield lk
    lk.close()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


# ---------------------------------------------------------------------------------------
# services: an S3 server on loopback (moto in server mode) and throwaway PostgreSQL databases
# ---------------------------------------------------------------------------------------
import socket  # noqa: E402
import uuid  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
    """A moto S3 server on 127.0.0.1 (real HTTP, S3 API) for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield {"endpoint": f"127.0.0.1:{port}", "access_key": "testing", "secret_key": "testing"}
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: dict[str, str]) -> str:
    return f"pantau-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's server; yields a libpq DSN."""
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"pantau_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"host=127.0.0.1 port=5432 dbname={name} user=postgres"
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture
def pg_lake_config(tmp_path: Path, pg_database: str, s3_server: dict[str, str], s3_bucket: str) -> LakeConfig:
    """Scale-out lake: PostgreSQL catalog + S3 data path on the loopback S3 server."""
    from minio import Minio

    from warehouse.lake import S3Config

    Minio(s3_server["endpoint"], s3_server["access_key"], s3_server["secret_key"], secure=False).make_bucket(s3_bucket)
    return LakeConfig(
        catalog="postgres",
        root=tmp_path / "pantau-data",
        postgres_dsn=pg_database,
        s3=S3Config(s3_server["endpoint"], s3_server["access_key"], s3_server["secret_key"], s3_bucket),
    )
