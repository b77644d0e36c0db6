"""``pantau jaki-demo``: generate one day of Jaki activity, ingest it, refresh marts, print the accounting.

``pantau demo`` lands the same day with :func:`land_demo_day`, ingests it with the Dagster
``jaki_ingest`` job (so its Great Expectations checks are recorded) and reports from the lake's
load log with :func:`lake_file_accounting` + :func:`report_accounting`.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table

from ingest.jaki.ingest import JakiConfig, ingest_landing
from ingest.jaki.signals import panic_camera_requests
from marts.jaki import refresh_marts
from simulate.jaki import JakiSimConfig, write_day_to_store
from warehouse.lake import Lake
from warehouse.object_store import ObjectStore

log = logging.getLogger(__name__)


def land_demo_day(
    store: ObjectStore, day: date, events: int = 200_000, *, malformed_share: float = 0.002, seed: int = 0
) -> dict[str, tuple[str, Any, Any]]:
    """Generate one day of Jaki exports (with ``malformed_share`` bad rows) into the landing zone.

    Returns, per feature, (store key, injected corruption, generated rows): the ground truth the
    accounting is compared with.
    """
    return write_day_to_store(
        store, JakiSimConfig(day=day, usage_events=events, seed=seed), malformed_share=malformed_share
    )


def run_jaki_demo(
    lake: Lake,
    store: ObjectStore,
    day: date,
    events: int = 200_000,
    *,
    salt: str = "pantau-demo-salt-change-me",
    malformed_share: float = 0.002,
    radius_m: float = 300.0,
    seed: int = 0,
    console: Console | None = None,
) -> dict[str, Any]:
    """Generate and ingest one day of Jaki activity; returns (and prints) the row accounting."""
    landed = land_demo_day(store, day, events, malformed_share=malformed_share, seed=seed)
    stats = ingest_landing(lake, store, JakiConfig(salt=salt), tables=list(landed))
    marts = refresh_marts(lake, day, day)
    requests = panic_camera_requests(lake, radius_m=radius_m)
    files = [
        {
            "table": s.table,
            "file": s.source_file,
            "status": s.status,
            "rows_read": s.rows_read,
            "accepted": s.rows_accepted,
            "quarantined": s.rows_quarantined,
            "fields_redacted": s.fields_redacted,
        }
        for s in stats
    ]
    return report_accounting(day, files, landed, marts, requests.num_rows, console or Console())


def lake_file_accounting(lake: Lake, landed: dict[str, tuple[str, Any, Any]]) -> list[dict[str, Any]]:
    """What the lake's load log (``jaki_ingested_files``) recorded for each landed export file.

    For the demo's Dagster path, where the ``jaki_ingest`` job's assets did the ingestion.
    """
    keys = [key for key, _, _ in landed.values()]
    rows = lake.query(LOAD_LOG_SQL, [keys]).to_pylist()
    return [
        {
            "table": r["table_name"],
            "file": r["source_file"],
            "status": r["status"],
            "rows_read": int(r["rows_read"] or 0),
            "accepted": int(r["rows_accepted"] or 0),
            "quarantined": int(r["rows_quarantined"] or 0),
            "fields_redacted": int(r["fields_redacted"] or 0),
        }
        for r in rows
    ]


LOAD_LOG_SQL = """
SELECT table_name, source_file, status, rows_read, rows_accepted, rows_quarantined, fields_redacted
FROM jaki_ingested_files WHERE list_contains(?, source_file) ORDER BY table_name, source_file
"""


def report_accounting(
    day: date,
    files: list[dict[str, Any]],
    landed: dict[str, tuple[str, Any, Any]],
    marts: dict[str, Any],
    camera_requests: int,
    console: Console,
) -> dict[str, Any]:
    """Print the per-file accounting against the injected bad rows; returns it as a dict."""
    for f in files:
        short = _short(f["table"])
        f["injected_malformed"] = landed[short][1].count() if short in landed else None
        f["balanced"] = f["rows_read"] == f["accepted"] + f["quarantined"]
    result = {
        "day": day.isoformat(),
        "files": files,
        "rows_read": sum(f["rows_read"] for f in files),
        "rows_accepted": sum(f["accepted"] for f in files),
        "rows_quarantined": sum(f["quarantined"] for f in files),
        "marts": marts,
        "camera_priority_requests": camera_requests,
    }
    t = Table(title=f"Jaki ingestion {day.isoformat()}")
    for col in (
        "table",
        "status",
        "rows read",
        "accepted",
        "quarantined",
        "injected bad",
        "PII fields dropped",
        "balanced",
    ):
        t.add_column(col, justify="left" if col in ("table", "status") else "right")
    for f in files:
        t.add_row(
            f["table"],
            f["status"],
            f"{f['rows_read']:,}",
            f"{f['accepted']:,}",
            f"{f['quarantined']:,}",
            str(f["injected_malformed"]),
            str(f["fields_redacted"]),
            "yes" if f["balanced"] else "NO",
        )
    console.print(t)
    console.print(
        f"total read {result['rows_read']:,} = accepted {result['rows_accepted']:,} + quarantined "
        f"{result['rows_quarantined']:,}; marts {marts}; camera priority requests {camera_requests}"
    )
    return result


def _short(table: str) -> str:
    from ingest.jaki.schemas import spec_for

    return spec_for(table).name
