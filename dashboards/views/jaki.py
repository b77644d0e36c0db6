"""Jaki usage: by feature, area and time; complaint resolution; hospital beds; parking; panic button."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, ui
from dashboards.i18n import t

# Column name candidates for the hospital beds mart (the first one present is used).
BED_TIME = ("day", "date", "at", "hour")
BED_NAME = ("hospital_name", "hospital", "name", "kode_rs")
BED_AVAILABLE = ("available_last", "available_mean", "available", "beds_available")
BED_CAPACITY = ("capacity", "beds_capacity", "total_beds")


def _pick(cols: list[str], options: tuple[str, ...]) -> str | None:
    return next((c for c in options if c in cols), None)


def _beds() -> pd.DataFrame:
    table = "jaki_hospital_beds_daily"
    if not data.has_tables(table):
        return pd.DataFrame()
    cols = data.table_columns(table)
    tcol, ncol, acol, ccol = (_pick(cols, o) for o in (BED_TIME, BED_NAME, BED_AVAILABLE, BED_CAPACITY))
    if tcol is None or acol is None:
        return pd.DataFrame()
    from warehouse.lake import ident

    name_sql = ident(ncol) if ncol else "'Jakarta'"
    cap_sql = f"sum({ident(ccol)})" if ccol else "NULL"
    q = data.Q(
        f"SELECT {ident(tcol)} AS t, {name_sql} AS hospital, sum({ident(acol)}) AS available, {cap_sql} AS capacity "
        f"FROM {table} WHERE {ident(tcol)} > (SELECT max({ident(tcol)}) FROM {table}) - INTERVAL 30 DAY "
        "GROUP BY ALL ORDER BY 1",
        (table,),
        ("t", "hospital", "available", "capacity"),
    )
    return data.query(q)


def render() -> None:
    ui.page_header("jaki_title")
    if not ui.require_lake():
        return
    days = st.select_slider(t("window"), options=[7, 14, 30, 90], value=30, format_func=lambda d: t("days_n", n=d))
    usage = data.query(data.JAKI_USAGE_BY_DAY_FEATURE, [days])
    c1, c2 = st.columns([2, 1])
    with c1, ui.section():
        st.subheader(t("usage_over_time"))
        if usage.empty:
            ui.empty_state(t("jaki_usage"))
        else:
            chart = ui.usage_by_day_chart(usage, height=260, min_days=days)
            st.altair_chart(chart, width="stretch")
    with c2, ui.section():
        st.subheader(t("usage_by_feature"))
        if usage.empty:
            ui.empty_state()
        else:
            by_feat = usage.groupby("feature", as_index=False)[["events", "users"]].sum()
            by_feat["feature"] = ui.code_labels(by_feat["feature"], "feature")
            chart = (
                alt.Chart(by_feat)
                .mark_arc(innerRadius=55)
                .encode(
                    theta="events:Q", color=alt.Color("feature:N", title=t("feature")), tooltip=["feature", "events"]
                )
                .properties(height=260)
            )
            st.altair_chart(chart, width="stretch")

    a1, a2 = st.columns(2)
    with a1, ui.section():
        st.subheader(t("usage_by_area"))
        area = data.query(data.JAKI_USAGE_BY_AREA, [days])
        if area.empty:
            ui.empty_state()
        else:
            area["label"] = area["nama_kelurahan"].fillna(area["kelurahan_code"])
            chart = (
                alt.Chart(area)
                .mark_bar(color="#0ea5e9")
                .encode(
                    y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=160)),
                    x=alt.X("events:Q", title=t("events_n")),
                )
                .properties(height=300)
            )
            st.altair_chart(chart, width="stretch")
    with a2, ui.section():
        st.subheader(t("complaint_resolution"))
        comp = data.query(data.JAKI_COMPLAINTS_BY_CATEGORY)
        if comp.empty:
            ui.empty_state(t("complaints").lower())
        else:
            comp["resolved_share"] = comp["resolved"] / comp["complaints"].where(comp["complaints"] > 0)
            comp["category"] = ui.code_labels(comp["category"], "category")
            base = alt.Chart(comp).encode(
                y=alt.Y("category:N", title=None, sort="-x", axis=alt.Axis(labelOverlap=False, labelLimit=160))
            )
            bars = base.mark_bar(color="#16a34a").encode(
                x=alt.X(
                    "resolved_share:Q",
                    title=t("resolved_share"),
                    axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
                tooltip=[
                    alt.Tooltip("category:N", title=t("category")),
                    "complaints",
                    "resolved",
                    alt.Tooltip("median_resolution_h:Q", title=t("median_resolution"), format=".1f"),
                ],
            )
            st.altair_chart(bars.properties(height=300), width="stretch")

    b1, b2 = st.columns(2)
    with b1, ui.section():
        st.subheader(t("hospital_beds"))
        beds = _beds()
        if beds.empty:
            ui.empty_state(t("hospital_beds").lower())
        else:
            chart = (
                alt.Chart(ui.wib_series(beds, "t") if isinstance(beds["t"].dtype, pd.DatetimeTZDtype) else beds)
                .mark_line(point=True)
                .encode(
                    x=alt.X("t:T", title=t("day")),
                    y=alt.Y("available:Q", title=t("beds_available")),
                    color=alt.Color("hospital:N", title=None),
                    tooltip=["t:T", "hospital:N", "available:Q", "capacity:Q"],
                )
                .properties(height=260)
            )
            st.altair_chart(chart, width="stretch")
    with b2, ui.section():
        st.subheader(t("parking_occupancy"))
        park = data.query(data.JAKI_PARKING)
        if park.empty:
            ui.empty_state(t("parking_occupancy").lower())
        else:
            chart = (
                alt.Chart(ui.wib_series(park, "hour"))
                .mark_line()
                .encode(
                    x=alt.X("hour:T", title=t("time")),
                    y=alt.Y("occupancy:Q", title=t("occupancy"), axis=alt.Axis(format="%")),
                    color=alt.Color("name:N", title=None),
                )
                .properties(height=260)
            )
            st.altair_chart(chart, width="stretch")
    with ui.section():
        panic = data.query(data.JAKI_PANIC)
        if not panic.empty:
            st.subheader(t("panic_presses"))
            st.bar_chart(ui.wib_series(panic, "hour"), x="hour", y="presses", height=160, x_label=t("time"), y_label="")


ui.run_page(render)
