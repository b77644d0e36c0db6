"""Shared UI pieces: page guard, empty states, level colours, WIB formatting, maps."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from access.roles import Permission
from dashboards import data
from dashboards.i18n import STRINGS, code_label, current_lang, t

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


TOOLTIP_HTML = "<b>{name}</b><br/>{info}"


class PrebuiltDeck(CompactDeck):
    """A map whose JSON was built (and cached) before: ``st.pydeck_chart`` sends it as it is.

    Building a city map costs ~0.1-0.3 s per view (pydeck turns DataFrames into records, then
    serialises ~0.7 MB); with the JSON cached, every session and every auto-refresh within the
    cache's TTL reuses it.
    """

    def __init__(self, spec: str, tooltip_html: str = TOOLTIP_HTML) -> None:
        super().__init__(
            layers=[],
            initial_view_state=pdk.ViewState(**JAKARTA_VIEW),
            map_provider=None,
            tooltip={"html": tooltip_html},
        )
        self._spec = spec

    def to_json(self) -> str:
        return self._spec


def deck(layers: list[pdk.Layer], view: pdk.ViewState, tooltip_html: str = TOOLTIP_HTML) -> pdk.Deck:
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
    return t(f"hazard_{hazard}") if hazard in (*HAZARD_HEX, "camera", "panic") else str(hazard or "—")


def status_label(status: Any) -> str:
    """An alert status (open, updated, acknowledged, resolved, cancelled) in the session language."""
    key = f"status_{status}"
    return t(key) if key in STRINGS else str(status)


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


def run_page(render: Callable[[], None], needs: Permission = Permission.VIEW_ANALYTICS) -> None:
    """Render a page body when the session's role holds ``needs`` (checked on the server, whatever the
    navigation showed); errors are logged and shown as a friendly message."""
    from dashboards import auth

    if not auth.guard(needs):
        return
    try:
        render()
    except Exception as exc:
        if _is_control_flow(exc):
            raise
        report_error(exc)


AGE_FUTURE_SLACK_MIN = 5  # clocks differ a little; newer than this ahead of now is flagged


def age_label(latest: object, now: pd.Timestamp) -> str:
    """How old the newest row is ("12 min", "3 jam", "2 hari"); a time ahead of now is flagged (clock or export error)."""
    if latest is None or pd.isna(latest):
        return "—"
    ts = pd.Timestamp(latest)
    if ts.tzinfo is None:
        ts = ts.tz_localize(data.WIB)
    mins = int((now - ts).total_seconds() // 60)
    if mins < -AGE_FUTURE_SLACK_MIN:
        return t("in_future", n=_age_span(-mins))
    return _age_span(max(0, mins))


def _age_span(mins: int) -> str:
    if mins < 120:
        return f"{mins} min"
    if mins < 48 * 60:
        return t("hours_n", n=mins // 60)
    return t("days_n", n=mins // 1440)


MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def day_axis() -> alt.Axis:
    """A date axis reading "28 Nov" / "3 Agu": Vega only knows English month names, so Indonesian is spelt here."""
    if current_lang() == "en":
        return alt.Axis(format="%d %b", labelAngle=0)
    months = ",".join(f"'{m}'" for m in MONTHS_ID)
    return alt.Axis(labelAngle=0, labelExpr=f"date(datum.value) + ' ' + [{months}][month(datum.value)]")


def day_x(days: pd.Series, title: str, min_days: int = 14, until: pd.Timestamp | None = None) -> alt.X:
    """The x encoding of a daily bar chart: one bar per day, over at least ``min_days`` up to the newest day.

    ``days``: the chart's day column as tz-naive datetimes (WIB wall clock); ``until``: the last day
    shown (default: the newest in ``days``). A fixed span keeps one day one bar wide however few
    days have data (an area chart of one day draws nothing at all).
    """
    last = pd.Timestamp(until if until is not None else days.max()).normalize()
    first = min(pd.Timestamp(days.min()).normalize(), last - pd.Timedelta(days=min_days - 1))
    domain = [first.isoformat(), (last + pd.Timedelta(days=1)).isoformat()]
    return alt.X("day:T", title=title, timeUnit="yearmonthdate", scale=alt.Scale(domain=domain), axis=day_axis())


def usage_by_day_chart(usage: pd.DataFrame, height: int, min_days: int = 14) -> alt.Chart:
    """Jaki events per day stacked by feature (``usage``: day, feature, events, users), one bar per day."""
    usage = usage.assign(day=pd.to_datetime(usage["day"]), feature=code_labels(usage["feature"], "feature"))
    return (
        alt.Chart(usage)
        .mark_bar()
        .encode(
            x=day_x(usage["day"], t("day"), min_days=min_days),
            y=alt.Y("events:Q", title=t("events_n"), stack=True),
            color=alt.Color("feature:N", title=t("feature")),
            tooltip=[alt.Tooltip("day:T", title=t("day"), format="%d %b %Y"), "feature:N", "events:Q", "users:Q"],
        )
        .properties(height=height)
    )


def code_labels(values: pd.Series, kind: str) -> pd.Series:
    """Data codes (Jaki features, complaint categories) in the session language."""
    lang = current_lang()
    return values.map(lambda c: code_label(kind, c, lang))


def wib_series(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Make ``col`` tz-naive wall-clock WIB (altair and st.dataframe then show WIB as is)."""
    if col in df.columns and not df.empty:
        s = pd.to_datetime(df[col], utc=True)
        df = df.assign(**{col: s.dt.tz_convert(data.WIB).dt.tz_localize(None)})
    return df


