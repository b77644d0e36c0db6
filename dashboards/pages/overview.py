"""Overview: live map of cameras and kelurahan risk, headline counts, active alerts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboards import data, ui
from dashboards.i18n import current_lang, t

REFRESH_S = 60


def _deck(cams: pd.DataFrame, kel_levels: pd.Series) -> pdk.Deck:
    root = str(data.data_dir())
    features = []
    for feat in ui.kelurahan_features(root):
        props = feat["properties"]
        level = kel_levels.get(props["kode_kelurahan"], "unknown")
        color = list(ui.LEVEL_COLORS[level])
        color[3] = 110 if level != "unknown" else 35
        features.append(
            {
                "type": "Feature",
                "geometry": feat["geometry"],
                "properties": {  # only what the layer and the tooltip use
                    "fill": color,
                    "name": f"{props['nama_kelurahan']} ({props['nama_kecamatan']})",
                    "info": ui.level_label(level),
                },
            }
        )
    layers: list[pdk.Layer] = []
    if features:
        # fill only: the boundaries are a LineLayer (cheap to draw without a GPU, see ui.kelurahan_borders)
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                {"type": "FeatureCollection", "features": features},
                id="kelurahan",
                stroked=False,
                filled=True,
                pickable=True,
                get_fill_color="properties.fill",
            )
        )
        layers.append(ui.borders_layer(ui.kelurahan_borders(root), [255, 255, 255, 200]))
    pts = cams.dropna(subset=["lat", "lon"])
    if not pts.empty:
        pts = pd.DataFrame(
            {
                "lat": pts["lat"].astype(float).round(ui.COORD_DECIMALS),
                "lon": pts["lon"].astype(float).round(ui.COORD_DECIMALS),
                "name": pts["name"].fillna(pts["camera_id"]).astype(str),
                "info": [
                    f"{ui.level_label(lv)} · {ui.health_label(h)}"
                    for lv, h in zip(pts["level"], pts["health"], strict=True)
                ],
                "fill": [ui.LEVEL_COLORS[lv] for lv in pts["level"]],
                "line": [[0, 0, 0, 0] if h in ("ok", "unknown") else [190, 18, 60, 255] for h in pts["health"]],
                "radius": [60 if lv in ("unknown", "Normal") else 140 for lv in pts["level"]],
            }
        )
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                pts,
                id="cameras",
                get_position=["lon", "lat"],
                get_fill_color="fill",
                get_line_color="line",
                get_radius="radius",
                radius_min_pixels=3,
                radius_max_pixels=14,
                line_width_min_pixels=2,
                stroked=True,
                pickable=True,
            )
        )
    return ui.deck(layers, pdk.ViewState(**ui.fit_view(cams["lat"], cams["lon"])))


def _alert_card(row: pd.Series) -> None:
    badge = {"Awas": "red", "Siaga": "orange", "Waspada": "yellow", "Normal": "green"}.get(row["level"], "gray")
    where = row["camera_id"] or row["kelurahan_code"] or "—"
    st.markdown(
        f":{badge}-badge[{ui.level_label(row['level'])}] **{ui.hazard_label(row['hazard']).capitalize()}** · `{where}`  \n"
        f"<small>{t('opened_at')} {ui.fmt_time(row['opened_at'])} · {row['status']}</small>",
        unsafe_allow_html=True,
    )


@st.cache_data(ttl=data.TTL_LIVE, max_entries=8, show_spinner=False)
def _deck_json(cams: pd.DataFrame, kel_levels: pd.Series, root: str, lang: str) -> str:
    """The map's JSON for this camera and kelurahan state (``root`` and ``lang`` key the cache)."""
    return str(_deck(cams, kel_levels).to_json())


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    """Re-run every REFRESH_S seconds on its own (only this part of the page refreshes)."""
    ui.run_page(_live)


def _live() -> None:
    cams = data.camera_state()
    if cams.empty:
        st.info(t("no_cameras"), icon=":material/videocam:")
    kel_levels = data.kelurahan_state(cams)
    alerts = data.query(data.ALERTS_ACTIVE, live=True)

    m1, m2, m3, m4, m5 = st.columns(5, border=True)
    m1.metric(t("m_cameras"), ui.fmt_int(len(cams)))
    m2.metric(t("m_cameras_live"), ui.fmt_int(int((cams["health"] == "ok").sum()) if not cams.empty else 0))
    m3.metric(t("m_active_alerts"), ui.fmt_int(len(alerts)))
    m4.metric(t("m_kel_at_risk"), ui.fmt_int(int((kel_levels != "Normal").sum())))
    unhealthy = int((~cams["health"].isin(["ok", "unknown"])).sum()) if not cams.empty else 0
    m5.metric(t("m_unhealthy"), ui.fmt_int(unhealthy))

    left, right = st.columns([3, 1.3])
    with left, ui.section():
        st.subheader(t("map_title"))
        map_cols = ["camera_id", "name", "lat", "lon", "level", "health"]
        spec = _deck_json(cams[map_cols], kel_levels, str(data.data_dir()), current_lang())
        st.pydeck_chart(ui.PrebuiltDeck(spec), height=560)
        st.caption(t("map_legend"))
    with right:
        with ui.section():
            st.subheader(t("active_alerts"))
            if alerts.empty:
                st.success(t("no_active_alerts"), icon=":material/check_circle:")
            else:
                for _, row in alerts.head(8).iterrows():
                    _alert_card(row)
        with ui.section():
            st.subheader(t("risk_distribution"))
            if cams.empty:
                ui.empty_state()
            else:
                dist = cams["level"].value_counts().rename_axis("level").reset_index(name="n")
                dist["label"] = dist["level"].map(ui.level_label)
                order = [*data.LEVELS, "unknown"]
                chart = (
                    alt.Chart(dist)
                    .mark_bar()
                    .encode(
                        y=alt.Y("label:N", sort=[ui.level_label(lv) for lv in order], title=None),
                        x=alt.X("n:Q", title=t("m_cameras"), axis=alt.Axis(format="d", tickMinStep=1)),
                        color=alt.Color(
                            "level:N",
                            scale=alt.Scale(domain=order, range=[ui.LEVEL_HEX[lv] for lv in order]),
                            legend=None,
                        ),
                        tooltip=[alt.Tooltip("label:N", title=t("level")), alt.Tooltip("n:Q", title=t("m_cameras"))],
                    )
                    .properties(height=180)
                )
                st.altair_chart(chart, width="stretch")
    st.caption(t("last_refresh", time=ui.now_wib().strftime("%H:%M:%S")))


def render() -> None:
    ui.page_header("overview_title")
    if not ui.require_lake():
        return
    live()


ui.run_page(render)
