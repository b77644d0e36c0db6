"""ASGI entry point: ``streamlit run dashboards/server.py`` serves ``app.py`` with a warm start.

Without it the first browser session pays for importing pandas/pyarrow/altair/pydeck/shapely,
loading the DuckLake extensions, attaching the lake and computing the current camera state
(~5 s on a busy 2-core host). The lifespan hook does that once while the server starts (before
it answers its health check); it never aborts startup (a missing lake is fine).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st

log = logging.getLogger("dashboards")

APP_SCRIPT = Path(__file__).resolve().parent / "app.py"


def _warm_imports() -> None:
    """Everything the first page would otherwise import or build on first use."""
    import altair as alt
    import pandas as pd
    import PIL.PngImagePlugin  # noqa: F401  (st.image, favicon)
    import pydeck as pdk
    import shapely  # noqa: F401
    from streamlit import emojis, material_icon_names  # noqa: F401  (icon validation)

    from dashboards import data, ui  # noqa: F401

    # altair validates a chart against the Vega-Lite JSON schema; the first validation builds it.
    alt.Chart(pd.DataFrame({"t": [pd.Timestamp(0)], "v": [1.0]})).mark_line().encode(x="t:T", y="v:Q").to_dict()
    # pydeck imports its widget module on the first Deck; the favicon is built once.
    ui.deck([], pdk.ViewState(**ui.JAKARTA_VIEW)).to_json()
    ui.favicon_url()
    # Streamlit inspects the whole call stack once per process on the first element it draws
    # (a "not run with streamlit run" check); do it here instead of in the first page view.
    from streamlit import delta_generator

    delta_generator._maybe_print_use_warning()


def _warm_data() -> None:
    """The shared read-only lake handle and the caches every Overview and Camera view starts with."""
    from dashboards import data, ui
    from dashboards.i18n import DEFAULT_LANG

    if data.get_lake() is None:
        return
    root = str(data.data_dir())
    data.tables()
    cams = data.camera_state()
    kel_levels = data.kelurahan_state(cams)
    data.query(data.ALERTS_ACTIVE, live=True)
    ui.kelurahan_features(root)
    ui.kelurahan_features(root, city=False)  # the Camera page's kelurahan outline
    ui.kelurahan_borders(root)
    # the Overview's first map as its first view asks for it (same arguments: the cache's key); the
    # labels are read outside a session here (Streamlit warns once per label: nothing is wrong)
    ctx_log = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = ctx_log.level
    ctx_log.setLevel(logging.ERROR)
    try:
        city = cams[list(ui.CITY_MAP_COLUMNS)]
        ui.city_map_spec(city, kel_levels, root, DEFAULT_LANG)
        ui.city_map_json(city, kel_levels, root, DEFAULT_LANG)  # the interactive map, one switch away
    finally:
        ctx_log.setLevel(level)


def warm_up() -> None:
    """Import the page dependencies, open the lake, fill the first caches, then freeze the heap.

    ``gc.freeze()`` moves everything alive now (modules, schemas, the lake handle) out of the
    collector's reach: Streamlit runs a full collection after every script run, and without the
    freeze that collection walks this whole heap each time (~0.1-0.5 s of held GIL per page view).
    """
    t0 = time.perf_counter()
    for step in (_warm_imports, _warm_data):
        try:
            step()
        except Exception as exc:  # a warm-up failure only means a slower first page
            log.warning("dashboard warm-up (%s) failed: %s", step.__name__, exc)
    gc.collect()
    gc.freeze()
    log.info("dashboards warm in %.1f s", time.perf_counter() - t0)


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    warm_up()
    yield


app = st.App(str(APP_SCRIPT), lifespan=lifespan)
