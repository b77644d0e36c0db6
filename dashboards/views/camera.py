"""Camera: latest blurred keyframe, hazard score and health timelines, events, alerts, level changes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, ui
from dashboards.i18n import t

RANGES_H = (24, 24 * 7, 24 * 30)


def _range_label(hours: int) -> str:
    return t("hours_n", n=hours) if hours <= 48 else t("days_n", n=hours // 24)


def _anchor(camera_id: str) -> pd.Timestamp | None:
    """The camera's newest data time (a replayed or stalled feed is shown where its data is)."""
    best: pd.Timestamp | None = None
    for q in (data.CAMERA_LAST_SCORE_TIME, data.CAMERA_LAST_HOUR):
        df = data.query(q, [camera_id], live=True)
        if not df.empty and not pd.isna(df["t"].iloc[0]):
            ts = pd.Timestamp(df["t"].iloc[0])
            best = ts if best is None else max(best, ts)
    return best


def _scores(camera_id: str, since: pd.Timestamp, hours: int) -> pd.DataFrame:
    """Raw scores in 5-minute buckets for short ranges, the hourly mart for long ones (each falls back)."""
    raw = (data.SCORES_BUCKETED, [300 if hours <= 48 else 3600, camera_id, since])
    mart = (data.SCORES_HOURLY_MART, [camera_id, since])
    for q, params in (raw, mart) if hours <= 48 else (mart, raw):
        df = data.query(q, params)
        if not df.empty:
            return df
    return pd.DataFrame()


VEHICLE_SERIES = ("cars_mean", "motorcycles_mean", "buses_trucks_mean")


def _vehicles_chart(ev: pd.DataFrame) -> None:
    """Mean vehicles per frame in each 5-minute window, stacked by class (car, motorcycle, bus/truck)."""
    if not set(VEHICLE_SERIES) <= set(ev.columns) or ev[list(VEHICLE_SERIES)].isna().all().all():
        return
    long = ev.melt(id_vars=["window_start"], value_vars=list(VEHICLE_SERIES), var_name="class", value_name="n")
    long["class"] = long["class"].map({c: t(f"veh_{c}") for c in VEHICLE_SERIES})
    chart = (
        alt.Chart(long.dropna(subset=["n"]))
        .mark_area(opacity=0.8)
        .encode(
            x=alt.X("window_start:T", title=t("time")),
            y=alt.Y("n:Q", stack=True, title=t("vehicles")),
            color=alt.Color("class:N", title=None),
            tooltip=["window_start:T", "class:N", alt.Tooltip("n:Q", format=".1f")],
        )
        .properties(height=140)
    )
    st.altair_chart(chart, width="stretch")


def _explain(row: Any) -> str:
    hazard = row.risk_hazard if isinstance(row.risk_hazard, str) else None
    score = getattr(row, hazard, None) if hazard in ui.HAZARD_HEX else None
    extra = []
    if hazard == "flood" and not pd.isna(row.flood_depth_class):
        extra.append(f"PetaBencana {int(row.flood_depth_class)}")
    if hazard == "crowd":
        if isinstance(row.crowd_level, str):
            extra.append(f"Fruin {row.crowd_level}")
        if not pd.isna(row.persons):
            extra.append(f"{t('persons').lower()} {row.persons:.0f}")
    if isinstance(row.features, str) and row.features:
        try:
            feats = json.loads(row.features)
            if isinstance(feats, dict):
                nums = [(k, v) for k, v in feats.items() if isinstance(v, int | float)][:3]
                extra += [f"{k}={v:.2f}" for k, v in nums]
        except ValueError:
            pass
    return t(
        "level_change_line",
        time=ui.fmt_time(row.captured_at),
        from_level=ui.level_label(row.prev_level),
        to_level=ui.level_label(row.risk_level),
        hazard=ui.hazard_label(hazard) if hazard else "—",
        score="—" if score is None or pd.isna(score) else f"{score:.2f}",
        extra=f" · {', '.join(extra)}" if extra else "",
    )


