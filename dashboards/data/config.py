"""Dashboard configuration: the platform's one settings object, loaded once per configuration.

The dashboards server takes the same :class:`~orchestration.settings.PantauSettings` as every other entry point
(``PANTAU_*`` variables over the TOML file named by ``PANTAU_CONFIG``, then defaults). It is loaded on the first
page view and kept for the life of the server; a process whose ``PANTAU_*`` variables change (the tests) gets the
settings of its new configuration. The only dashboards module that loads settings.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from orchestration.settings import PantauSettings, load_settings
from warehouse.lake import LakeConfig, S3Config


def settings(root: Path | None = None) -> PantauSettings:
    """The settings of this server, with ``root`` as the data folder when given."""
    s = _load(_configuration())
    return s.model_copy(update={"data_dir": root}) if root is not None else s


def _configuration() -> tuple[tuple[str, str], ...]:
    """What the settings are loaded from: this process's ``PANTAU_*`` variables, ``PANTAU_CONFIG`` among them."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PANTAU_")))


@st.cache_resource(show_spinner=False, max_entries=8)
def _load(configuration: tuple[tuple[str, str], ...]) -> PantauSettings:
    return load_settings()


def data_dir() -> Path:
    """The configured data folder (default ``./pantau-data``), absolute."""
    return Path(settings().data_dir).expanduser().resolve()


def lake_config(root: Path) -> LakeConfig:
    """The configured lake (embedded, or PostgreSQL catalog + S3) over the data folder ``root``."""
    return settings(root).lake_config()


def s3_config() -> S3Config:
    return settings().s3_config()


def store_kind() -> str:
    """``s3`` or ``local`` (``<data_dir>/store``)."""
    return settings().store


def ops_db_url(root: Path | None = None) -> str | None:
    """URL of the alerts operational DB when one exists (``ops_db_url`` or ``<data_dir>/ops.sqlite``)."""
    return settings(root or data_dir()).existing_ops_db_url()
