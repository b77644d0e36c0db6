"""Shared UI pieces: page guard, empty states, level colours, WIB formatting, maps."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboards import data
from dashboards.i18n import t

log = logging.getLogger("dashboards")

# RGBA per risk level (traffic-light scale used by BPBD) and for "no data".
LEVEL_COLORS: dict[str, list[int]] = {
    "Normal": [46, 160, 67, 200],
    "Waspada": [250, 204, 21, 220],
    "Siaga": [249, 115, 22, 230],
    "Awas": [220, 38, 38, 240],
    "unknown": [148, 163, 184, 160],
}
LEVEL_HEX = {"Normal": "#2ea043", "Waspada": "#facc15", "Siaga": "#f97316", "Awas": "#dc2626", "unknown": "#94a3b8"}
HAZARD_HEX = {"fire": "#dc2626", "smoke": "#64748b", "flood": "#2563eb", "crowd": "#a855f7"}
HEALTH_HEX = {
    "ok": "#2ea043",
    "offline": "#1f2937",
    "frozen": "#38bdf8",
    "black": "#000000",
    "overexposed": "#fde047",
    "tampered": "#db2777",
    "decode_error": "#f97316",
    "unknown": "#94a3b8",
}
JAKARTA_VIEW = {"latitude": -6.2, "longitude": 106.83, "zoom": 10.2}
DELIVERY_HEX = {"sent": "#2ea043", "pending": "#94a3b8", "failed": "#f97316", "dead": "#dc2626"}


def fit_view(lat: pd.Series, lon: pd.Series) -> dict[str, float]:
    """Centre and zoom that show every point (Jakarta's default view when there are none)."""
    lat, lon = lat.dropna().astype(float), lon.dropna().astype(float)
    if lat.empty:
        return dict(JAKARTA_VIEW)
    span = max(float(lat.max() - lat.min()), float(lon.max() - lon.min()), 0.01)
    zoom = float(np.clip(np.log2(360.0 / span) - 1.3, 9.5, 15.0))
    return {"latitude": float(lat.mean()), "longitude": float(lon.mean()), "zoom": zoom}


# No basemap: the command centre may run without internet, and the kelurahan polygons are the
# base layer anyway. pydeck's default style sentinel with no provider tells Streamlit to draw none
# (``map_style=None`` would make it fetch Carto tiles).
class CompactDeck(pdk.Deck):  # type: ignore[misc]
    """A pydeck Deck whose JSON has no indentation (pydeck pretty-prints: ~2.4x the bytes to the browser)."""

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def deck(layers: list[pdk.Layer], view: pdk.ViewState, tooltip_html: str = "<b>{name}</b><br/>{info}") -> pdk.Deck:
    """A pydeck map on the offline blank basemap."""
    return CompactDeck(layers=layers, initial_view_state=view, map_provider=None, tooltip={"html": tooltip_html})


def level_from_rank(rank: Any) -> str:
    try:
        if rank is None or pd.isna(rank):
            return "unknown"
        return data.LEVELS[int(rank)]
    except (ValueError, IndexError, TypeError):
        return "unknown"


def level_label(level: Any) -> str:
    return t(f"level_{level}") if level in data.LEVEL_RANK else t("level_unknown")


def hazard_label(hazard: Any) -> str:
    return t(f"hazard_{hazard}") if hazard in (*HAZARD_HEX, "camera") else str(hazard or "—")


def health_label(status: Any) -> str:
    return t(f"health_{status}") if status in HEALTH_HEX else t("health_unknown")


def fmt_time(value: Any, with_date: bool = True, short: bool = False) -> str:
    """A WIB timestamp as ``27 Nov 2026 14:05`` (``27 Nov 14:05`` when short, or ``—``)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    ts = ts.tz_convert(data.WIB)
    return ts.strftime(("%d %b %H:%M" if short else "%d %b %Y %H:%M") if with_date else "%H:%M")


def fmt_int(value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{int(value):,}".replace(",", ".")


def now_wib() -> datetime:
    return pd.Timestamp.now(tz=data.WIB).to_pydatetime()


def empty_state(what: str | None = None, icon: str = "ℹ️") -> None:
    """The standard 'nothing here yet' message."""
    st.info(t("empty_table", what=what) if what else t("empty"), icon=icon)


def require_lake() -> bool:
    """Show the 'no lake yet' message and return False when there is no lake."""
    if data.get_lake() is None:
        st.warning(t("no_lake", path=str(data.data_dir())), icon=":material/database:")
        return False
    return True


def report_error(exc: BaseException) -> None:
    """Log the full exception, show users a friendly message without a stack trace."""
    log.exception("dashboard error: %s", exc)
    st.error(t("page_error"), icon=":material/error:")


@contextlib.contextmanager
def section() -> Iterator[None]:
    """A page part that fails alone: one broken chart never takes the whole page down."""
    try:
        yield
    except Exception as exc:
        if _is_control_flow(exc):
            raise
        report_error(exc)


def _is_control_flow(exc: BaseException) -> bool:
    # st.rerun / st.stop / page switches are exceptions Streamlit must see.
    return type(exc).__name__ in ("RerunException", "StopException")


def run_page(render: Callable[[], None]) -> None:
    """Render a page body; errors are logged and shown as a friendly message."""
    try:
        render()
    except Exception as exc:
        if _is_control_flow(exc):
            raise
        report_error(exc)


def wib_series(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Make ``col`` tz-naive wall-clock WIB (altair and st.dataframe then show WIB as is)."""
    if col in df.columns and not df.empty:
        s = pd.to_datetime(df[col], utc=True)
        df = df.assign(**{col: s.dt.tz_convert(data.WIB).dt.tz_localize(None)})
    return df


COORD_DECIMALS = 5  # ~1 m at Jakarta's latitude: plenty for a city map, a third of the JSON


@st.cache_data(ttl=data.TTL_HISTORY, show_spinner=False)
def kelurahan_features(root: str, tolerance: float = 0.0002) -> list[dict[str, Any]]:
    """Simplified GeoJSON features of every kelurahan, coordinates rounded (cached: parsed once per TTL)."""
    import shapely
    from shapely.geometry import mapping, shape

    df = data.query(data.KELURAHAN_GEOMETRY)
    feats: list[dict[str, Any]] = []
    for row in df.itertuples(index=False):
        try:
            geom = shape(json.loads(row.geometry))
            if tolerance:
                geom = geom.simplify(tolerance, preserve_topology=True)
            geom = shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("kelurahan %s: bad geometry (%s)", row.kode_kelurahan, exc)
            continue
        feats.append(
            {
                "type": "Feature",
                "geometry": mapping(geom),
                "properties": {
                    "kode_kelurahan": row.kode_kelurahan,
                    "nama_kelurahan": row.nama_kelurahan,
                    "nama_kecamatan": row.nama_kecamatan,
                },
            }
        )
    return feats


def page_header(title_key: str, caption: str | None = None) -> None:
    st.title(t(title_key))
    st.caption(caption or t("times_in_wib"))


def mini_map(geometry: str | None, cams: pd.DataFrame) -> pdk.Deck | None:
    layers: list[pdk.Layer] = []
    view = None
    if geometry:
        try:
            geom = json.loads(geometry)
        except ValueError:
            geom = None
        if geom:
            from shapely.geometry import shape

            shp = shape(geom)
            view = pdk.ViewState(latitude=shp.centroid.y, longitude=shp.centroid.x, zoom=13.5)
            layers.append(
                pdk.Layer(
                    "GeoJsonLayer",
                    {"type": "Feature", "geometry": geom, "properties": {}},
                    get_fill_color=[37, 99, 235, 40],
                    get_line_color=[37, 99, 235, 220],
                    line_width_min_pixels=2,
                )
            )
    pts = cams.dropna(subset=["lat", "lon"])
    if not pts.empty:
        pts = pd.DataFrame(
            {
                "lat": pts["lat"].astype(float),
                "lon": pts["lon"].astype(float),
                "name": pts["name"].fillna(pts["camera_id"]).astype(str),
                "info": pts["level"].map(level_label),
                "fill": [LEVEL_COLORS[lv] for lv in pts["level"]],
            }
        )
        if view is None:
            view = pdk.ViewState(latitude=pts["lat"].mean(), longitude=pts["lon"].mean(), zoom=13.5)
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                pts,
                get_position=["lon", "lat"],
                get_fill_color="fill",
                get_radius=40,
                radius_min_pixels=5,
                pickable=True,
            )
        )
    if not layers or view is None:
        return None
    return deck(layers, view)
