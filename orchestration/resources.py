"""Dagster resources: small typed interfaces with a real and a test configuration.

Each resource loads :class:`PantauSettings` (``PANTAU_*`` variables over the ``PANTAU_CONFIG`` file) once, the
first time a run or sensor uses it, never at import. A non-empty field overrides the setting of the same
meaning; tests pass explicit values (a tmp_path data dir) that way.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from alerts.ack import AckLinks
from alerts.allowlist import webhook_policy
from alerts.channels import ChannelRegistry, SmtpConfig
from alerts.db import OpsDB
from alerts.outbox import Dispatcher, DispatchStats, RetryPolicy
from orchestration.settings import PantauSettings, load_settings
from warehouse.lake import Lake, LakeConfig
from warehouse.object_store import LocalObjectStore, ObjectStore


class SettingsResource(dg.ConfigurableResource):
    """The platform settings (Jaki salt, ops DB URL, webhook policy), loaded at launch; ``data_dir`` overrides."""

    data_dir: str = ""
    _loaded: PantauSettings | None = PrivateAttr(default=None)

    def get(self) -> PantauSettings:
        if self._loaded is None:
            self._loaded = load_settings(data_dir=Path(self.data_dir) if self.data_dir else None)
        return self._loaded


class LakeResource(SettingsResource):
    """The lakehouse: embedded (sqlite catalog) or scale-out (postgres catalog + S3 data)."""

    catalog: str = ""

    def lake_config(self) -> LakeConfig:
        s = self.get()
        if self.catalog:
            s = s.model_copy(update={"lake_catalog": self.catalog})
        return s.lake_config()

    def get_lake(self, read_only: bool = False) -> Lake:
        return Lake(self.lake_config(), read_only=read_only)


class ObjectStoreResource(SettingsResource):
    """Keyframes, landing micro-batches, releases: a local folder or an S3/MinIO bucket."""

    root: str = ""

    def get_store(self) -> ObjectStore:
        if self.root:
            return LocalObjectStore(self.root)
        return self.get().object_store()

    def public_base_url(self) -> str:
        """Where the open-data API serves this store's public keys (links in CAP, Atom and releases)."""
        return self.get().open_data_base_url


DISPATCH_BUDGET_S = 5.0


class AlertsOpsResource(SettingsResource):
    """The alerts operational DB (SQLite in data_dir, or PostgreSQL) and the delivery channels.

    Unset fields take the platform settings (``PANTAU_*`` over the ``PANTAU_CONFIG`` file) loaded when a run or
    sensor starts.
    """

    ops_db_url: str = ""
    allow_http_webhooks: bool | None = None
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_sender: str = ""
    mqtt_broker: str = ""
    max_attempts: int = 8

    def ack_links(self) -> AckLinks:
        """Signed, expiring acknowledgement links served by the open-data API (``/alerts/<id>/ack``)."""
        s = self.get()
        return AckLinks(s.ack_secret.get_secret_value(), s.open_data_base_url, timedelta(hours=s.ack_link_hours))

    def public_base_url(self) -> str:
        """The open-data API's address, under which CAP links to blurred keyframes resolve."""
        return self.get().open_data_base_url

    def resolved(self) -> PantauSettings:
        """The settings with this resource's set fields applied over them."""
        texts = ("ops_db_url", "smtp_host", "smtp_sender", "mqtt_broker")
        update: dict[str, object] = {f: getattr(self, f) for f in texts if getattr(self, f)}
        if self.allow_http_webhooks is not None:
            update["allow_http_webhooks"] = self.allow_http_webhooks
        if self.smtp_port:
            update["smtp_port"] = self.smtp_port
        return self.get().model_copy(update=update)

    def url(self) -> str:
        return self.resolved().resolved_ops_db_url()

    def get_ops(self) -> OpsDB:
        return OpsDB(self.url())

    def channels(self, ops: OpsDB) -> ChannelRegistry:
        """The delivery channels; webhooks reach private addresses only through the admin allow-list in ``ops``."""
        s = self.resolved()
        return ChannelRegistry.default(
            webhook_policy=webhook_policy(ops, allow_http=s.allow_http_webhooks),
            smtp=SmtpConfig(
                host=s.smtp_host,
                port=s.smtp_port,
                sender=s.smtp_sender,
                starttls=s.smtp_starttls,
                username=s.smtp_username or None,
                password=s.smtp_password.get_secret_value() or None,
            ),
            mqtt_broker=s.mqtt_broker,
            outbox_dir=Path(s.data_dir) / "outbox",
        )

    def dispatch(self, ops: OpsDB, budget_s: float = DISPATCH_BUDGET_S) -> DispatchStats:
        """Deliver what is due now, within a time budget (the rest waits for the retry sensor)."""
        channels = self.channels(ops)
        dispatcher = Dispatcher(ops, channels, RetryPolicy(max_attempts=self.max_attempts), ack_links=self.ack_links())
        total = DispatchStats()
        deadline = time.monotonic() + budget_s
        try:
            while time.monotonic() < deadline:
                st = dispatcher.run_once()
                total.add(st)
                if st.claimed == 0:
                    break
        finally:
            dispatcher.close()
            channels.close()
        return total
