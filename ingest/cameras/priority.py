"""Priority requests: a panic-button press asks the cameras around it to look more often, for a bounded time.

``ingest.jaki.signals.panic_camera_requests`` writes one ``camera_priority_requests`` row per press and camera
(status ``pending``). A capture worker polls :meth:`LakePriorityRequests.claim` for its own cameras: every pending
request is marked ``served`` (with ``served_at`` and the worker's id) in one lake transaction and returned, and the
worker samples that camera at ``priority_interval_s`` for ``priority_boost_s`` seconds, starting at once. A request
older than ``max_age_s`` when a worker first sees it is marked ``expired`` instead: a stale press is no reason to
look harder now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import duckdb

from warehouse.lake import Lake

log = logging.getLogger(__name__)

SELECT_PENDING = (
    "SELECT request_id, camera_id, panic_id, pressed_at, priority FROM camera_priority_requests "
    "WHERE status = 'pending' AND list_contains(?, camera_id) ORDER BY priority, pressed_at"
)
MARK = (
    "UPDATE camera_priority_requests SET status = ?, served_at = ?, served_by = ? "
    "WHERE status = 'pending' AND list_contains(?, request_id)"
)


@dataclass(frozen=True)
class PriorityRequest:
    request_id: str
    camera_id: str
    panic_id: str
    pressed_at: datetime
    priority: int


class PriorityRequests(Protocol):
    def claim(self, camera_ids: Sequence[str], worker_id: str) -> list[PriorityRequest]: ...


class LakePriorityRequests:
    """``camera_priority_requests`` in the lake as the capture workers' queue (served exactly once)."""

    def __init__(self, lake: Lake, max_age_s: float = 900.0) -> None:
        self.lake = lake
        self.max_age = timedelta(seconds=max_age_s)

    def claim(self, camera_ids: Sequence[str], worker_id: str) -> list[PriorityRequest]:
        if not camera_ids or "camera_priority_requests" not in self.lake.tables():
            return []
        # a plain read first: most polls find nothing, and must not take the lake's writer lock
        if not self.lake.query(SELECT_PENDING, [list(camera_ids)]).num_rows:
            return []
        now = datetime.now(UTC)

        def _do(cur: duckdb.DuckDBPyConnection) -> list[PriorityRequest]:
            rows = cur.execute(SELECT_PENDING, [list(camera_ids)]).fetchall()
            fresh, stale = [], []
            for rid, cam, panic, pressed, prio in rows:
                pressed = pressed.astimezone(UTC) if pressed.tzinfo else pressed.replace(tzinfo=UTC)
                if now - pressed > self.max_age:
                    stale.append(rid)
                else:
                    fresh.append(PriorityRequest(rid, cam, panic, pressed, int(prio or 2)))
            if fresh:
                cur.execute(MARK, ["served", now, worker_id, [r.request_id for r in fresh]])
            if stale:
                cur.execute(MARK, ["expired", now, worker_id, stale])
            return fresh

        served = self.lake.write(_do)
        for r in served:
            log.info("priority request %s served: camera %s (panic %s)", r.request_id, r.camera_id, r.panic_id)
        return served
