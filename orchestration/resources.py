"""Dagster resources: small typed interfaces with a real and a test configuration.

Empty fields mean "take the value from :class:`PantauSettings` at launch" (environment
variables ``PANTAU_*`` / the config file), so nothing is read at import time. Tests pass
explicit values (a tmp_path data dir) instead.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.settings import PantauSettings, load_settings
from warehouse.lake import Lake, LakeConfig
from warehouse.object_store import LocalObjectStore, ObjectStore


def _settings(data_dir: str) -> PantauSettings:
    return load_settings(data_dir=Path(data_dir) if data_dir else None)


class LakeResource(dg.ConfigurableResource):
    """The lakehouse: embedded (sqlite catalog) or scale-out (postgres catalog + S3 data)."""

    data_dir: str = ""
    catalog: str = ""

    def lake_config(self) -> LakeConfig:
        s = _settings(self.data_dir)
        if self.catalog:
            s = s.model_copy(update={"lake_catalog": self.catalog})
        return s.lake_config()

    def get_lake(self, read_only: bool = False) -> Lake:
        return Lake(self.lake_config(), read_only=read_only)


class ObjectStoreResource(dg.ConfigurableResource):
    """Keyframes, landing micro-batches, releases: a local folder or an S3/MinIO bucket."""

    data_dir: str = ""
    root: str = ""

    def get_store(self) -> ObjectStore:
        if self.root:
            return LocalObjectStore(self.root)
        return _settings(self.data_dir).object_store()

    def public_base_url(self) -> str:
        """Where the open-data API serves this store's public keys (links in CAP, Atom and releases)."""
        return _settings(self.data_dir).open_data_base_url


class SettingsResource(dg.ConfigurableResource):
    """Access to the platform settings (Jaki salt, ops DB URL, webhook policy) at launch."""

    data_dir: str = ""

    def get(self) -> PantauSettings:
        return _settings(self.data_dir)
