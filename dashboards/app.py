"""Pantau dashboards: ``streamlit run dashboards/app.py`` (or ``pantau dashboard``).

The entry point only sets the page, the language switch and the navigation; each page is a
script in ``dashboards/views`` (not ``pages/``: Streamlit would also treat a ``pages/`` folder as
its older page list, and a link straight to a page would then open without this entry point). Data comes read-only from the lake in ``PANTAU_DATA_DIR``.
"""

from __future__ import annotations

import logging

import streamlit as st

from dashboards import data, ui
from dashboards.i18n import DEFAULT_LANG, LANGS, t

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


st.set_page_config(page_title="Pantau", page_icon=ui.favicon_url(), layout="wide", initial_sidebar_state="expanded")

if "lang" not in st.session_state:
    st.session_state["lang"] = DEFAULT_LANG

with st.sidebar:
    st.radio(
        ":material/translate: Bahasa / Language",
        options=list(LANGS),
        format_func=lambda code: {"id": "Bahasa Indonesia", "en": "English"}[code],
        key="lang",
        horizontal=True,
    )

PAGES = {
    "section_monitor": [
        st.Page("views/overview.py", title=t("nav_overview"), icon=":material/map:", default=True),
        st.Page("views/camera.py", title=t("nav_camera"), icon=":material/videocam:"),
        st.Page("views/kelurahan.py", title=t("nav_kelurahan"), icon=":material/holiday_village:"),
        st.Page("views/alerts.py", title=t("nav_alerts"), icon=":material/notifications_active:"),
    ],
    "section_services": [
        st.Page("views/jaki.py", title=t("nav_jaki"), icon=":material/smartphone:"),
        st.Page("views/planning.py", title=t("nav_planning"), icon=":material/architecture:"),
        st.Page("views/open_data.py", title=t("nav_open_data"), icon=":material/inventory_2:"),
    ],
    "section_admin": [
        st.Page("views/quality.py", title=t("nav_quality"), icon=":material/monitor_heart:"),
        st.Page("views/registry.py", title=t("nav_registry"), icon=":material/photo_camera:"),
        st.Page("views/subscriptions.py", title=t("nav_subscriptions"), icon=":material/mark_email_unread:"),
    ],
}

nav = st.navigation({t(section): pages for section, pages in PAGES.items()})

with st.sidebar:
    st.caption(f"{t('data_dir')}: `{data.data_dir()}`")
    st.caption(t("times_in_wib"))

nav.run()
