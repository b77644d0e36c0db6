"""ASGI entry point: ``streamlit run dashboards/server.py`` serves ``app.py`` with a warm start.

Without it the first browser session pays for importing pandas/pyarrow/altair/pydeck/shapely,
loading the DuckLake extensions and attaching the lake (~5 s on a busy 2-core host). The lifespan
hook does that once while the server starts; it never aborts startup (a missing lake is fine).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st

log = logging.getLogger("dashboards")

APP_SCRIPT = Path(__file__).resolve().parent / "app.py"


def warm_up() -> None:
    """Import the page dependencies, build altair's schema validator, open the shared lake handle."""
    try:
        import altair as alt
        import pandas as pd
        import pydeck  # noqa: F401
        import shapely  # noqa: F401

        from dashboards import data, ui  # noqa: F401

        # altair validates a chart against the Vega-Lite JSON schema; the first validation builds it.
        alt.Chart(pd.DataFrame({"t": [pd.Timestamp(0)], "v": [1.0]})).mark_line().encode(x="t:T", y="v:Q").to_dict()

        if data.get_lake() is not None:
            data.tables()
    except Exception as exc:  # a warm-up failure only means a slower first page
        log.warning("dashboard warm-up failed: %s", exc)


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    warm_up()
    yield


app = st.App(str(APP_SCRIPT), lifespan=lifespan)
