"""Kelurahan: risk history, population, Jaki usage and complaints, cameras inside, coverage."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, ui
from dashboards.i18n import t


def render() -> None:
    ui.page_header("kelurahan_title")
    if not ui.require_lake():
        return
    kel = data.query(data.KELURAHAN)
    if kel.empty:
        st.info(t("no_kelurahan"), icon=":material/holiday_village:")
        return
    codes = kel["kode_kelurahan"].tolist()
    label = {
        r.kode_kelurahan: f"{r.nama_kelurahan} — {r.nama_kecamatan}, {r.nama_kota}" for r in kel.itertuples(index=False)
    }
    wanted = st.query_params.get("kelurahan")
    code = st.selectbox(
        t("choose_kelurahan"),
        codes,
        index=codes.index(wanted) if wanted in codes else 0,
        format_func=lambda c: label.get(c, str(c)),
    )
    st.query_params["kelurahan"] = str(code)
    row = kel[kel["kode_kelurahan"] == code].iloc[0]

    m1, m2, m3, m4 = st.columns(4, border=True)
    m1.metric(t("population"), ui.fmt_int(row["population"]))
    m2.metric(t("households"), ui.fmt_int(row["households"]))
    m3.metric(t("area_km2"), "—" if pd.isna(row["area_km2"]) else f"{row['area_km2']:.2f}")
    m4.metric(t("density"), ui.fmt_int(row["density_per_km2"]))

    cams_all = data.camera_state()
    cams = cams_all[cams_all["kelurahan_code"] == code] if not cams_all.empty else cams_all

    left, right = st.columns([1, 1.6])
    with left, ui.section():
        st.subheader(t("cameras_inside"))
        geom = data.query(data.KELURAHAN_GEOM_ONE, [code])
        deck = ui.mini_map(ui.shape_from_geojson(geom["geometry"].iloc[0] if not geom.empty else None), cams)
        if deck is not None:
            st.pydeck_chart(deck, height=300)
        if cams.empty:
            st.caption(t("no_cameras"))
        else:
            show = cams[["camera_id", "name", "level", "health", "last_seen"]].copy()
            show["level"] = show["level"].map(ui.level_label)
            show["health"] = show["health"].map(ui.health_label)
            st.dataframe(
                ui.wib_series(show, "last_seen"),
                hide_index=True,
                height=min(36 * (len(show) + 1) + 4, 300),
                column_config={
                    "camera_id": "ID",
                    "name": t("name"),
                    "level": t("level"),
                    "health": t("current_health"),
                    "last_seen": st.column_config.DatetimeColumn(t("latest"), format="D MMM HH:mm"),
                },
            )
    with right, ui.section():
        st.subheader(t("risk_history"))
        hist = data.query(data.KELURAHAN_RISK_HISTORY, [code])
        if hist.empty:
            ui.empty_state(t("risk_history").lower())
        else:
            hist = ui.wib_series(hist, "hour")
            long = hist.melt(
                id_vars=["hour"],
                value_vars=["fire_max", "smoke_max", "flood_max", "crowd_max"],
                var_name="h",
                value_name="score",
            )
            long["label"] = long["h"].str.removesuffix("_max").map(ui.hazard_label)
            hz = list(ui.HAZARD_HEX)
            lines = (
                alt.Chart(long)
                .mark_line(point=True)
                .encode(
                    x=alt.X("hour:T", title=t("time")),
                    y=alt.Y("score:Q", title=t("score"), scale=alt.Scale(domain=[0, 1])),
                    color=alt.Color(
                        "label:N",
                        title=t("hazard"),
                        scale=alt.Scale(domain=[ui.hazard_label(h) for h in hz], range=list(ui.HAZARD_HEX.values())),
                    ),
                )
                .properties(height=220)
            )
            hist["level"] = hist["level_rank"].map(ui.level_from_rank)
            hist["label"] = hist["level"].map(ui.level_label)
            order = list(data.LEVELS)
            strip = (
                alt.Chart(hist)
                .mark_rect()
                .encode(
                    x=alt.X("hour:T", title=None),
                    color=alt.Color(
                        "level:N",
                        scale=alt.Scale(domain=order, range=[ui.LEVEL_HEX[lv] for lv in order]),
                        title=t("level"),
                    ),
                    tooltip=[alt.Tooltip("hour:T", format="%d %b %H:%M"), alt.Tooltip("label:N", title=t("level"))],
                )
                .properties(height=24)
            )
            st.altair_chart(alt.vconcat(lines, strip).resolve_scale(color="independent"), width="stretch")
        f1, f2 = st.columns(2)
        flood24 = data.query(data.KELURAHAN_FLOOD_2024, [code])
        fire24 = data.query(data.KELURAHAN_FIRE_2024, [code])
        f1.metric(t("flood_events_2024"), ui.fmt_int(flood24["events"].sum() if not flood24.empty else 0))
        f2.metric(t("fire_incidents_2024"), ui.fmt_int(fire24["incidents"].iloc[0] if not fire24.empty else 0))

    j1, j2, j3 = st.columns(3)
    with j1, ui.section():
        st.subheader(t("jaki_usage"))
        usage = data.query(data.KELURAHAN_JAKI_USAGE, [code])
        if usage.empty:
            ui.empty_state(t("jaki_usage"))
        else:
            chart = ui.usage_by_day_chart(usage, height=220)
            st.altair_chart(chart, width="stretch")
    with j2, ui.section():
        st.subheader(t("complaints"))
        comp = data.query(data.KECAMATAN_COMPLAINTS, [row["nama_kecamatan"]])
        if comp.empty:
            ui.empty_state(t("complaints").lower())
        else:
            st.caption(str(row["nama_kecamatan"]))
            comp["resolved_share"] = comp["resolved"] / comp["complaints"].where(comp["complaints"] > 0)
            comp["category"] = ui.code_labels(comp["category"], "category")
            chart = (
                alt.Chart(comp)
                .mark_bar()
                .encode(
                    y=alt.Y("category:N", title=None, sort="-x"),
                    x=alt.X("complaints:Q", title=t("complaints")),
                    color=alt.Color("resolved_share:Q", title=t("resolved_share"), scale=alt.Scale(scheme="greens")),
                    tooltip=[
                        alt.Tooltip("category:N", title=t("category")),
                        "complaints",
                        "resolved",
                        alt.Tooltip("median_resolution_h:Q", title=t("median_resolution"), format=".1f"),
                    ],
                )
                .properties(height=200)
            )
            st.altair_chart(chart, width="stretch")
    with j3, ui.section():
        st.subheader(t("coverage"))
        cov = data.query(data.KELURAHAN_COVERAGE, [code])
        if cov.empty:
            ui.empty_state(t("coverage").lower())
        else:
            chart = (
                alt.Chart(cov)
                .mark_bar()
                .encode(
                    y=alt.Y("layer:N", title=t("coverage_layer")),
                    x=alt.X(
                        "covered_share:Q",
                        title=t("covered_share"),
                        scale=alt.Scale(domain=[0, 1]),
                        axis=alt.Axis(format="%"),
                    ),
                    color=alt.value("#2563eb"),
                    tooltip=["layer", alt.Tooltip("covered_share:Q", format=".0%"), "demand", "covered"],
                )
                .properties(height=200)
            )
            st.altair_chart(chart, width="stretch")


ui.run_page(render)