COORD_DECIMALS = 5  # ~1 m at Jakarta's latitude: plenty for a city map, a third of the JSON
SIMPLIFY_DEG = 0.0002  # ~22 m: below a pixel up to zoom 12 (a kelurahan's own map, zoom 13.5)
# The city view (Overview, Planning) opens at zoom ~9.5-10.5, where a pixel is 50-110 m: the
# boundaries are simplified as a coverage (shared edges simplified once, so neighbours still meet
# and every border still matches the fills) with a ~0.0006 deg (~65 m) tolerance, coordinates
# rounded to 4 decimals (~11 m). Real kelurahan: 55,423 vertices -> 7,836 (8,684 with the old
# per-polygon simplification, whose shared edges differed on each side), 6,248 border segments
# -> 4,531; the Overview's map JSON 711 -> 575 KiB.
CITY_SIMPLIFY_DEG = 0.0006
CITY_DECIMALS = 4


def _simplified(geometry: str, tolerance: float = SIMPLIFY_DEG) -> Any:
    """A GeoJSON string as a simplified shapely geometry with rounded coordinates."""
    import shapely
    from shapely.geometry import shape

    geom = shape(json.loads(geometry))
    if tolerance:
        geom = geom.simplify(tolerance, preserve_topology=True)
    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


def simplify_coverage(geoms: list[Any], tolerance: float, decimals: int) -> list[Any]:
    """Simplify polygons that tile an area together: an edge two polygons share is simplified once.

    GEOS's coverage simplification (Visvalingam-Whyatt on the shared edges) keeps neighbours
    meeting exactly; simplifying each polygon alone moves a shared edge differently on either side
    (slivers, and twice the boundary segments to draw). Polygons that collapse or become invalid
    fall back to their own topology-preserving simplification.
    """
    import shapely

    if not geoms:
        return []
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    try:
        simple = shapely.coverage_simplify(arr, tolerance)
    except (AttributeError, shapely.errors.GEOSException, ValueError) as exc:  # GEOS < 3.12, odd input
        log.warning("coverage simplification failed (%s): simplifying each polygon", exc)
        simple = shapely.simplify(arr, tolerance, preserve_topology=True)
    bad = shapely.is_empty(simple) | ~shapely.is_valid(simple)
    if bad.any():
        simple[bad] = shapely.simplify(arr[bad], tolerance, preserve_topology=True)
    return [shapely.transform(g, lambda xy: np.round(xy, decimals)) for g in simple]


def _rings(geom: Any) -> Iterator[np.ndarray]:
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type != "Polygon":
            continue
        yield np.asarray(poly.exterior.coords)
        for ring in poly.interiors:
            yield np.asarray(ring.coords)


