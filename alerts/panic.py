"""Panic-button alerts: each Jaki panic press near cameras opens an alert for the police and Satpol PP.

``camera_priority_requests`` (one row per press and camera within the radius, written by
``ingest.jaki.signals.panic_camera_requests``) is read from the lake after a cursor kept in the ops DB. Per press,
one ``panic`` alert opens at the nearest camera (Siaga: a citizen's report, not yet seen by anyone), routed by the
agency table to the police and Satpol PP, carrying the nearest cameras (ids, distances) and their latest **blurred**
keyframes (``frames.public_uri``; private frames never leave). It escalates like any alert until acknowledged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from alerts.engine import AlertEngine
from alerts.lifecycle import TransitionResult
from alerts.models import Decision, Level, as_utc

log = logging.getLogger(__name__)

CURSOR_KEY = "panic.camera_priority_requests.requested_at"
SELECT_PRESSES = """
SELECT panic_id, min(pressed_at) AS pressed_at, max(requested_at) AS requested_at, any_value(kind) AS kind,
       any_value(kelurahan_code) AS kelurahan_code,
       list(camera_id ORDER BY distance_m, camera_id) AS cameras,
       list(distance_m ORDER BY distance_m, camera_id) AS distances
FROM camera_priority_requests
WHERE requested_at > ?
GROUP BY panic_id
ORDER BY requested_at, panic_id
"""
SELECT_KEYFRAMES = """
SELECT camera_id, arg_max(public_uri, captured_at) AS public_uri
FROM frames WHERE public_uri IS NOT NULL AND list_contains(?, camera_id)
GROUP BY camera_id
"""
NEAREST = 3  # cameras (and their blurred keyframes) carried by a panic alert
CLOCK_SKEW = timedelta(minutes=5)  # a press stamped later than now + this is bad data: logged, never alerted
PANIC_LEVEL = Level.SIAGA


@dataclass
class PanicResult:
    presses: int = 0
    future: int = 0  # presses stamped in the future (skipped)
    transitions: list[TransitionResult] = field(default_factory=list)
    cursor: str | None = None


def raise_panic_alerts(engine: AlertEngine, *, nearest: int = NEAREST, now: datetime | None = None) -> PanicResult:
    """Open a panic alert for every press requested since the cursor (idempotent: the cursor moves on).

    A press stamped after ``now`` (plus :data:`CLOCK_SKEW`) cannot have happened yet: it is logged and skipped, so no
    alert is ever shown as opened in the future."""
    limit = (now or datetime.now(UTC)) + CLOCK_SKEW
    lake, ops = engine.lake, engine.ops
    out = PanicResult()
    if "camera_priority_requests" not in lake.tables():
        return out
    cursor = ops.get_kv(CURSOR_KEY)
    since = as_utc(datetime.fromisoformat(cursor)) if cursor else datetime(1970, 1, 1, tzinfo=UTC)
    presses = lake.query(SELECT_PRESSES, [since]).to_pylist()
    if not presses:
        return out
    wanted = sorted({c for p in presses for c in p["cameras"][:nearest]})
    keyframes: dict[str, str] = {}
    if "frames" in lake.tables():
        keyframes = {r["camera_id"]: r["public_uri"] for r in lake.query(SELECT_KEYFRAMES, [wanted]).to_pylist()}
    cams = engine.cameras(wanted)
    latest = since
    for p in presses:
        latest = max(latest, as_utc(p["requested_at"]))
        if as_utc(p["pressed_at"]) > limit:
            out.future += 1
            log.warning("panic %s is stamped %s, in the future: not alerted", p["panic_id"], p["pressed_at"])
            continue
        near = list(zip(p["cameras"][:nearest], p["distances"][:nearest], strict=True))
        first = near[0][0]
        evidence = {
            "panic_id": p["panic_id"],
            "kind": p["kind"],
            "pressed_at": as_utc(p["pressed_at"]).isoformat(),
            "kelurahan_code": p["kelurahan_code"],
            "cameras": [{"camera_id": c, "distance_m": round(float(d), 1)} for c, d in near],
            "keyframes": [keyframes[c] for c, _ in near if keyframes.get(c)],
        }
        reason = f"Jaki panic button ({p['kind']}) pressed {float(near[0][1]):.0f} m from camera {first}"
        decision = Decision(first, "panic", "open", PANIC_LEVEL, as_utc(p["pressed_at"]), reason, evidence)
        with ops.begin() as conn:
            tr = engine.lifecycle.apply(decision, cams[first], conn)
        if tr is not None:
            out.transitions.append(tr)
        out.presses += 1
        log.info("panic %s -> alert at camera %s (%s)", p["panic_id"], first, json.dumps(evidence["cameras"]))
    out.cursor = latest.isoformat()
    ops.set_kv(CURSOR_KEY, out.cursor)
    return out
