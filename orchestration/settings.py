"""One typed settings object for the whole platform.

Read at launch (never at import time): environment variables prefixed ``PANTAU_`` and an
optional TOML file named by ``PANTAU_CONFIG``. Pure code receives explicit config objects
built from these settings; only orchestration and the CLI read them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from warehouse.lake import LakeConfig, S3Config
from warehouse.object_store import LocalObjectStore, ObjectStore, S3ObjectStore


class PantauSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PANTAU_", extra="ignore")

    data_dir: Path = Field(Path("pantau-data"), description="root of the embedded lake, landing zone and ops DB")
    lake_catalog: Literal["sqlite", "postgres"] = Field("sqlite", description="the one lake switch")
    pg_dsn: str = "host=127.0.0.1 port=5432 dbname=pantau user=postgres"
    store: Literal["local", "s3"] = "local"
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = "minioadmin"
    s3_secret_key: SecretStr = SecretStr("minioadmin")
    s3_bucket: str = "pantau"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    salt: SecretStr = Field(SecretStr("change-me-in-production"), description="secret salt for hashing Jaki user ids")
    ops_db_url: str = Field("", description="SQLAlchemy URL of the operational DB; default sqlite in data_dir")
    allow_private_webhooks: bool = False
    allow_http_webhooks: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "pantau-alerts@jakarta.go.id"
    mqtt_broker: str = "mqtt://127.0.0.1:1883"
    lease_dsn: str = Field("", description="PostgreSQL DSN for capture leases (default: pg_dsn)")
    secrets_file: Path | None = Field(
        None, description="JSON file of camera stream credentials (default: <data_dir>/secrets/cameras.json)"
    )
    executor: Literal["multiprocess", "celery", "k8s"] = "multiprocess"
    celery_broker: str = "amqp://guest:guest@127.0.0.1:5672//"
    celery_backend: str = "rpc://"
    celery_queue: str = "dagster"
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    metrics_port: int = 0
    open_data_base_url: str = "http://127.0.0.1:8765/"
    ack_secret: SecretStr = Field(
        SecretStr("change-me-in-production"), description="HMAC secret of the alerts' acknowledgement links"
    )
    ack_link_hours: float = Field(24.0, description="how long an acknowledgement link stays valid")
    open_data_threshold: int = Field(10, description="Jaki counts below this are suppressed in open data")
    upkeep: dict[str, Any] = Field(
        default_factory=dict,
        description="lake upkeep policy ([pantau.upkeep] in the config file; see warehouse.upkeep.policy_from_mapping)",
    )

    def s3_config(self) -> S3Config:
        return S3Config(
            endpoint=self.s3_endpoint,
            access_key=self.s3_access_key,
            secret_key=self.s3_secret_key.get_secret_value(),
            bucket=self.s3_bucket,
            region=self.s3_region,
            secure=self.s3_secure,
        )

    def lake_config(self) -> LakeConfig:
        return LakeConfig(
            catalog=self.lake_catalog,
            root=self.data_dir,
            postgres_dsn=self.pg_dsn,
            s3=self.s3_config() if self.lake_catalog == "postgres" else None,
        )

    def object_store(self) -> ObjectStore:
        if self.store == "s3":
            s3 = self.s3_config()
            return S3ObjectStore(
                s3.endpoint, s3.bucket, s3.access_key, s3.secret_key, secure=s3.secure, region=s3.region, prefix="store"
            )
        return LocalObjectStore(self.data_dir / "store")

    def resolved_secrets_file(self) -> Path:
        return Path(self.secrets_file) if self.secrets_file else Path(self.data_dir) / "secrets" / "cameras.json"

    def resolved_ops_db_url(self) -> str:
        if self.ops_db_url:
            return self.ops_db_url
        Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(Path(self.data_dir) / 'ops.sqlite').resolve()}"


def load_settings(config_file: Path | None = None, **overrides: object) -> PantauSettings:
    """Build settings from env vars, an optional TOML file (``[pantau]`` table) and overrides."""
    import os

    values: dict[str, object] = {}
    path = config_file or (Path(os.environ["PANTAU_CONFIG"]) if os.environ.get("PANTAU_CONFIG") else None)
    if path is not None:
        data = tomllib.loads(Path(path).read_text())
        values.update(data.get("pantau", data))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return PantauSettings(**values)  # type: ignore[arg-type]
