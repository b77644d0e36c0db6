"""Shared read-only handles: the lake and the object store, and reading stored objects."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from dashboards.data.config import data_dir, lake_config, settings
from orchestration.settings import PantauSettings
from warehouse.lake import Lake, LakeError
from warehouse.object_store import ObjectStore

log = logging.getLogger(__name__)


def lake_exists(root: Path) -> bool:
    cfg = lake_config(root)
    return cfg.catalog == "postgres" or cfg.catalog_path.exists()


@st.cache_resource(show_spinner=False)
def _open_lake(root: str) -> Lake:
    """Raises while there is no lake, so that a missing lake is never cached."""
    cfg = lake_config(Path(root))
    if cfg.catalog == "sqlite" and not cfg.catalog_path.exists():
        raise LakeError(f"no lake at {cfg.catalog_path}")
    lake = Lake(cfg, read_only=True)
    _ = lake.con  # attach now: fail here, not in the middle of a page
    return lake


def get_lake(root: Path | None = None) -> Lake | None:
    """The shared read-only lake handle, or None when no lake exists yet."""
    root = root or data_dir()
    if not lake_exists(root):
        return None
    try:
        return _open_lake(str(root))
    except LakeError as exc:
        log.warning("lake not available: %s", exc)
        return None


@st.cache_resource(show_spinner=False)
def _open_store(root: str, kind: str, _configured: PantauSettings) -> ObjectStore:
    return _configured.model_copy(update={"data_dir": Path(root)}).object_store()


def get_store(root: Path | None = None) -> ObjectStore:
    """The object store (keyframes, releases): ``<data_dir>/store`` unless the ``store`` setting is ``s3``."""
    configured = settings()
    return _open_store(str(root or data_dir()), configured.store, configured)


def read_object(uri: str, root: Path | None = None) -> bytes | None:
    """Bytes of a keyframe or release file named by a path, ``file://`` URI, store key or ``s3://`` URI."""
    root = root or data_dir()
    try:
        if uri.startswith("file://"):
            uri = uri[len("file://") :]
        if uri.startswith("s3://"):
            store = get_store(root)
            bucket_key = uri[len("s3://") :].split("/", 1)
            key = bucket_key[1] if len(bucket_key) == 2 else ""
            prefix = getattr(store, "prefix", "")
            if prefix and key.startswith(prefix + "/"):
                key = key[len(prefix) + 1 :]
            return store.get_bytes(key)
        path = Path(uri)
        if path.is_absolute():
            return path.read_bytes() if path.is_file() else None
        for base in (root / "store", root):
            if (base / path).is_file():
                return (base / path).read_bytes()
        return get_store(root).get_bytes(uri)
    except Exception as exc:  # an unreadable object is an empty state, not a crash
        log.warning("cannot read %s: %s", uri, exc)
        return None
