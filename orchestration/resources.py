"""Dagster resources: small typed interfaces with a real and a test configuration.

Each resource loads :class:`PantauSettings` (``PANTAU_*`` variables over the ``PANTAU_CONFIG`` file) once, the
first time a run or sensor uses it, never at import. A non-empty field overrides the setting of the same
meaning; tests pass explicit values (a tmp_path data dir) that way.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

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
