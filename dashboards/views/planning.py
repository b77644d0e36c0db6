"""Planning: coverage today and where the next cameras should go (what-if scenarios)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from analytics import planning
from analytics.planning import LAYERS
from dashboards import data, ui
from dashboards.i18n import current_lang, t

DEFAULT_WEIGHTS = {"population": 1.0, "flood_2024": 1.0, "fire_2024": 1.0, "jaki_complaints": 0.5, "crowd": 0.5}


@st.cache_resource(show_spinner=False, max_entries=2)
def _model(root: str) -> Any:
    """The precomputed planning model over the lake (built once per data folder)."""
    return planning.PlanningModel.build(data.get_lake())


def _dots(lat: Any, lon: Any, name: Any, info: Any, color: list[int], radius_m: int, min_px: int) -> pdk.Layer:
    pts = pd.DataFrame({"lat": lat, "lon": lon, "name": name, "info": info}).astype({"lat": float, "lon": float})
    return pdk.Layer(
        "ScatterplotLayer",
        pts,
        get_position=["lon", "lat"],
        get_fill_color=color,
        get_radius=radius_m,
        radius_min_pixels=min_px,
        pickable=True,
    )


def _sites_map(sites: pd.DataFrame) -> None:
    pts = sites.dropna(subset=["lat", "lon"])
    if pts.empty:
        return
    layers = []
    root = str(data.data_dir())
    feats = ui.kelurahan_features(root)
    if feats:
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                {"type": "FeatureCollection", "features": feats},
                stroked=False,
                get_fill_color=[148, 163, 184, 40],
            )
        )
        layers.append(ui.borders_layer(ui.kelurahan_borders(root), [255, 255, 255, 160]))
    parks = data.query(data.PUBLIC_SPACES)
    if not parks.empty:  # the public spaces (RPTRA) of the ``public_space`` demand layer as green dots
        names = parks["name"].fillna("").astype(str)
        layers.append(_dots(parks["lat"], parks["lon"], names, t("public_spaces"), [22, 163, 74, 170], 60, 3))
    ranks = [f"#{r}" for r in pts["rank"]]
    layers.append(
        _dots(pts["lat"], pts["lon"], ranks, pts["reason"].fillna("").astype(str), [124, 58, 237, 220], 120, 5)
    )
    st.pydeck_chart(
        ui.deck(layers, pdk.ViewState(**ui.fit_view(pts["lat"].astype(float), pts["lon"].astype(float)))),
        height=420,
    )


def _sites_table(sites: pd.DataFrame) -> None:
    reason = "reason_en" if current_lang() == "en" and "reason_en" in sites.columns else "reason"
    wanted = ("rank", "site_id", "nama_kelurahan", "kode_kelurahan", "gain_total", reason, "lat", "lon")
    cols = [c for c in wanted if c in sites.columns and sites[c].notna().any()]
    st.dataframe(
        sites[cols],
        hide_index=True,
        column_config={
            "rank": "#",
            "nama_kelurahan": t("kelurahan_title"),
            "kode_kelurahan": t("area_code"),
            "gain_total": st.column_config.NumberColumn(t("gain"), format="%.4f"),
            reason: t("reason"),
        },
    )


def _what_if() -> None:
    with st.form("what-if"):
        c1, c2 = st.columns(2)
        budget = c1.slider(t("budget"), 5, 500, 50, step=5)
        radius = c2.slider(t("radius"), 50, 600, 150, step=25)
        st.caption(t("weights"))
        cols = st.columns(min(len(LAYERS), 5))
        weights = {
            layer: cols[i % len(cols)].number_input(
                layer, 0.0, 5.0, DEFAULT_WEIGHTS.get(layer, 0.0), 0.25, key=f"w-{layer}"
            )
            for i, layer in enumerate(LAYERS)
        }
        go = st.form_submit_button(t("run_what_if"), type="primary")
    if not go:
        return
    try:
        with st.spinner(t("run_what_if")):
            result = planning.what_if(budget, float(radius), weights, model=_model(str(data.data_dir())))
    except Exception as exc:  # a scenario the model cannot compute is a user-facing message
        ui.log.exception("what-if failed")
        st.warning(t("what_if_failed", err=str(exc)))
        return
    st.subheader(t("what_if_result"))
    change = pd.DataFrame(
        {
            "layer": list(result.before),
            "before": list(result.before.values()),
            "after": [result.after[k] for k in result.before],
        }
    )
    long = change.melt(id_vars="layer", var_name="when", value_name="share")
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("layer:N", title=t("coverage_layer")),
            x=alt.X("share:Q", title=t("covered_share"), axis=alt.Axis(format="%")),
            color=alt.Color("when:N", title=None, scale=alt.Scale(range=["#94a3b8", "#7c3aed"])),
            yOffset="when:N",
        )
        .properties(height=28 * len(change) + 40)
    )
    st.altair_chart(chart, width="stretch")
    _sites_map(result.candidates)
    _sites_table(result.candidates)


def _planned_vs_live() -> None:
    """Registry counts: coverage counts live (installed) cameras; planned ones count once installed."""
    from dashboards.data import registry as reg

    counts = {str(r["status"]): int(r["n"]) for r in data.query(reg.REGISTRY_STATUS, live=True).to_dict("records")}
    m1, m2, m3 = st.columns(3, border=True)
    m1.metric(t("reg_live"), ui.fmt_int(counts.get("installed", 0)))
    m2.metric(t("reg_planned"), ui.fmt_int(counts.get("planned", 0)), help=t("reg_planned_help"))
    m3.metric(t("public_spaces"), ui.fmt_int(len(data.query(data.PUBLIC_SPACES))), help=t("public_spaces_help"))


def render() -> None:
    ui.page_header("planning_title")
    if not ui.require_lake():
        return
    with ui.section():
        _planned_vs_live()
    c1, c2 = st.columns(2)
    with c1, ui.section():
        st.subheader(t("coverage_by_layer"))
        cov = data.query(data.COVERAGE_BY_LAYER)
        if cov.empty:
            ui.empty_state(t("coverage").lower())
        else:
            chart = (
                alt.Chart(cov)
                .mark_bar(color="#2563eb")
                .encode(
                    y=alt.Y("layer:N", title=t("coverage_layer")),
                    x=alt.X(
                        "covered_share:Q",
                        title=t("covered_share"),
                        axis=alt.Axis(format="%"),
                        scale=alt.Scale(domain=[0, 1]),
                    ),
                    tooltip=["layer", alt.Tooltip("covered_share:Q", format=".1%")],
                )
                .properties(height=220)
            )
            st.altair_chart(chart, width="stretch")
    with c2, ui.section():
        st.subheader(t("uncovered_kelurahan"))
        least = data.query(data.LEAST_COVERED)
        if least.empty:
            ui.empty_state(t("coverage").lower())
        else:
            least["label"] = least["nama_kelurahan"].fillna(least["kode_kelurahan"])
            chart = (
                alt.Chart(least)
                .mark_bar(color="#f97316")
                .encode(
                    y=alt.Y("label:N", sort="x", title=None),
                    x=alt.X("covered_share:Q", title=t("covered_share"), axis=alt.Axis(format="%")),
                )
                .properties(height=220)
            )
            st.altair_chart(chart, width="stretch")

    with ui.section():
        _what_if()
    with ui.section():
        st.subheader(t("stored_candidates"))
        stored = data.query(data.PLACEMENT_LATEST)
        if stored.empty:
            ui.empty_state(t("stored_candidates").lower())
        else:
            run = stored["run_id"].iloc[0]
            st.caption(f"run `{run}` · {stored['method'].iloc[0]} · {t('budget')}: {stored['budget'].iloc[0]}")
            _sites_map(stored)
            _sites_table(stored)


ui.run_page(render)
