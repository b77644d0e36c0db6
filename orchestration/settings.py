"""One typed settings object for the whole platform.

Read once at launch by each entry point (CLI command, Dagster resources when a run or sensor starts, the
dashboards server, Celery workers, capture workers), never at import time. Precedence, highest first:

1. explicit overrides (``load_settings(data_dir=...)``, e.g. a CLI ``--data-dir`` flag);
2. environment variables ``PANTAU_<FIELD>`` (e.g. ``PANTAU_LAKE_CATALOG=postgres``);
3. the TOML file named by ``PANTAU_CONFIG``: its ``[pantau]`` table, or the whole file without one;
4. the defaults below.

An unknown key in the TOML file is an error (a typo there would otherwise be silently ignored). Pure code
receives explicit config objects built from these settings; only orchestration, the CLI and the dashboards
read them.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from warehouse.lake import LakeConfig, S3Config
from warehouse.object_store import LocalObjectStore, ObjectStore, S3ObjectStore

CONFIG_ENV = "PANTAU_CONFIG"


class SettingsError(ValueError):
    """The configuration file cannot be used (missing, not TOML, unknown keys)."""


class TomlFileSource(PydanticBaseSettingsSource):
    """Values from the TOML file named by ``PANTAU_CONFIG`` (nothing when the variable is unset)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        name = os.environ.get(CONFIG_ENV, "")
        self.path = Path(name).expanduser() if name else None
        self.values = self._read() if self.path is not None else {}

    def _read(self) -> dict[str, Any]:
        assert self.path is not None
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"{CONFIG_ENV}={self.path}: cannot read it ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{CONFIG_ENV}={self.path}: not valid TOML ({exc})") from exc
        table = data.get("pantau", data)
        if not isinstance(table, dict):
            raise SettingsError(f"{CONFIG_ENV}={self.path}: [pantau] must be a table")
        unknown = sorted(set(table) - set(self.settings_cls.model_fields))
        if unknown:
            raise SettingsError(f"{CONFIG_ENV}={self.path}: unknown setting(s) {', '.join(unknown)}")
        return table

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


class PantauSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PANTAU_", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlFileSource(settings_cls))

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
    allow_http_webhooks: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "pantau-alerts@jakarta.go.id"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
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
    audit_key: SecretStr = Field(
        SecretStr(""),
        description="HMAC key that signs audit-log checkpoints (empty: a random key in <data_dir>/secrets/audit.key)",
    )
    ack_link_hours: float = Field(24.0, description="how long an acknowledgement link stays valid")
    api_rate: float = Field(20.0, description="open-data API: requests per second per client")
    api_burst: int = Field(60, description="open-data API: burst size per client")
    api_behind_proxy: bool = Field(False, description="trust X-Forwarded-For (only behind a proxy that sets it)")
    posko_banjir_url: str = Field("", description="Posko Banjir water-gate feed polled by a sensor (empty: off)")
    bmkg_cap_url: str = Field("", description="BMKG CAP 1.2 nowcast feed polled by a sensor (empty: off)")
    open_data_threshold: int = Field(10, description="Jaki counts below this are suppressed in open data")
    upkeep: dict[str, Any] = Field(
        default_factory=dict,
        description="lake upkeep policy ([pantau.upkeep] in the config file; see warehouse.upkeep.policy_from_mapping)",
    )
    scoring: Literal["vision", "passthrough"] = Field(
        "vision",
        description="capture scoring: the vision pipeline, or pass-through (motion and health only, hazard scores "
        "NULL, no alerts; recorded per frame and shown in camera health)",
    )
    # dashboards sign-in: OIDC (st.login) when a provider is configured, else local accounts in the ops DB
    oidc_server_metadata_url: str = Field("", description="the provider's .well-known/openid-configuration URL")
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_redirect_uri: str = Field("", description="https://<dashboards>/oauth2callback")
    oidc_cookie_secret: SecretStr = Field(SecretStr(""), description="signs Streamlit's login cookie (>= 32 chars)")
    oidc_role_claim: str = Field("groups", description="the ID-token claim listing the user's groups or roles")
    oidc_roles: dict[str, str] = Field(
        default_factory=dict, description="claim value -> public|analyst|operator|admin; unnamed users are public"
    )

    def oidc_enabled(self) -> bool:
        return bool(self.oidc_server_metadata_url and self.oidc_client_id)

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

    def resolved_audit_key(self, *, create: bool = True) -> bytes | None:
        """The audit checkpoint key: ``audit_key``, else the key file in the data folder (made, mode 0600, when
        ``create``). Keep it off the ops DB's host in production (``PANTAU_AUDIT_KEY`` from a secret store)."""
        if self.audit_key.get_secret_value():
            return self.audit_key.get_secret_value().encode()
        path = Path(self.data_dir) / "secrets" / "audit.key"
        if path.exists():
            return path.read_bytes().strip()
        if not create:
            return None
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_hex(32).encode())
        return path.read_bytes().strip()

    def resolved_ops_db_url(self) -> str:
        """The one place the operational DB URL is decided: ``ops_db_url``, else ``<data_dir>/ops.sqlite``."""
        from alerts.db import sqlite_url

        return self.ops_db_url or sqlite_url(str(self.data_dir))

    def existing_ops_db_url(self) -> str | None:
        """:meth:`resolved_ops_db_url` for readers that must not create one: None while the embedded file is absent."""
        if self.ops_db_url or (Path(self.data_dir) / "ops.sqlite").exists():
            return self.resolved_ops_db_url()
        return None


def load_settings(**overrides: Any) -> PantauSettings:
    """Settings from overrides (None means "not given"), ``PANTAU_*`` variables, the ``PANTAU_CONFIG`` file."""
    return PantauSettings(**{k: v for k, v in overrides.items() if v is not None})
