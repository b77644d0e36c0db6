"""Pantau dashboards: ``streamlit run dashboards/app.py`` (or ``pantau dashboard``).

The entry point only sets the page, the language switch, sign-in and the navigation; each page is
a script in ``dashboards/views`` (not ``pages/``: Streamlit would also treat a ``pages/`` folder as
its older page list, and a link straight to a page would then open without this entry point).
The navigation holds only the pages the session's role may open (``dashboards/auth.py``); a link
to any other page is not served. Data comes read-only from the lake in ``PANTAU_DATA_DIR``.
"""

from __future__ import annotations

import logging

import streamlit as st

from access.roles import Permission, allowed
from dashboards import auth, data, ui
from dashboards.i18n import DEFAULT_LANG, LANGS, t

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


st.set_page_config(page_title="Pantau", page_icon=ui.favicon_url(), layout="wide", initial_sidebar_state="expanded")

if "lang" not in st.session_state:
    st.session_state["lang"] = DEFAULT_LANG

who = auth.current_principal()

with st.sidebar:
    st.radio(
        ":material/translate: Bahasa / Language",
        options=list(LANGS),
        format_func=lambda code: {"id": "Bahasa Indonesia", "en": "English"}[code],
        key="lang",
        horizontal=True,
    )
    auth.sidebar(who)

# (script, title key, icon, permission needed to see it)
PAGES = {
    "section_monitor": [
        ("views/overview.py", "nav_overview", ":material/map:", Permission.VIEW_PUBLIC),
        ("views/camera.py", "nav_camera", ":material/videocam:", Permission.VIEW_ANALYTICS),
        ("views/kelurahan.py", "nav_kelurahan", ":material/holiday_village:", Permission.VIEW_ANALYTICS),
        ("views/alerts.py", "nav_alerts", ":material/notifications_active:", Permission.VIEW_ANALYTICS),
    ],
    "section_services": [
        ("views/jaki.py", "nav_jaki", ":material/smartphone:", Permission.VIEW_ANALYTICS),
        ("views/planning.py", "nav_planning", ":material/architecture:", Permission.VIEW_ANALYTICS),
        ("views/open_data.py", "nav_open_data", ":material/inventory_2:", Permission.VIEW_PUBLIC),
    ],
    "section_admin": [
        ("views/quality.py", "nav_quality", ":material/monitor_heart:", Permission.VIEW_ANALYTICS),
        ("views/registry.py", "nav_registry", ":material/photo_camera:", Permission.VIEW_REGISTRY),
        (
            "views/subscriptions.py",
            "nav_subscriptions",
            ":material/mark_email_unread:",
            Permission.MANAGE_SUBSCRIPTIONS,
        ),
        ("views/audit.py", "nav_audit", ":material/policy:", Permission.VIEW_AUDIT),
    ],
}

nav = st.navigation(
    {
        t(section): [
            st.Page(script, title=t(title), icon=icon, default=script == "views/overview.py")
            for script, title, icon, needs in pages
            if allowed(who.role, needs)
        ]
        for section, pages in PAGES.items()
        if any(allowed(who.role, needs) for *_, needs in pages)
    }
)

with st.sidebar:
    if allowed(who.role, Permission.VIEW_ANALYTICS):
        st.caption(f"{t('data_dir')}: `{data.data_dir()}`")
    st.caption(t("times_in_wib"))

nav.run()