@st.cache_resource(ttl=data.TTL_HISTORY, show_spinner=False)
def kelurahan_features(root: str, city: bool = True) -> list[dict[str, Any]]:
    """Simplified GeoJSON features of every kelurahan, coordinates rounded.

    ``city``: simplified for the whole-city view (:data:`CITY_SIMPLIFY_DEG`, as a coverage);
    otherwise each polygon with :data:`SIMPLIFY_DEG` (detail for one kelurahan's map).
    Parsed once per process and TTL (``cache_resource``: the same list for every session, never
    copied; callers must not modify it).
    """
    from shapely.geometry import mapping, shape

    df = data.query(data.KELURAHAN_GEOMETRY, root=Path(root))
    rows, geoms = [], []
    for row in df.itertuples(index=False):
        try:
            geom = shape(json.loads(row.geometry)) if city else _simplified(row.geometry)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("kelurahan %s: bad geometry (%s)", row.kode_kelurahan, exc)
            continue
        rows.append(row)
        geoms.append(geom)
    if city:
        geoms = simplify_coverage(geoms, CITY_SIMPLIFY_DEG, CITY_DECIMALS)
    return [
        {
            "type": "Feature",
            "geometry": mapping(geom),
            "properties": {
                "kode_kelurahan": row.kode_kelurahan,
                "nama_kelurahan": row.nama_kelurahan,
                "nama_kecamatan": row.nama_kecamatan,
            },
        }
        for row, geom in zip(rows, geoms, strict=True)
    ]


@st.cache_resource(ttl=data.TTL_HISTORY, show_spinner=False)
def kelurahan_borders(root: str) -> list[dict[str, list[float]]]:
    """Every kelurahan boundary edge of the city view once (shared edges de-duplicated), for a ``LineLayer``.

    Boundaries are drawn with deck.gl's LineLayer rather than the GeoJsonLayer's stroke: the
    stroke's PathLayer shaders take seconds to run in a browser without a GPU (software WebGL),
    the LineLayer a fraction of that, for the same picture.
    """
    from shapely.geometry import shape

    seen: set[tuple[float, float, float, float]] = set()
    for feat in kelurahan_features(root):
        for ring in _rings(shape(feat["geometry"])):
            for (x1, y1), (x2, y2) in zip(ring[:-1].tolist(), ring[1:].tolist(), strict=True):
                if (x1, y1) != (x2, y2):
                    seen.add((x1, y1, x2, y2) if (x1, y1) <= (x2, y2) else (x2, y2, x1, y1))
    return [{"s": [x1, y1], "t": [x2, y2]} for x1, y1, x2, y2 in sorted(seen)]


def borders_layer(segments: Any, color: list[int], width_px: float = 1, layer_id: str = "borders") -> pdk.Layer:
    """Boundary edges (``{"s": [lon, lat], "t": [lon, lat]}`` records) as thin lines."""
    return pdk.Layer(
        "LineLayer",
        segments,
        id=layer_id,
        get_source_position="s",
        get_target_position="t",
        get_color=color,
        # 1 m wide, never thinner than width_px pixels: deck.gl draws this several times faster in
        # software WebGL than the same lines in width_units="pixels" (measured 1.2 s against 6.9 s).
        get_width=1,
        width_min_pixels=width_px,
    )


@st.cache_resource(ttl=data.TTL_HISTORY, show_spinner=False)
def kelurahan_shape(root: str, code: str) -> dict[str, Any] | None:
    """One kelurahan as {"geometry": simplified GeoJSON dict, "centroid": (lon, lat), "edges": [...]}."""
    for feat in kelurahan_features(root, city=False):
        if feat["properties"]["kode_kelurahan"] == code:
            return _shape_info(feat["geometry"])
    return None


def _shape_info(geometry: dict[str, Any]) -> dict[str, Any]:
    from shapely.geometry import shape

    shp = shape(geometry)
    edges = [
        {"s": a, "t": b} for ring in _rings(shp) for a, b in zip(ring[:-1].tolist(), ring[1:].tolist(), strict=True)
    ]
    return {"geometry": geometry, "centroid": (shp.centroid.x, shp.centroid.y), "edges": edges}


CITY_MAP_COLUMNS = ("camera_id", "name", "lat", "lon", "level", "health")  # what city_map uses of camera_state


def _kelurahan_fill(level: str) -> list[int]:
    """A kelurahan's RGBA on the city map: its level's colour, see-through (faint when there is no data)."""
    color = list(LEVEL_COLORS[level])
    color[3] = 110 if level != "unknown" else 35
    return color


def _city_features(kel_levels: pd.Series, root: str) -> list[dict[str, Any]]:
    """The city map's kelurahan as GeoJSON features: geometry, fill colour, tooltip name and level."""
    features = []
    for feat in kelurahan_features(root):
        props = feat["properties"]
        level = kel_levels.get(props["kode_kelurahan"], "unknown")
        features.append(
            {
                "type": "Feature",
                "geometry": feat["geometry"],
                "properties": {  # only what the map and the tooltip use
                    "fill": _kelurahan_fill(level),
                    "name": f"{props['nama_kelurahan']} ({props['nama_kecamatan']})",
                    "info": level_label(level),
                },
            }
        )
    return features


