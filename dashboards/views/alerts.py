"""Alerts: active and past alerts, filters, acknowledgement, CAP message, deliveries."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from access.roles import AccessDenied, Permission
from dashboards import auth, data, ui
from dashboards.i18n import t

STATUSES = ("open", "updated", "acknowledged", "resolved", "cancelled")
HAZARDS = ("flood", "fire", "smoke", "crowd", "panic", "camera")


def _filters() -> tuple[list[str], list[str], list[str], int]:
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
    statuses = c1.multiselect(
        t("filter_status"), STATUSES, default=[], format_func=ui.status_label, placeholder=t("all")
    )
    hazards = c2.multiselect(t("filter_hazard"), HAZARDS, default=[], format_func=ui.hazard_label, placeholder=t("all"))
    levels = c3.multiselect(
        t("filter_level"), data.LEVELS[1:], default=[], format_func=ui.level_label, placeholder=t("all")
    )
    days = c4.number_input(t("filter_days"), min_value=1, max_value=365, value=30, step=1)
    return statuses, hazards, levels, int(days)


def _apply(df: pd.DataFrame, statuses: list[str], hazards: list[str], levels: list[str]) -> pd.DataFrame:
    if statuses:
        df = df[df["status"].isin(statuses)]
    if hazards:
        df = df[df["hazard"].isin(hazards)]
    if levels:
        df = df[df["level"].isin(levels)]
    return df


def _table(df: pd.DataFrame) -> None:
    show = df[
        ["alert_id", "level", "hazard", "status", "camera_id", "kelurahan_code", "opened_at", "updated_at", "reason"]
    ].copy()
    show["level"] = show["level"].map(ui.level_label)
    show["hazard"] = show["hazard"].map(ui.hazard_label)
    show["status"] = show["status"].map(ui.status_label)
    show = ui.wib_series(ui.wib_series(show, "opened_at"), "updated_at")
    st.dataframe(
        show,
        hide_index=True,
        column_config={
            "alert_id": "ID",
            "level": t("level"),
            "hazard": t("hazard"),
            "status": t("status"),
            "opened_at": st.column_config.DatetimeColumn(t("opened_at"), format="D MMM YYYY HH:mm"),
            "updated_at": st.column_config.DatetimeColumn(t("updated_at"), format="D MMM YYYY HH:mm"),
            "reason": t("reason"),
        },
    )


def _per_day(df: pd.DataFrame) -> None:
    daily = ui.wib_series(df, "opened_at")
    daily = daily.assign(day=daily["opened_at"].dt.floor("D"), label=daily["hazard"].map(ui.hazard_label))
    chart = (
        alt.Chart(daily)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=t("day"), timeUnit="yearmonthdate"),
            y=alt.Y("count():Q", title=t("alerts_title")),
            color=alt.Color("label:N", title=t("hazard")),
        )
        .properties(height=180)
    )
    st.altair_chart(chart, width="stretch")


def _pretty_xml(raw: bytes) -> str:
    try:
        from xml.dom import minidom

        return minidom.parseString(raw).toprettyxml(indent="  ")
    except Exception:  # not well-formed: show it as stored
        return raw.decode("utf-8", errors="replace")


def _delivery_chart(counts: pd.DataFrame) -> alt.Chart:
    """Deliveries per channel stacked by state (``counts``: channel, state, size)."""
    states = list(ui.DELIVERY_HEX)
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            y=alt.Y("channel:N", title=t("channel")),
            x=alt.X("size:Q", title=t("deliveries"), axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color(
                "state:N", scale=alt.Scale(domain=states, range=list(ui.DELIVERY_HEX.values())), title=t("status")
            ),
            tooltip=["channel", "state", "size"],
        )
        .properties(height=36 * counts["channel"].nunique() + 50)
    )


ACK_OUTCOME = "alerts_ack_outcome"  # (alert id, "success" | "warning", message) for the next run
PICK = "alerts_detail_pick"


def _ack_form(alert_id: str) -> None:
    # The acknowledgement runs in the submit callback, before the page is drawn again: the page
    # then shows the alert as it is now, and a refusal is reported even when the alert changed
    # (cancelled, resolved) between drawing the form and pressing the button.
    with st.form(f"ack-{alert_id}"):
        st.text_input(t("ack_by"), key=f"ack-actor-{alert_id}")
        st.form_submit_button(t("acknowledge"), type="primary", on_click=_acknowledge, args=(alert_id,))


def _acknowledge(alert_id: str) -> None:
    # the principal is read again here, on the server, whatever the page showed when it was drawn
    who = auth.current_principal()
    actor = str(st.session_state.get(f"ack-actor-{alert_id}") or "").strip() or who.name
    try:
        data.acknowledge_alert(alert_id, actor, by=who)
        outcome = (alert_id, "success", t("ack_done", id=alert_id))
    except AccessDenied as exc:
        ui.log.warning("acknowledge %s refused: %s", alert_id, exc)
        outcome = (alert_id, "warning", t("action_refused", err=t("access_denied", role=t(f"role_{who.role.value}"))))
    except Exception as exc:  # the lifecycle refuses bad transitions: tell the officer
        ui.log.warning("acknowledge %s failed: %s", alert_id, exc)
        outcome = (alert_id, "warning", t("ack_failed", err=_refusal(alert_id, exc)))
    st.session_state[ACK_OUTCOME] = outcome


def _cancel_form(alert_id: str) -> None:
    with st.expander(t("cancel_alert"), icon=":material/cancel:"), st.form(f"cancel-{alert_id}"):
        st.text_area(t("cancel_reason"), key=f"cancel-reason-{alert_id}", max_chars=2000)
        st.form_submit_button(t("cancel_alert"), on_click=_cancel, args=(alert_id,))


def _cancel(alert_id: str) -> None:
    who = auth.current_principal()
    reason = str(st.session_state.get(f"cancel-reason-{alert_id}") or "").strip()
    try:
        data.cancel_alert(alert_id, reason, by=who)
        outcome = (alert_id, "success", t("cancel_done", id=alert_id))
    except AccessDenied as exc:
        ui.log.warning("cancel %s refused: %s", alert_id, exc)
        outcome = (alert_id, "warning", t("action_refused", err=t("access_denied", role=t(f"role_{who.role.value}"))))
    except Exception as exc:  # not active any more, or no reason given
        ui.log.warning("cancel %s failed: %s", alert_id, exc)
        outcome = (alert_id, "warning", t("cancel_failed", err=_refusal(alert_id, exc)))
    st.session_state[ACK_OUTCOME] = outcome


def _refusal(alert_id: str, exc: Exception) -> str:
    if isinstance(exc, KeyError):  # alerts.lifecycle.AlertNotFoundError: only the lake knows it
        return t("ack_not_found", id=alert_id)
    m = re.fullmatch(r"alert (\S+) is (\w+), not active", str(exc))
    if m:  # the lifecycle's refusal of a non-active alert
        return t("ack_not_active", id=alert_id, status=ui.status_label(m.group(2)))
    return str(exc)


def _show_outcome(outcome: tuple[str, str, str] | None) -> None:
    """The result of the acknowledgement just submitted (shown once, after the rerun)."""
    if outcome is None:
        return
    _, kind, text = outcome
    if kind == "success":
        st.success(text, icon=":material/task_alt:")
    else:
        st.warning(text, icon=":material/block:")


def _detail(df: pd.DataFrame) -> None:
    ids = df["alert_id"].tolist()
    outcome = st.session_state.pop(ACK_OUTCOME, None)
    if outcome is not None and outcome[0] in ids:  # keep the alert just acted on in view
        st.session_state[PICK] = outcome[0]
    elif outcome is not None:  # filtered out meanwhile: still say what happened
        _show_outcome(outcome)
        outcome = None
    alert_id = st.selectbox(
        t("choose_alert"),
        ids,
        key=PICK,
        format_func=lambda a: f"{a} · {ui.hazard_label(df.set_index('alert_id').at[a, 'hazard'])}",
    )
    row = df[df["alert_id"] == alert_id].iloc[0]
    left, right = st.columns([1, 1])
    with left, ui.section():
        m1, m2, m3 = st.columns(3, border=True)
        m1.metric(t("level"), ui.level_label(row["level"]))
        m2.metric(t("hazard"), ui.hazard_label(row["hazard"]))
        m3.metric(t("status"), ui.status_label(row["status"]))
        st.markdown(f"**{t('reason')}:** {row['reason'] or '—'}")
        versions = data.ops_alert_versions(alert_id)
        if versions is None or versions.empty:
            versions = data.query(data.ALERT_VERSIONS, [alert_id], live=True)
        for v in versions.itertuples(index=False):
            st.markdown(
                f"- v{v.version} · {ui.fmt_time(v.updated_at)} · **{ui.status_label(v.status)}** · {ui.level_label(v.level)} · {v.reason or ''}"
            )
        if isinstance(row["evidence"], str) and row["evidence"].strip():
            with st.expander(t("evidence")):
                try:
                    st.json(json.loads(row["evidence"]))
                except ValueError:
                    st.code(row["evidence"])
        _show_outcome(outcome)
        if row["status"] in data.ACTIVE_ALERT_STATUSES and auth.may(Permission.ACK_ALERT):
            if not data.can_acknowledge():
                st.caption(t("ack_readonly"))
            else:
                if row["status"] != "acknowledged":
                    _ack_form(alert_id)
                if auth.may(Permission.CANCEL_ALERT):
                    _cancel_form(alert_id)
    with right, ui.section():
        st.subheader(t("cap_message"))
        raw = (
            data.read_object(str(row["cap_xml_uri"]))
            if isinstance(row["cap_xml_uri"], str) and row["cap_xml_uri"]
            else None
        )
        if raw is None:
            st.caption(t("no_cap"))
        else:
            st.code(_pretty_xml(raw), language="xml", height=300)
        st.subheader(t("deliveries"))
        dels = data.query(data.DELIVERIES_FOR_ALERT, [alert_id], live=True)
        if dels.empty:
            st.caption(t("no_deliveries"))
        else:
            st.altair_chart(_delivery_chart(dels.groupby(["channel", "state"], as_index=False).size()), width="stretch")
            st.dataframe(ui.wib_series(dels, "sent_at"), hide_index=True)


def _time_to_ack(since: pd.Timestamp) -> None:
    """Median and p90 time to acknowledge per agency (mart alert_ack_daily) and the alerts nobody acknowledged."""
    tta = data.query(data.ALERT_ACK_BY_AGENCY, [since.date()])
    if tta.empty:
        return
    st.subheader(t("time_to_ack"))
    tta = tta.assign(median_min=tta["tta_median_s"].astype(float) / 60.0, p90_min=tta["tta_p90_s"].astype(float) / 60.0)
    chart = (
        alt.Chart(tta)
        .mark_bar()
        .encode(
            x=alt.X("median_min:Q", title=t("tta_median_min")),
            y=alt.Y("agency:N", title=t("agency"), sort="-x"),
            tooltip=[
                alt.Tooltip("agency:N", title=t("agency")),
                alt.Tooltip("median_min:Q", title=t("tta_median_min"), format=".1f"),
                alt.Tooltip("p90_min:Q", title=t("tta_p90_min"), format=".1f"),
                alt.Tooltip("acknowledged:Q", title=t("acknowledged_alerts")),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
    open_ = data.query(data.ALERTS_UNACKNOWLEDGED, [since.date()])
    if not open_.empty:
        st.caption(f"{t('unacknowledged_alerts')}: {int(open_['unacknowledged'].iloc[0] or 0)}")


def render() -> None:
    ui.page_header("alerts_title")
    if not ui.require_lake():
        return
    statuses, hazards, levels, days = _filters()
    since = pd.Timestamp.now(tz="UTC") - timedelta(days=days)
    lake_active = data.query(data.ALERTS_ACTIVE, live=True)
    recent = data.query(data.ALERTS_SINCE, [since.to_pydatetime()], live=True)
    lake = pd.concat([df for df in (lake_active, recent) if not df.empty] or [lake_active], ignore_index=True)
    current = data.merge_live_alerts(
        lake.drop_duplicates("alert_id"), data.ops_alerts(lake_active["alert_id"].tolist())
    )
    is_active = current["status"].isin(data.ACTIVE_ALERT_STATUSES)
    active = _apply(data.sort_active_first(current[is_active]), statuses, hazards, levels)
    past = current[~is_active & (current["opened_at"] >= since)].sort_values("opened_at", ascending=False)
    past = _apply(past, statuses, hazards, levels)
    tab_active, tab_past = st.tabs([f"{t('active_tab')} ({len(active)})", f"{t('past_tab')} ({len(past)})"])
    with tab_active, ui.section():
        if active.empty:
            st.success(t("no_active_alerts"), icon=":material/check_circle:")
        else:
            _table(active)
    with tab_past, ui.section():
        if past.empty:
            st.caption(t("no_alerts"))
        else:
            _per_day(past)
            _table(past)
    every = pd.concat([active, past]).drop_duplicates("alert_id") if not (active.empty and past.empty) else active
    st.divider()
    st.subheader(t("alert_detail"))
    if every.empty:
        ui.empty_state()
    else:
        _detail(every.reset_index(drop=True))
    with ui.section():
        summary = data.query(data.DELIVERIES_BY_STATE, live=True)
        if not summary.empty:
            st.subheader(t("deliveries_by_state"))
            st.altair_chart(_delivery_chart(summary.rename(columns={"deliveries": "size"})), width="stretch")
        _time_to_ack(since)


ui.run_page(render)