def _score_chart(df: pd.DataFrame) -> alt.Chart:
    long = ui.wib_series(df, "t").melt(
        id_vars=["t"], value_vars=["fire", "smoke", "flood", "crowd"], var_name="hazard", value_name="score"
    )
    long["label"] = long["hazard"].map(ui.hazard_label)
    hz = list(ui.HAZARD_HEX)
    return (
        alt.Chart(long)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("t:T", title=t("time")),
            y=alt.Y("score:Q", title=t("score"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "label:N",
                title=t("hazard"),
                scale=alt.Scale(domain=[ui.hazard_label(h) for h in hz], range=list(ui.HAZARD_HEX.values())),
            ),
            tooltip=[
                alt.Tooltip("t:T", title=t("time"), format="%d %b %H:%M"),
                "label:N",
                alt.Tooltip("score:Q", format=".2f"),
            ],
        )
        .properties(height=260)
    )


def _health_chart(df: pd.DataFrame) -> alt.Chart:
    df = ui.wib_series(df, "t")
    df["label"] = df["status"].map(ui.health_label)
    states = list(ui.HEALTH_HEX)
    return (
        alt.Chart(df)
        .mark_area(interpolate="step-after")
        .encode(
            x=alt.X("t:T", title=t("time")),
            y=alt.Y("frames:Q", title=None, stack="normalize", axis=alt.Axis(format="%")),
            color=alt.Color(
                "label:N",
                title=t("status"),
                scale=alt.Scale(domain=[ui.health_label(s) for s in states], range=list(ui.HEALTH_HEX.values())),
            ),
            tooltip=[alt.Tooltip("t:T", format="%d %b %H:%M", title=t("time")), "label:N", "frames:Q"],
        )
        .properties(height=160)
    )


