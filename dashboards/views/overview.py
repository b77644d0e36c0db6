"""Overview: live map of cameras and kelurahan risk, headline counts, active alerts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from access.roles import Permission
from dashboards import data, ui
from dashboards.i18n import current_lang, t

REFRESH_S = 60


def _alert_card(row: pd.Series) -> None:
    badge = {"Awas": "red", "Siaga": "orange", "Waspada": "yellow", "Normal": "green"}.get(row["level"], "gray")
    where = row["camera_id"] or row["kelurahan_code"] or "—"
    st.markdown(
        f":{badge}-badge[{ui.level_label(row['level'])}] **{ui.hazard_label(row['hazard']).capitalize()}** · `{where}`  \n"
        f"<small>{t('opened_at')} {ui.fmt_time(row['opened_at'])} · {ui.status_label(row['status'])}</small>",
        unsafe_allow_html=True,
    )


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    """Re-run every REFRESH_S seconds on its own (only this part of the page refreshes)."""
    ui.run_page(_live, needs=Permission.VIEW_PUBLIC)


def _live() -> None:
    cams = data.camera_state()
    if cams.empty:
        st.info(t("no_cameras"), icon=":material/videocam:")
    kel_levels = data.kelurahan_state(cams)
    alerts = data.active_alerts_now()  # the ops DB's live state over the lake copy (acknowledged shows at once)

    m1, m2, m3, m4, m5 = st.columns(5, border=True)
    m1.metric(t("m_cameras"), ui.fmt_int(len(cams)))
    m2.metric(t("m_cameras_live"), ui.fmt_int(int((cams["health"] == "ok").sum()) if not cams.empty else 0))
    m3.metric(t("m_active_alerts"), ui.fmt_int(len(alerts)))
    m4.metric(t("m_kel_at_risk"), ui.fmt_int(int((kel_levels != "Normal").sum())))
    unhealthy = int((~cams["health"].isin(["ok", "unknown"])).sum()) if not cams.empty else 0
    m5.metric(t("m_unhealthy"), ui.fmt_int(unhealthy))
    passthrough = int((cams["scoring"] == "passthrough").sum()) if not cams.empty else 0
    if passthrough:
        st.warning(t("passthrough_cameras", n=ui.fmt_int(passthrough)), icon=":material/visibility_off:")

    left, right = st.columns([3, 1.3])
    with left, ui.section():
        st.subheader(t("map_title"))
        with st.container(key="city_map"):
            _city_map(cams[list(ui.CITY_MAP_COLUMNS)], kel_levels)
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


def _city_map(cams: pd.DataFrame, kel_levels: pd.Series) -> None:
    """The map drawn on a 2D canvas (on screen soonest, no GPU needed), or the deck.gl map to zoom and pan."""
    root, lang = str(data.data_dir()), current_lang()
    if st.toggle(t("map_interactive"), key="overview_map_interactive", help=t("map_interactive_help")):
        st.pydeck_chart(ui.PrebuiltDeck(ui.city_map_json(cams, kel_levels, root, lang)), height=ui.CITY_CHART_HEIGHT)
        return
    spec = ui.city_map_spec(cams, kel_levels, root, lang)
    if spec is None:
        ui.empty_state()
    else:
        st.vega_lite_chart(spec, width="stretch")


def render() -> None:
    ui.page_header("overview_title")
    if not ui.require_lake():
        return
    live()


ui.run_page(render, needs=Permission.VIEW_PUBLIC)
