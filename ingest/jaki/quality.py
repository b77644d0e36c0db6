"""Data-quality views over the lake for the asset checks: row accounting and recent rows."""

from __future__ import annotations

from typing import Any

import polars as pl

from ingest.jaki.schemas import TableSpec
from warehouse.lake import Lake, ident

ACCOUNTING_SQL = """
SELECT f.source_file, f.checksum, f.rows_read, f.rows_accepted, f.rows_quarantined,
       (SELECT count(DISTINCT q.line) FROM jaki_quarantine q
         WHERE q.checksum = f.checksum AND q.table_name = f.table_name AND q.source_file = f.source_file) AS q_lines
FROM jaki_ingested_files f
WHERE f.table_name = ? AND f.status = 'loaded'
"""


def accounting_report(lake: Lake, table: str) -> dict[str, Any]:
    """Exact accounting over every loaded file of ``table``.

    Balanced when, for each file, rows_read = rows_accepted + rows_quarantined and the quarantine
    holds exactly rows_quarantined distinct lines of it, and the table holds exactly the accepted rows.
    """
    files = lake.query(ACCOUNTING_SQL, [table]).to_pylist()
    stored = int(lake.scalar(f"SELECT count(*) FROM {ident(table)}") or 0)
    bad_files = [
        f["source_file"]
        for f in files
        if f["rows_read"] != f["rows_accepted"] + f["rows_quarantined"] or f["q_lines"] != f["rows_quarantined"]
    ]
    accepted = sum(int(f["rows_accepted"]) for f in files)
    return {
        "files": len(files),
        "rows_read": sum(int(f["rows_read"]) for f in files),
        "rows_accepted": accepted,
        "rows_quarantined": sum(int(f["rows_quarantined"]) for f in files),
        "rows_stored": stored,
        "unbalanced_files": len(bad_files),
        "balanced": not bad_files and stored == accepted,
    }


def recent_rows(lake: Lake, spec: TableSpec, limit: int = 50_000) -> pl.DataFrame:
    """The ``limit`` most recent rows of the table in lake layout (for the GE suite)."""
    cols = ", ".join(ident(c) for c in spec.lake_columns)
    tcol = ident(spec.column(spec.time_column).lake_name)
    arrow = lake.query(f"SELECT {cols} FROM {ident(spec.table)} ORDER BY {tcol} DESC LIMIT ?", [limit])
    df = pl.from_arrow(arrow)
    assert isinstance(df, pl.DataFrame)
    return df
