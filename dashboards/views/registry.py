"""Camera registry for operators: planned vs live cameras, who changed what, live cameras on a day, import
rejects. Read-only: changes are made with `pantau cameras ...` (every change is versioned in the lake)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import streamlit as st

from access.roles import Permission
from dashboards import data, ui
from dashboards.data import registry as reg
from dashboards.i18n import t

WIB = ZoneInfo("Asia/Jakarta")
STATUS_ORDER = ("installed", "planned", "retired")


def _status_label(status: str) -> str:
    return t(f"reg_status_{status}")


def _counts() -> None:
    counts = data.query(reg.REGISTRY_STATUS, live=True)
    by = {str(r["status"]): r for r in counts.to_dict("records")}
    installed = by.get("installed", {})
    c1, c2, c3, c4 = st.columns(4, border=True)
    c1.metric(t("reg_live"), ui.fmt_int(installed.get("n", 0)))
    c2.metric(t("reg_capturable"), ui.fmt_int(installed.get("capturable", 0)), help=t("reg_capturable_help"))
    c3.metric(t("reg_planned"), ui.fmt_int(by.get("planned", {}).get("n", 0)))
    c4.metric(t("reg_retired"), ui.fmt_int(by.get("retired", {}).get("n", 0)))


def _by_kota() -> None:
    df = data.query(reg.REGISTRY_BY_KOTA, live=True)
    if df.empty:
        return
    df["status_label"] = df["status"].map(_status_label)
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("kota:N", title=None, sort="-x"),
            x=alt.X("n:Q", title=t("reg_cameras")),
            color=alt.Color(
                "status_label:N",
                title=t("status"),
                sort=[_status_label(s) for s in STATUS_ORDER],
                scale=alt.Scale(
                    domain=[_status_label(s) for s in STATUS_ORDER], range=["#0f766e", "#7c3aed", "#94a3b8"]
                ),
            ),
            tooltip=["kota:N", "status_label:N", "n:Q"],
        )
        .properties(height=240)
    )
    st.altair_chart(chart, width="stretch")


def _live_on() -> None:
    day = st.date_input(t("reg_live_on"), value=date.today(), format="YYYY-MM-DD")
    start = datetime.combine(day, time(0), WIB)
    n = data.query(reg.REGISTRY_LIVE_DURING, (start + timedelta(days=1), start), live=True)
    count = int(n["n"].iloc[0]) if not n.empty and pd.notna(n["n"].iloc[0]) else 0
    st.metric(t("reg_live_on_count", day=day.isoformat()), ui.fmt_int(count))


def _cameras() -> None:
    cams = data.query(reg.REGISTRY_CAMERAS, live=True)
    if cams.empty:
        ui.empty_state(t("reg_cameras").lower())
        return
    c1, c2 = st.columns([1, 2])
    status = c1.multiselect(t("status"), STATUS_ORDER, default=list(STATUS_ORDER), format_func=_status_label)
    text = c2.text_input(t("reg_search"), "")
    shown = cams[cams["status"].isin(status)]
    if text:
        mask = shown["camera_id"].str.contains(text, case=False, regex=False) | shown["name"].fillna("").str.contains(
            text, case=False, regex=False
        )
        shown = shown[mask]
    st.dataframe(
        shown.assign(status=shown["status"].map(_status_label)),
        hide_index=True,
        height=320,
        column_config={
            "updated_at": st.column_config.DatetimeColumn(t("reg_updated"), format="D MMM YYYY HH:mm"),
            "has_secret": st.column_config.CheckboxColumn(t("reg_has_secret")),
            "stream_url": st.column_config.TextColumn("stream_url"),
        },
    )


def _changes() -> None:
    ch = data.query(reg.REGISTRY_CHANGES, (200,), live=True)
    if ch.empty:
        ui.empty_state(t("reg_changes").lower())
        return

    def summary(fields: str | None) -> str:
        try:
            d = json.loads(fields or "{}")
        except ValueError:
            return ""
        return ", ".join(f"{k}: {v[0]} → {v[1]}" for k, v in sorted(d.items()))[:300]

    ch = ch.assign(fields=ch["fields"].map(summary))
    st.dataframe(
        ch,
        hide_index=True,
        height=320,
        column_config={"changed_at": st.column_config.DatetimeColumn(t("time"), format="D MMM YYYY HH:mm:ss")},
    )


def render() -> None:
    ui.page_header("reg_title", t("reg_caption"))
    if not ui.require_lake():
        return
    if not data.has_tables("cameras", "camera_versions"):
        ui.empty_state(t("reg_cameras").lower())
        return
    with ui.section():
        _counts()
    left, right = st.columns([2, 1])
    with left, ui.section():
        st.subheader(t("reg_by_kota"))
        _by_kota()
    with right, ui.section():
        st.subheader(t("reg_history"))
        _live_on()
    with ui.section():
        st.subheader(t("reg_cameras"))
        _cameras()
    with ui.section():
        st.subheader(t("reg_changes"))
        _changes()
    with ui.section():
        rejects = data.query(reg.REGISTRY_REJECTS, live=True)
        if not rejects.empty:
            st.subheader(t("reg_rejects"))
            st.dataframe(rejects, hide_index=True, height=220)


ui.run_page(render, needs=Permission.VIEW_REGISTRY)