def _city_points(cams: pd.DataFrame) -> pd.DataFrame:
    """The city map's cameras: position, tooltip, fill by level, a red outline when unhealthy, a radius in metres."""
    pts = cams.dropna(subset=["lat", "lon"])
    return pd.DataFrame(
        {
            "lat": pts["lat"].astype(float).round(COORD_DECIMALS),
            "lon": pts["lon"].astype(float).round(COORD_DECIMALS),
            "name": pts["name"].fillna(pts["camera_id"]).astype(str),
            "info": [
                f"{level_label(lv)} · {health_label(h)}" for lv, h in zip(pts["level"], pts["health"], strict=True)
            ],
            "fill": [LEVEL_COLORS[lv] for lv in pts["level"]],
            "line": [[0, 0, 0, 0] if h in ("ok", "unknown") else [190, 18, 60, 255] for h in pts["health"]],
            "radius": [60 if lv in ("unknown", "Normal") else 140 for lv in pts["level"]],
        }
    )


def city_map(cams: pd.DataFrame, kel_levels: pd.Series, root: str) -> pdk.Deck:
    """The Overview's interactive map (deck.gl): kelurahan filled by their current level, their borders, every camera."""
    features = _city_features(kel_levels, root)
    layers: list[pdk.Layer] = []
    if features:
        # fill only: the boundaries are a LineLayer (cheap to draw without a GPU, see kelurahan_borders)
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
        layers.append(borders_layer(kelurahan_borders(root), [255, 255, 255, 200]))
    pts = _city_points(cams)
    if not pts.empty:
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
    return deck(layers, pdk.ViewState(**fit_view(cams["lat"], cams["lon"])))


@st.cache_data(ttl=data.TTL_LIVE, max_entries=8, show_spinner=False)
def city_map_json(cams: pd.DataFrame, kel_levels: pd.Series, root: str, lang: str) -> str:
    """:func:`city_map`'s JSON for this camera and kelurahan state (``lang`` keys the cache: labels).

    Built by the server's warm start too (dashboards/server.py), as :func:`city_map_spec` is.
    """
    return str(city_map(cams, kel_levels, root).to_json())


def _css(rgba: list[int]) -> str:
    return f"rgba({rgba[0]},{rgba[1]},{rgba[2]},{rgba[3] / 255:.2f})"


CITY_CHART_HEIGHT = 560


def city_map_chart(cams: pd.DataFrame, kel_levels: pd.Series, root: str) -> alt.LayerChart | None:
    """The Overview's first map: the same kelurahan fills, borders and cameras as :func:`city_map`, drawn by Vega-Lite.

    Vega draws it on a 2D canvas, which the page already loads for its charts: no WebGL and no
    deck.gl bundle (3 MB of JavaScript). In a browser without a GPU that is ~1 s less before the
    first map is on screen; the deck.gl map (zoom, pan) is one switch away. The view fits the
    cameras, as the deck.gl map does (Jakarta's default view when there are none). None: nothing to draw.
    """
    import shapely
    from shapely.geometry import mapping, shape

    # d3-geo (Vega) reads a ring's orientation on the sphere: an exterior ring must run clockwise,
    # else the polygon is the whole globe minus the kelurahan
    features = [
        {
            **f,
            "geometry": mapping(shapely.orient_polygons(shape(f["geometry"]), exterior_cw=True)),
            "properties": {**f["properties"], "fill": _css(f["properties"]["fill"])},
        }
        for f in _city_features(kel_levels, root)
    ]
    view = fit_view(cams["lat"], cams["lon"])
    # the latitudes deck.gl shows at fit_view's zoom on this height (512 px per 360 degrees at zoom 0), fitted to
    half_lat = CITY_CHART_HEIGHT / 2 * 360 / (512 * 2 ** view["zoom"]) * np.cos(np.radians(view["latitude"]))
    box = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "LineString",
            "coordinates": [
                [view["longitude"], view["latitude"] - half_lat],
                [view["longitude"], view["latitude"] + half_lat],
            ],
        },
    }
    kel = (
        alt.Chart(alt.Data(values=features))
        .mark_geoshape(stroke="rgba(255,255,255,0.78)", strokeWidth=1, clip=True)
        .encode(
            fill=alt.Fill("properties.fill:N", scale=None),
            tooltip=[
                alt.Tooltip("properties.name:N", title="Kelurahan"),
                alt.Tooltip("properties.info:N", title=t("level")),
            ],
        )
    )
    pts = _city_points(cams)
    pts = pd.DataFrame(
        {
            "lon": pts["lon"],
            "lat": pts["lat"],
            "name": pts["name"],
            "info": pts["info"],
            "fill": [_css(c) for c in pts["fill"]],
            "line": [_css(c) for c in pts["line"]],
            "size": np.where(pts["radius"] > 60, 60, 30),  # px^2: at-risk cameras a little larger
        }
    )
    cams_layer = (
        alt.Chart(pts)
        .mark_circle(opacity=1, strokeWidth=2, clip=True)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            fill=alt.Fill("fill:N", scale=None),
            stroke=alt.Stroke("line:N", scale=None),
            size=alt.Size("size:Q", scale=None),
            tooltip=[alt.Tooltip("name:N", title=t("m_cameras")), alt.Tooltip("info:N", title=t("level"))],
        )
    )
    layers = ([kel] if features else []) + ([cams_layer] if not pts.empty else [])
    if not layers:
        return None
    return (
        alt.layer(*layers)
        .project(type="mercator", fit=box)
        .properties(height=CITY_CHART_HEIGHT, width="container")
        .configure_view(stroke=None)
    )


