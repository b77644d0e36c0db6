"""``pantau jaki-demo``: generate one day of Jaki activity, ingest it, refresh marts, print the accounting."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table

from ingest.jaki.ingest import JakiConfig, ingest_landing
from ingest.jaki.marts import refresh_marts
from ingest.jaki.signals import panic_camera_requests
from ingest.simulate.jaki import JakiSimConfig, write_day_to_store
from warehouse.lake import Lake
from warehouse.object_store import ObjectStore

log = logging.getLogger(__name__)


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
    sim = JakiSimConfig(day=day, usage_events=events, seed=seed)
    landed = write_day_to_store(store, sim, malformed_share=malformed_share)
    stats = ingest_landing(lake, store, JakiConfig(salt=salt), tables=list(landed))
    marts = refresh_marts(lake, day, day)
    requests = panic_camera_requests(lake, radius_m=radius_m)
    files: list[dict[str, Any]] = [
        {
            "table": s.table,
            "file": s.source_file,
            "status": s.status,
            "rows_read": s.rows_read,
            "accepted": s.rows_accepted,
            "quarantined": s.rows_quarantined,
            "injected_malformed": landed[_short(s.table)][1].count() if _short(s.table) in landed else None,
            "fields_redacted": s.fields_redacted,
            "balanced": s.balanced,
        }
        for s in stats
    ]
    result = {
        "day": day.isoformat(),
        "files": files,
        "rows_read": sum(f["rows_read"] for f in files),
        "rows_accepted": sum(f["accepted"] for f in files),
        "rows_quarantined": sum(f["quarantined"] for f in files),
        "marts": marts,
        "camera_priority_requests": requests.num_rows,
    }
    console = console or Console()
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
        f"{result['rows_quarantined']:,}; marts {marts}; camera priority requests {requests.num_rows}"
    )
    return result


def _short(table: str) -> str:
    from ingest.jaki.schemas import spec_for

    return spec_for(table).name
