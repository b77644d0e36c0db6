"""Dashboard settings read from the ``PANTAU_*`` environment: data folder, lake, object store, ops DB.

The only module of the dashboards that reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.lake import LakeConfig, S3Config

DATA_DIR_ENV = "PANTAU_DATA_DIR"
DEFAULT_DATA_DIR = "./pantau-data"


def data_dir() -> Path:
    """The data folder from ``PANTAU_DATA_DIR`` (default ``./pantau-data``), absolute."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).expanduser().resolve()


def lake_config(root: Path) -> LakeConfig:
    """Lake configuration from the same ``PANTAU_*`` variables the platform uses."""
    if os.environ.get("PANTAU_LAKE_CATALOG", "sqlite") == "postgres":
        return LakeConfig(
            catalog="postgres",
            root=root,
            postgres_dsn=os.environ.get("PANTAU_PG_DSN", LakeConfig.postgres_dsn),
            s3=s3_config(),
        )
    return LakeConfig(root=root)


def s3_config() -> S3Config:
    env = os.environ
    return S3Config(
        endpoint=env.get("PANTAU_S3_ENDPOINT", "127.0.0.1:9000"),
        access_key=env.get("PANTAU_S3_ACCESS_KEY", "minioadmin"),
        secret_key=env.get("PANTAU_S3_SECRET_KEY", "minioadmin"),
        bucket=env.get("PANTAU_S3_BUCKET", "pantau"),
        secure=env.get("PANTAU_S3_SECURE", "false").lower() in ("1", "true", "yes"),
    )


def store_kind() -> str:
    """``s3`` when ``PANTAU_STORE=s3``, else ``local`` (``<data_dir>/store``)."""
    return os.environ.get("PANTAU_STORE", "local")


def ops_db_url(root: Path | None = None) -> str | None:
    """URL of the alerts operational DB when one exists (``PANTAU_OPS_DB_URL`` or ``<data_dir>/ops.sqlite``)."""
    url = os.environ.get("PANTAU_OPS_DB_URL")
    if url:
        return url
    path = (root or data_dir()) / "ops.sqlite"
    return f"sqlite:///{path}" if path.exists() else None
