"""Level agreement: every camera-hour shows the same level in scoring, the marts and the alert log.

For each camera, hazard and UTC hour this compares
* the scoring path: the highest ``frame_scores.level_<hazard>`` of the hour (what the map shows),
* the marts: ``risk_hourly_camera.<hazard>_level_max`` (what open data and the dashboards' history show), and
  ``risk_level_max`` against the worst hazard,
* the alert log: the level of the camera's alert for that hazard at each scored frame time of the hour (Normal
  when no alert was active), taken from the alert transitions in the ops DB.

Only frames whose level is known count (a NULL level is "unknown": nothing is compared). Alerts an operator
cancelled are left out (a cancel is a deliberate override of the level). The result lists every disagreement.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from alerts.db import OpsDB, alerts_t, transitions_t
from alerts.models import Level, Status, as_utc
from analytics.levels import HAZARDS, LEVEL_COLUMNS, LEVELS
from warehouse.lake import Lake

SELECT_FRAME_LEVELS = (
    "SELECT camera_id, captured_at, risk_level, level_fire, level_smoke, level_flood, level_crowd "
    "FROM frame_scores ORDER BY camera_id, captured_at"
)
SELECT_MART_LEVELS = (
    "SELECT hour, camera_id, risk_level_max, fire_level_max, smoke_level_max, flood_level_max, crowd_level_max "
    "FROM risk_hourly_camera"
)


@dataclass
class Agreement:
    camera_hours: int = 0
    compared: int = 0  # (camera, hour, hazard) triples with a known level
    disagreements: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.disagreements and self.compared > 0


def _hour(ts: datetime) -> datetime:
    return as_utc(ts).replace(minute=0, second=0, microsecond=0)


def _alert_timelines(ops: OpsDB) -> dict[tuple[str, str], list[tuple[datetime, int]]]:
    """(camera, hazard) -> sorted [(at, level rank from then on)] over every alert of that camera and hazard."""
    q = (
        sa.select(alerts_t.c.camera_id, alerts_t.c.hazard, alerts_t.c.status.label("final"), transitions_t)
        .join(transitions_t, transitions_t.c.alert_id == alerts_t.c.alert_id)
        .order_by(transitions_t.c.at, transitions_t.c.version)
    )
    out: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    with ops.read() as conn:
        for r in conn.execute(q):
            if r.hazard not in HAZARDS or r.final == Status.CANCELLED:
                continue
            rank = 0 if r.status in Status.CLOSED else int(Level.parse(r.level))
            out[(r.camera_id, r.hazard)].append((as_utc(r.at), rank))
    return out


def _level_at(timeline: list[tuple[datetime, int]], at: datetime) -> int:
    i = bisect.bisect_right([t for t, _ in timeline], at)
    return timeline[i - 1][1] if i else 0


def check_level_agreement(lake: Lake, ops: OpsDB | None = None, hazards: Iterable[str] = HAZARDS) -> Agreement:
    """Compare scoring, marts and (when ``ops`` is given) the alert log for every camera-hour."""
    hazards = tuple(hazards)
    res = Agreement()
    scoring: dict[tuple[str, datetime, str], int] = {}
    alerting: dict[tuple[str, datetime, str], int] = {}
    worst: dict[tuple[str, datetime], int] = {}
    timelines = _alert_timelines(ops) if ops is not None else {}
    for r in lake.query(SELECT_FRAME_LEVELS).to_pylist():
        cam, at = r["camera_id"], as_utc(r["captured_at"])
        hour = _hour(at)
        if r["risk_level"] is not None:
            worst[(cam, hour)] = max(worst.get((cam, hour), -1), LEVELS.index(r["risk_level"]))
        for hz in hazards:
            lv = r[LEVEL_COLUMNS[hz]]
            if lv is None:
                continue
            key = (cam, hour, hz)
            scoring[key] = max(scoring.get(key, 0), LEVELS.index(lv))
            if ops is not None:
                alerting[key] = max(alerting.get(key, 0), _level_at(timelines.get((cam, hz), []), at))
    marts = {(_hour(m["hour"]), m["camera_id"]): m for m in lake.query(SELECT_MART_LEVELS).to_pylist()}
    res.camera_hours = len({(c, h) for c, h, _ in scoring})
    for (cam, hour, hz), rank in sorted(scoring.items()):
        res.compared += 1
        where = f"{cam} {hour:%Y-%m-%d %H}h {hz}"
        mart = marts.get((hour, cam))
        mart_level = mart.get(f"{hz}_level_max") if mart else None
        if mart_level != LEVELS[rank]:
            res.disagreements.append(f"{where}: scoring {LEVELS[rank]}, mart {mart_level}")
        if ops is not None and alerting[(cam, hour, hz)] != rank:
            res.disagreements.append(f"{where}: scoring {LEVELS[rank]}, alert log {LEVELS[alerting[(cam, hour, hz)]]}")
    for (cam, hour), rank in sorted(worst.items()):
        mart = marts.get((hour, cam))
        got = mart.get("risk_level_max") if mart else None
        if got != LEVELS[rank]:
            res.disagreements.append(f"{cam} {hour:%Y-%m-%d %H}h: risk level {LEVELS[rank]}, mart {got}")
    return res
