"""Subscriptions admin: who receives which alerts, by channel; add through the alerts package."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from access.roles import AccessDenied, Permission
from alerts.channels import CHANNELS
from alerts.subscriptions import SubscriptionSpec, add_subscription, list_subscriptions
from dashboards import auth, data, ui
from dashboards.i18n import t


def _subscriptions() -> pd.DataFrame:
    """Live rows from the operational DB when there is one, else the lakehouse copy."""
    ops = data.ops_db()
    if ops is not None:
        try:
            rows = list_subscriptions(ops, include_inactive=True)
            df = pd.DataFrame(rows, columns=list(data.SUBSCRIPTIONS.columns))
            if "created_at" in df and not df.empty:
                df["created_at"] = pd.to_datetime(df["created_at"], utc=True).dt.tz_convert(data.WIB)
            return df
        except Exception as exc:
            ui.log.warning("cannot list subscriptions from the operational DB: %s", exc)
    return data.query(data.SUBSCRIPTIONS, live=True)


def _add_form() -> None:
    ops = data.ops_db()
    if ops is None:
        return
    with st.expander(t("add_subscription")), st.form("add-subscription", clear_on_submit=True):
        c1, c2 = st.columns(2)
        name = c1.text_input(t("name"))
        kind = c2.selectbox(t("kind"), ["area", "agency"])
        hazard = c1.selectbox(
            t("hazard"),
            [None, "flood", "fire", "crowd", "camera"],
            format_func=lambda h: "—" if h is None else ui.hazard_label(h),
        )
        min_level = c2.selectbox(t("min_level"), data.LEVELS[1:], format_func=ui.level_label)
        area_code = c1.text_input(t("area_code"))
        channel = c2.selectbox(t("channel"), list(CHANNELS))
        target = st.text_input(t("target"))
        if st.form_submit_button(t("save"), type="primary"):
            spec = SubscriptionSpec(
                name=name,
                channel=channel,
                target=target,
                kind=kind,
                hazard=hazard,
                area_type="kelurahan" if area_code else None,
                area_code=area_code or None,
                min_level=min_level,
            )
            who = auth.current_principal()  # checked again by add_subscription, on the server
            try:
                row = add_subscription(ops, spec, by=who, source="dashboard")
                st.success(t("sub_saved", id=row["subscription_id"]))
            except AccessDenied:
                ui.log.warning("subscription refused for %s (%s)", who.name, who.role)
                st.warning(t("action_refused", err=t("access_denied", role=t(f"role_{who.role.value}"))))
            except ValueError as exc:  # validation message is meant for the user
                st.warning(t("sub_failed", err=str(exc)))


def render() -> None:
    ui.page_header("subscriptions_title")
    if not ui.require_lake():
        return
    subs = _subscriptions()
    _add_form()
    if subs.empty:
        st.info(t("no_subscriptions"), icon=":material/mark_email_unread:")
        st.caption(t("subs_admin_note"))
        return
    with ui.section():
        st.subheader(t("subs_by_channel"))
        counts = subs.assign(hazard=[t("all") if pd.isna(h) else ui.hazard_label(h) for h in subs["hazard"]])
        chart = (
            alt.Chart(counts)
            .mark_bar()
            .encode(
                y=alt.Y("channel:N", title=t("channel")),
                x=alt.X("count():Q", title=t("nav_subscriptions"), axis=alt.Axis(format="d", tickMinStep=1)),
                color=alt.Color("hazard:N", title=t("hazard")),
            )
            .properties(height=36 * counts["channel"].nunique() + 50)
        )
        st.altair_chart(chart, width="stretch")
    with ui.section():
        show = subs[[c for c in subs.columns if subs[c].notna().any()]].copy()
        show["min_level"] = show["min_level"].map(ui.level_label)
        st.dataframe(
            ui.wib_series(show, "created_at"),
            hide_index=True,
            column_config={
                "name": t("name"),
                "kind": t("kind"),
                "hazard": t("hazard"),
                "channel": t("channel"),
                "target": t("target"),
                "min_level": t("min_level"),
                "active": st.column_config.CheckboxColumn(t("active")),
            },
        )
        st.caption(t("subs_admin_note"))


ui.run_page(render, needs=Permission.MANAGE_SUBSCRIPTIONS)