def render() -> None:
    ui.page_header("camera_title")
    if not ui.require_lake():
        return
    cams = data.camera_state()
    if cams.empty:
        st.info(t("no_cameras"), icon=":material/videocam:")
        return
    # most at-risk cameras first, then unhealthy ones, then by id
    rank = cams["level"].map(data.LEVEL_RANK).fillna(-1)
    sick = ~cams["health"].isin(["ok", "unknown"])
    cams = cams.assign(_r=rank, _s=sick).sort_values(["_r", "_s", "camera_id"], ascending=[False, False, True])
    ids = cams["camera_id"].tolist()
    names = dict(zip(cams["camera_id"], cams["name"].fillna(cams["camera_id"]), strict=True))
    wanted = st.query_params.get("camera")
    c1, c2 = st.columns([3, 1])
    camera_id = c1.selectbox(
        t("choose_camera"),
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda c: f"{names.get(c, c)} · {c}",
    )
    hours = c2.selectbox(t("window"), RANGES_H, format_func=_range_label)
    st.query_params["camera"] = camera_id
    cam = cams[cams["camera_id"] == camera_id].iloc[0]

    left, right = st.columns([1.1, 2])
    with left, ui.section():
        st.subheader(t("latest_keyframe"))
        kf = data.query(data.LATEST_KEYFRAME, [camera_id], live=True)
        if kf.empty:
            st.info(t("no_keyframe"), icon=":material/image:")
        else:
            uri = str(kf["public_uri"].iloc[0])
            raw = data.read_object(uri)
            if raw is None:
                st.warning(t("keyframe_unreadable", uri=uri))
            else:
                st.image(
                    raw, caption=f"{t('captured_at')}: {ui.fmt_time(kf['captured_at'].iloc[0])} WIB", width="stretch"
                )
    with right, ui.section():
        m1, m2 = st.columns(2, border=True)
        m1.metric(t("current_level"), ui.level_label(cam["level"]))
        m2.metric(t("current_health"), ui.health_label(cam["health"]))
        if cam["scoring"] == "passthrough":
            st.warning(t("passthrough_camera"), icon=":material/visibility_off:")
        st.caption(t("last_data", time=ui.fmt_time(cam["last_seen"])))
        place = ", ".join(str(v) for v in (cam["kelurahan"], cam["kecamatan"], cam["kota"]) if isinstance(v, str))
        st.markdown(f"**{t('location')}:** {place or '—'}  \n**{t('operator')}:** {cam['operator'] or '—'}")
        if not pd.isna(cam["lat"]) and not pd.isna(cam["lon"]):
            code = cam["kelurahan_code"]
            shape = ui.kelurahan_shape(str(data.data_dir()), code) if isinstance(code, str) else None
            deck = ui.mini_map(shape, cams[cams["camera_id"] == camera_id])
            if deck is not None:
                st.pydeck_chart(deck, height=240)

    anchor = _anchor(camera_id)
    since = (anchor - timedelta(hours=hours)) if anchor is not None else None

    with ui.section():
        st.subheader(t("scores_timeline"))
        scores = _scores(camera_id, since, hours) if since is not None else pd.DataFrame()
        if scores.empty:
            ui.empty_state(t("scores_timeline").lower())
        else:
            st.altair_chart(_score_chart(scores), width="stretch")

    h1, h2 = st.columns(2)
    with h1, ui.section():
        st.subheader(t("health_timeline"))
        bucket = 900 if hours <= 48 else 3600 * 6
        health = data.query(data.HEALTH_BUCKETED, [bucket, camera_id, since]) if since is not None else pd.DataFrame()
        if health.empty and "uptime" in scores.columns and not scores.empty:
            up = ui.wib_series(scores[["t", "uptime"]], "t")
            st.area_chart(up, x="t", y="uptime", height=160, x_label=t("time"), y_label=t("uptime"))
        elif health.empty:
            ui.empty_state(t("health_timeline").lower())
        else:
            st.altair_chart(_health_chart(health), width="stretch")
        trans = data.query(data.HEALTH_TRANSITIONS, [camera_id], live=True)
        if not trans.empty:
            with st.expander(t("health_changes")):
                for r in trans.head(20).itertuples(index=False):
                    st.markdown(
                        f"**{ui.fmt_time(r.at)}** — {ui.health_label(r.from_status)} → "
                        f"**{ui.health_label(r.to_status)}** · {r.reason or ''}"
                    )
    with h2, ui.section():
        st.subheader(t("events"))
        ev = data.query(data.CAMERA_EVENTS, [camera_id, since]) if since is not None else pd.DataFrame()
        if ev.empty:
            ui.empty_state(t("events").lower())
        else:
            ev = ui.wib_series(ev, "window_start")
            long = ev.melt(
                id_vars=["window_start"],
                value_vars=["persons_max", "persons_mean"],
                var_name="series",
                value_name="persons",
            )
            chart = (
                alt.Chart(long)
                .mark_line(point=True)
                .encode(
                    x=alt.X("window_start:T", title=t("time")),
                    y=alt.Y("persons:Q", title=t("persons")),
                    color=alt.Color("series:N", title=None),
                )
                .properties(height=160)
            )
            st.altair_chart(chart, width="stretch")
            _vehicles_chart(ev)
            hz = ev[(ev["fire_frames"] > 0) | (ev["smoke_frames"] > 0) | (ev["flood_frames"] > 0)]
            if not hz.empty:
                st.dataframe(
                    hz[["window_start", "fire_frames", "smoke_frames", "flood_frames", "frames_ok", "frames_failed"]],
                    hide_index=True,
                    height=160,
                )

    a1, a2 = st.columns(2)
    with a1, ui.section():
        st.subheader(t("level_changes"))
        changes = data.query(data.LEVEL_CHANGES, [camera_id, since]) if since is not None else pd.DataFrame()
        if changes.empty:
            st.caption(t("no_level_changes"))
        else:
            for row in changes.head(15).itertuples(index=False):
                st.markdown(_explain(row))
    with a2, ui.section():
        st.subheader(t("camera_alerts"))
        alerts = data.query(data.ALERTS_FOR_CAMERA, [camera_id], live=True)
        if alerts.empty:
            st.caption(t("no_alerts"))
        else:
            show = alerts[["alert_id", "hazard", "level", "status", "opened_at", "reason"]].copy()
            show["hazard"] = show["hazard"].map(ui.hazard_label)
            show["level"] = show["level"].map(ui.level_label)
            st.dataframe(
                ui.wib_series(show, "opened_at"),
                hide_index=True,
                column_config={
                    "alert_id": "ID",
                    "hazard": t("hazard"),
                    "level": t("level"),
                    "status": t("status"),
                    "opened_at": st.column_config.DatetimeColumn(t("opened_at"), format="D MMM HH:mm"),
                    "reason": t("reason"),
                },
            )


ui.run_page(render)
