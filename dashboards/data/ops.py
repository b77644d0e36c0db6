"""The alerts operational DB: live alert state and acknowledgement (the lake copy lags until the next export)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from access.roles import Principal
from alerts.db import OpsDB
from alerts.lifecycle import AlertLifecycle, AlertNotFoundError, get_alert, list_alerts, transitions
from dashboards.data.camera_state import clear_caches
from dashboards.data.config import ops_db_url
from dashboards.data.queries import ACTIVE_ALERT_STATUSES, ALERT_COLS, ALERTS_ACTIVE, LEVEL_RANK
from dashboards.data.query import WIB, query

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _ops_db(url: str) -> OpsDB:
    return OpsDB(url, create=False)


def ops_db(root: Path | None = None) -> OpsDB | None:
    """The alerts operational DB handle, or None while there is none (or it cannot be opened)."""
    url = ops_db_url(root)
    if url is None:
        return None
    try:
        return _ops_db(url)
    except Exception as exc:
        log.warning("operational DB not available: %s", exc)
        return None


def acknowledge_alert(alert_id: str, actor: str, *, by: Principal, root: Path | None = None) -> None:
    """Acknowledge through the alerts package as ``by`` (its role is checked there; the change is audited).

    Raises RuntimeError when there is no operational DB, ``access.roles.AccessDenied`` for a role that may not.
    """
    ops = ops_db(root)
    if ops is None:
        raise RuntimeError("no operational alerts database")
    AlertLifecycle(ops, validate=False).acknowledge(alert_id, actor=actor, by=by, source="dashboard")
    clear_caches()


def cancel_alert(alert_id: str, reason: str, *, by: Principal, root: Path | None = None) -> None:
    """Cancel (CAP Cancel to every recipient) as ``by``: operators and admins, with a mandatory reason."""
    ops = ops_db(root)
    if ops is None:
        raise RuntimeError("no operational alerts database")
    AlertLifecycle(ops).cancel(alert_id, reason, by=by, source="dashboard")
    clear_caches()


def can_acknowledge(root: Path | None = None) -> bool:
    return ops_db(root) is not None


def _ops_frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    df = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=list(columns))
    for col in ("opened_at", "updated_at", "at"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], utc=True).dt.tz_convert(WIB)
    return df


def ops_alerts(alert_ids: Sequence[str] = (), root: Path | None = None) -> pd.DataFrame | None:
    """Current state (alerts-page columns) of every active alert and of ``alert_ids`` in the ops DB.

    None when there is no operational DB; the lake's ``alerts`` table is then all there is.
    """
    ops = ops_db(root)
    if ops is None:
        return None
    try:
        rows = list_alerts(ops, active_only=True)
        seen = {r["alert_id"] for r in rows}
        for alert_id in dict.fromkeys(a for a in alert_ids if a not in seen):
            try:
                rows.append(get_alert(ops, alert_id))
            except AlertNotFoundError:
                continue  # only in the lake (e.g. an older ops DB): the lake row stands
    except Exception as exc:
        log.warning("operational DB not readable: %s", exc)
        return None
    return _ops_frame(rows, ALERT_COLS)


OPS_VERSION_COLS = ("version", "updated_at", "status", "level", "reason", "actor")


def ops_alert_versions(alert_id: str, root: Path | None = None) -> pd.DataFrame | None:
    """Every transition of ``alert_id`` in the ops DB (who did what), or None without one."""
    ops = ops_db(root)
    if ops is None:
        return None
    try:
        rows = [{**r, "updated_at": r["at"]} for r in transitions(ops, alert_id)]
    except Exception as exc:
        log.warning("operational DB not readable: %s", exc)
        return None
    return _ops_frame(rows, OPS_VERSION_COLS)


def merge_live_alerts(lake: pd.DataFrame, ops: pd.DataFrame | None) -> pd.DataFrame:
    """The lake's latest row per alert, replaced by the ops DB's current row where it has one.

    The lake copy is refreshed by the export job; an acknowledgement (or an alert opened since the last export) must
    show at once, so the operational DB wins where it knows the alert.
    """
    if ops is None or ops.empty:
        return lake
    if lake.empty:
        return ops.reset_index(drop=True)
    return pd.concat([lake[~lake["alert_id"].isin(ops["alert_id"])], ops], ignore_index=True)


def sort_active_first(df: pd.DataFrame) -> pd.DataFrame:
    """Highest level first, then newest."""
    rank = df["level"].map(LEVEL_RANK).fillna(-1)
    return (
        df.assign(_rank=rank)
        .sort_values(["_rank", "opened_at"], ascending=[False, False])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def active_alerts_now(root: Path | None = None) -> pd.DataFrame:
    """Active alerts as operators see them now: the lake's active rows merged with the ops DB's live state."""
    lake_active = query(ALERTS_ACTIVE, live=True, root=root)
    current = merge_live_alerts(lake_active, ops_alerts(lake_active["alert_id"].tolist(), root=root))
    return sort_active_first(current[current["status"].isin(ACTIVE_ALERT_STATUSES)])
