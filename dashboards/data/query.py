"""Query plumbing: :class:`Q`, table listings and cached, WIB-converted query results.

Every query is a :class:`Q` with bound parameters, run through :func:`query`, cached with
``st.cache_data(ttl=...)`` and returned as a pandas DataFrame whose timestamps are already in WIB.
A query names the tables it needs; when one does not exist yet the result is an empty frame with
the expected columns, never an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import streamlit as st

from dashboards.data.config import data_dir
from dashboards.data.handles import get_lake

log = logging.getLogger(__name__)

WIB = "Asia/Jakarta"
TTL_LIVE = 30  # seconds: current state, alerts
TTL_HISTORY = 300  # seconds: history, reference data


@dataclass(frozen=True)
class Q:
    """A read query: SQL with ``?`` parameters, the tables it reads and its result columns."""

    sql: str
    needs: tuple[str, ...]
    columns: tuple[str, ...]
    # True when the result has no rows whenever a needed table has none (row selects and GROUP BY
    # queries; not global aggregates, outer joins or catalog queries): such a query is skipped on an
    # empty table, which DuckLake answers slower (~80 ms) than a full one.
    empty_if_empty: bool = False


# DuckLake's own listing reads the catalog once; information_schema over the attached lake
# costs ~5x more (0.06 s against 0.3 s on a 46-table lake), and every page starts with it.
DUCKLAKE_TABLES_SQL = "SELECT DISTINCT table_name FROM ducklake_table_info('lake')"


@st.cache_data(ttl=TTL_HISTORY, show_spinner=False)
def _tables(root: str) -> frozenset[str]:
    lake = get_lake(Path(root))
    if lake is None:
        return frozenset()
    try:
        return frozenset(str(v) for v in lake.query(DUCKLAKE_TABLES_SQL).column(0).to_pylist())
    except Exception as exc:  # an older ducklake extension: the portable listing
        log.debug("ducklake_table_info unavailable (%s), using information_schema", exc)
        return frozenset(lake.tables())


def tables(root: Path | None = None) -> frozenset[str]:
    """Names of the lake tables that exist now (empty when there is no lake)."""
    return _tables(str(root or data_dir()))


# Tables without data files or inlined rows (DuckLake catalog; readers never inline).
_EMPTY_TABLES_SQL = (
    "SELECT table_name FROM ducklake_table_info('lake') WHERE file_count = 0 AND table_id NOT IN "
    "(SELECT table_id FROM __ducklake_metadata_lake.ducklake_inlined_data_tables)"
)


@st.cache_data(ttl=TTL_LIVE, show_spinner=False)
def _empty_tables(root: str) -> frozenset[str]:
    lake = get_lake(Path(root))
    if lake is None:
        return frozenset()
    try:
        return frozenset(str(v) for v in lake.query(_EMPTY_TABLES_SQL).column(0).to_pylist())
    except Exception as exc:  # another catalog layout: never skip
        log.debug("cannot list empty tables (%s)", exc)
        return frozenset()


def has_tables(*names: str, root: Path | None = None) -> bool:
    have = tables(root)
    return all(n in have for n in names)


def _to_wib(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = df[col].dt.tz_convert(WIB)
    return df


def _run(root: str, sql: str, params: tuple[Any, ...]) -> pd.DataFrame:
    lake = get_lake(Path(root))
    if lake is None:
        return pd.DataFrame()
    return _to_wib(_decimals_to_float(lake.query(sql, list(params))).to_pandas())


def _decimals_to_float(table: pa.Table) -> pa.Table:
    """sum() of integers comes back as DECIMAL/HUGEINT; charts want plain floats."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table


_run_live = st.cache_data(ttl=TTL_LIVE, show_spinner=False, max_entries=512)(_run)
_run_history = st.cache_data(ttl=TTL_HISTORY, show_spinner=False, max_entries=512)(_run)


def query(q: Q, params: Sequence[Any] = (), *, live: bool = False, root: Path | None = None) -> pd.DataFrame:
    """Run ``q`` with bound ``params``; an empty frame with ``q.columns`` when a table is missing."""
    root = root or data_dir()
    if not has_tables(*q.needs, root=root):
        return pd.DataFrame(columns=list(q.columns))
    if q.empty_if_empty and not _empty_tables(str(root)).isdisjoint(q.needs):
        return pd.DataFrame(columns=list(q.columns))
    runner = _run_live if live else _run_history
    df = runner(str(root), q.sql, tuple(params))
    if df.empty and len(df.columns) == 0:
        return pd.DataFrame(columns=list(q.columns))
    return df


def clear_query_caches() -> None:
    _empty_tables.clear()
    _run_live.clear()
    _run_history.clear()
    _tables.clear()
