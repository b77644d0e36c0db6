"""Derived current state: every camera's risk level, health and scoring, every kelurahan's level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboards.data.config import data_dir
from dashboards.data.queries import (
    CAMERA_HEALTH_NOW,
    CAMERA_RISK_NOW_HOURLY,
    CAMERA_RISK_NOW_SCORES,
    CAMERAS,
    KELURAHAN_RISK_NOW,
    LEVEL_RANK,
    LEVELS,
)
from dashboards.data.query import TTL_LIVE, WIB, clear_query_caches, query
from ingest.cameras.passthrough import PASSTHROUGH_VERSION

#: ``frame_scores.model_version`` of pass-through scoring (``passthrough-1``, ...) starts with this
PASSTHROUGH_PREFIX = PASSTHROUGH_VERSION.split("-")[0]


def camera_state(root: Path | None = None) -> pd.DataFrame:
    """Every camera with its current risk level and health (``unknown`` without recent data).

    Level: newest frame score within the last hour of data, else the newest hourly mart row.
    Health: newest frame status, else the frame score's health, else ``offline`` when the hourly
    uptime is zero. Scoring: ``passthrough`` when the newest score came from pass-through scoring (hazards not
    looked for), ``vision`` for the vision pipeline, None without recent scores. Cached as a whole (Overview and
    Camera both start with it).
    """
    return _camera_state(str(root or data_dir()))


@st.cache_data(ttl=TTL_LIVE, show_spinner=False, max_entries=16)
def _camera_state(root_str: str) -> pd.DataFrame:
    root = Path(root_str)
    cams = query(CAMERAS, root=root)
    if cams.empty:
        return cams.assign(
            level=pd.Series(dtype=str),
            health=pd.Series(dtype=str),
            scoring=pd.Series(dtype=object),
            last_seen=pd.Series(dtype=object),
        )
    scores = query(CAMERA_RISK_NOW_SCORES, live=True, root=root)
    hourly = query(CAMERA_RISK_NOW_HOURLY, live=True, root=root)
    frames = query(CAMERA_HEALTH_NOW, live=True, root=root)
    df = (
        cams[["camera_id"]]
        .merge(scores[["camera_id", "risk_level", "health", "model_version", "last_seen"]], on="camera_id", how="left")
        .merge(
            hourly[["camera_id", "risk_level", "uptime", "last_seen"]].rename(
                columns={"risk_level": "h_level", "last_seen": "h_seen"}
            ),
            on="camera_id",
            how="left",
        )
        .merge(frames[["camera_id", "status", "last_frame"]], on="camera_id", how="left")
    )
    level = df["risk_level"].astype(object).where(df["risk_level"].notna(), df["h_level"])
    level = level.where(level.isin(LEVELS), "unknown")
    health = df["status"].astype(object).where(df["status"].notna(), df["health"])
    up = pd.to_numeric(df["uptime"], errors="coerce")
    from_uptime = pd.Series(np.where(up > 0, "ok", "offline"), index=df.index).where(up.notna())
    health = health.where(health.notna(), from_uptime).fillna("unknown")
    seen = [pd.to_datetime(df[c], utc=True) for c in ("last_seen", "last_frame", "h_seen")]
    last_seen = seen[0].fillna(seen[1]).fillna(seen[2]).dt.tz_convert(WIB)
    version = df["model_version"].astype(object)
    scoring = pd.Series(
        np.where(version.astype(str).str.startswith(PASSTHROUGH_PREFIX), "passthrough", "vision"), index=df.index
    ).where(version.notna())
    return cams.reset_index(drop=True).assign(level=level, health=health, scoring=scoring, last_seen=last_seen)


def kelurahan_state(cams: pd.DataFrame, root: Path | None = None) -> pd.Series:
    """Current risk level per kelurahan code: the hourly mart, raised by any camera's current level."""
    ranks: dict[str, int] = {}
    mart = query(KELURAHAN_RISK_NOW, live=True, root=root)
    for code, rank in zip(mart["kelurahan_code"], mart["level_rank"], strict=True):
        if code is not None and not pd.isna(rank):
            ranks[code] = max(ranks.get(code, 0), int(rank))
    if not cams.empty:
        known = cams[cams["level"].isin(LEVELS) & cams["kelurahan_code"].notna()]
        for code, level in zip(known["kelurahan_code"], known["level"], strict=True):
            ranks[code] = max(ranks.get(code, 0), LEVEL_RANK[level])
    return pd.Series({code: LEVELS[r] for code, r in ranks.items()}, dtype=object)


def clear_caches() -> None:
    """Drop every cached query result and the cached camera state."""
    _camera_state.clear()
    clear_query_caches()
