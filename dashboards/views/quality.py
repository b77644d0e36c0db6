"""Data quality and freshness: table freshness, asset checks, quarantine, last landed batch per camera."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, ui
from dashboards.i18n import t


def _asset_checks(now: pd.Timestamp) -> None:
    """Latest result of every asset check (failing first), headline counts and evaluations per day."""
    st.subheader(t("asset_checks"))
    missing = data.asset_check_missing_columns()
    if missing:
        st.warning(t("asset_checks_bad_table", columns=", ".join(missing)), icon=":material/table_view:")
        return
    latest = data.query(data.ASSET_CHECKS_LATEST, live=True)
    if latest.empty:
        st.caption(t("no_asset_checks"))
        return
    ok = latest["passed"].astype("boolean").fillna(False).astype(bool)  # no result counts as failing
    failing = latest[~ok]
    m1, m2, m3 = st.columns(3, border=True)
    m1.metric(t("checks_total"), ui.fmt_int(len(latest)))
    m2.metric(t("checks_failing"), ui.fmt_int(len(failing)))
    m3.metric(t("checks_last_run"), ui.age_label(latest["evaluated_at"].max(), now))
    hourly = data.query(data.ASSET_CHECKS_HOURLY, live=True)
    if not hourly.empty:
        daily = ui.wib_series(hourly, "hour")
        daily["day"] = daily["hour"].dt.floor("D")
        daily = daily.groupby("day", as_index=False)[["passed", "failed"]].sum()
        long = daily.melt(id_vars=["day"], value_vars=["passed", "failed"], var_name="result", value_name="n")
        long["label"] = long["result"].map({"passed": t("check_passed"), "failed": t("check_failed")})
        chart = (
            alt.Chart(long)
            .mark_bar()
            .encode(
                # the last 30 WIB days, today included
                x=ui.day_x(long["day"], t("day"), min_days=30, until=now.tz_convert(data.WIB).tz_localize(None)),
                y=alt.Y("n:Q", title=None, stack=True, axis=alt.Axis(format="d", tickMinStep=1)),
                color=alt.Color(
                    "label:N",
                    title=None,
                    scale=alt.Scale(domain=[t("check_passed"), t("check_failed")], range=["#2ea043", "#dc2626"]),
                ),
                tooltip=[alt.Tooltip("day:T", title=t("day"), format="%d %b"), "label:N", "n:Q"],
            )
            .properties(height=150)
        )
        st.caption(t("checks_per_day"))
        st.altair_chart(chart, width="stretch")
    show = ui.wib_series(latest, "evaluated_at").assign(passed=ok)
    st.dataframe(
        show[
            [
                "passed",
                "asset_key",
                "check_name",
                "severity",
                "description",
                "evaluated_at",
                "failures",
                "metadata_json",
            ]
        ],
        hide_index=True,
        height=min(35 * (len(show) + 1) + 3, 320),
        column_config={
            "passed": st.column_config.CheckboxColumn(t("check_passed")),
            "asset_key": t("check_asset"),
            "check_name": t("check_name"),
            "severity": t("check_severity"),
            "description": t("check_description"),
            "evaluated_at": st.column_config.DatetimeColumn(t("latest"), format="D MMM HH:mm"),
            "failures": st.column_config.NumberColumn(t("check_failures"), format="%d"),
            "metadata_json": t("check_metadata"),
        },
    )


def render() -> None:
    ui.page_header("quality_title")
    if not ui.require_lake():
        return
    now = pd.Timestamp.now(tz=data.WIB)
    c1, c2 = st.columns([1.2, 1])
    with c1, ui.section():
        st.subheader(t("freshness"))
        fresh = data.freshness()
        if fresh.empty:
            ui.empty_state()
        else:
            fresh["age"] = [ui.age_label(v, now) for v in fresh["latest"]]
            fresh["latest"] = [ui.fmt_time(v) for v in fresh["latest"]]
            st.dataframe(
                fresh,
                hide_index=True,
                height=35 * (len(fresh) + 1) + 3,
                column_config={
                    "table": st.column_config.TextColumn(t("table"), width="medium"),
                    "latest": t("latest"),
                    "rows": st.column_config.NumberColumn(t("rows"), format="localized", width="small"),
                    "age": st.column_config.TextColumn(t("age"), width="medium"),
                },
            )
            if fresh["age"].str.startswith("⚠").any():
                st.caption(t("future_rows_note"))
    with c2, ui.section():
        _asset_checks(now)
    with c2, ui.section():
        issues = data.query(data.REFERENCE_ISSUES)
        if not issues.empty:
            st.subheader(t("reference_issues"))
            st.dataframe(issues, hide_index=True, height=min(35 * (len(issues) + 1) + 3, 300))

    q1, q2 = st.columns(2)
    with q1, ui.section():
        st.subheader(t("quarantine"))
        quar = data.query(data.QUARANTINE_BY_REASON, live=True)
        if quar.empty:
            ui.empty_state(t("quarantine").lower())
        else:
            st.metric(t("rows"), ui.fmt_int(quar["rows"].sum()))
            st.caption(t("quarantine_by_reason"))
            chart = (
                alt.Chart(quar)
                .mark_bar()
                .encode(
                    y=alt.Y("reason:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260)),
                    x=alt.X("rows:Q", title=t("rows"), axis=alt.Axis(format="d", tickMinStep=1)),
                    color=alt.Color("table_name:N", title=t("table")),
                    tooltip=["table_name", "reason", "rows"],
                )
                .properties(height=alt.Step(32))
            )
            st.altair_chart(chart, width="stretch")
            with st.expander(t("rows")):
                st.dataframe(
                    ui.wib_series(data.query(data.QUARANTINE_SAMPLE, live=True), "quarantined_at"), hide_index=True
                )
    with q2, ui.section():
        st.subheader(t("uptime_daily"))
        up = data.query(data.UPTIME_DAILY)
        if up.empty:
            ui.empty_state(t("uptime").lower())
        else:
            chart = (
                alt.Chart(up)
                .mark_area(line=True, opacity=0.3, color="#2ea043")
                .encode(
                    x=alt.X("day:T", title=t("day"), axis=ui.day_axis()),
                    y=alt.Y("uptime:Q", title=t("uptime"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                    tooltip=["day:T", alt.Tooltip("uptime:Q", format=".1%"), "cameras:Q"],
                )
                .properties(height=220)
            )
            st.altair_chart(chart, width="stretch")

    b1, b2 = st.columns([1, 1.2])
    with b1, ui.section():
        st.subheader(t("landed_batches"))
        landed = data.query(data.LANDED_PER_HOUR, live=True)
        if landed.empty:
            ui.empty_state(t("landed_batches").lower())
        else:
            st.bar_chart(
                ui.wib_series(landed, "hour"), x="hour", y="batches", height=220, x_label=t("time"), y_label=""
            )
    with b2, ui.section():
        st.subheader(t("last_batch_per_camera"))
        last = data.query(data.LAST_BATCH_PER_CAMERA, live=True)
        if last.empty:
            ui.empty_state(t("last_batch_per_camera").lower())
        else:
            newest = pd.Timestamp(last["last_captured"].max())
            stale = last[last["last_captured"] < newest - pd.Timedelta(hours=1)]
            st.metric(t("stale_cameras"), ui.fmt_int(len(stale)), help=f"{t('latest')}: {ui.fmt_time(newest)}")
            st.dataframe(
                ui.wib_series(last, "last_captured"),
                hide_index=True,
                height=260,
                column_config={"last_captured": st.column_config.DatetimeColumn(t("latest"), format="D MMM HH:mm")},
            )


ui.run_page(render)
