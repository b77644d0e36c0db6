"""Alert marts: time to acknowledge per agency (``alert_ack_daily``), over the exported alert history.

``alerts`` (one row per transition) and ``alert_deliveries`` are exported from the ops DB by
``alerts.export.export_alerts_to_lake``; the mart is small and rebuilt whole, atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path

from warehouse.lake import Lake

log = logging.getLogger(__name__)

SQL = (Path(__file__).parent / "sql" / "alert_ack_daily.sql").read_text()
SOURCES = ("alerts", "alert_deliveries")


def refresh_alert_ack_mart(lake: Lake) -> int:
    """Rebuild ``alert_ack_daily``; returns its rows (0 while the alert history is not exported yet)."""
    if not set(SOURCES) <= set(lake.tables()):
        return 0
    table = lake.query(SQL)
    n = lake.replace("alert_ack_daily", table)
    log.info("alert_ack_daily: %d rows", n)
    return n