@st.cache_data(ttl=data.TTL_LIVE, max_entries=8, show_spinner=False)
def city_map_spec(cams: pd.DataFrame, kel_levels: pd.Series, root: str, lang: str) -> dict[str, Any] | None:
    """:func:`city_map_chart` as a Vega-Lite spec for this camera and kelurahan state (``lang`` keys the cache).

    The server's warm start builds it once (dashboards/server.py), so a first view within
    ``TTL_LIVE`` of the start finds it ready.
    """
    chart = city_map_chart(cams, kel_levels, root)
    if chart is None:
        return None
    spec = dict(chart.to_dict(validate=False))  # checking ~200 KB of inline GeoJSON against the schema: ~0.1 s
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}  # one canvas, not ~1,600 SVG elements
    return spec


def page_header(title_key: str, caption: str | None = None) -> None:
    st.title(t(title_key))
    st.caption(caption or t("times_in_wib"))


def mini_map(shape_info: dict[str, Any] | None, cams: pd.DataFrame) -> pdk.Deck | None:
    """A small map of one kelurahan (its outline) and cameras.

    ``shape_info`` comes from :func:`kelurahan_shape` or :func:`shape_from_geojson`. The outline is a
    LineLayer and there is no fill: two cheap layers keep the first draw short without a GPU.
    """
    layers: list[pdk.Layer] = []
    view = None
    if shape_info:
        lon, lat = shape_info["centroid"]
        view = pdk.ViewState(latitude=lat, longitude=lon, zoom=13.5)
        layers.append(borders_layer(shape_info["edges"], [37, 99, 235, 230], width_px=2, layer_id="outline"))
    pts = cams.dropna(subset=["lat", "lon"])
    if not pts.empty:
        pts = pd.DataFrame(
            {
                "lat": pts["lat"].astype(float).round(COORD_DECIMALS),
                "lon": pts["lon"].astype(float).round(COORD_DECIMALS),
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


def shape_from_geojson(geometry: str | None) -> dict[str, Any] | None:
    """:func:`mini_map`'s shape from a GeoJSON string (full resolution; None when unreadable)."""
    if not geometry:
        return None
    try:
        from shapely.geometry import mapping, shape

        return _shape_info(mapping(shape(json.loads(geometry))))
    except (ValueError, TypeError, AttributeError) as exc:
        log.warning("bad geometry (%s)", exc)
        return None


@functools.cache
def favicon_url() -> str:
    """A small teal disc with a dark pupil as a PNG data URL (built once; nothing fetched from outside)."""
    import base64
    import io

    from PIL import Image

    yy, xx = np.mgrid[:32, :32]
    r = np.hypot(yy - 15.5, xx - 15.5)
    img = np.full((32, 32, 4), 0, np.uint8)
    img[r < 15] = (13, 148, 136, 255)
    img[r < 6] = (15, 23, 42, 255)
    buf = io.BytesIO()
    Image.fromarray(img, "RGBA").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
