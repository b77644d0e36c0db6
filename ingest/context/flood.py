"""Flood context for the scoring path: what independent evidence backs a camera's flood right now.

:class:`FloodContextProvider` reads the lake (refreshed every ``ttl_s``) and answers, per camera, ``{"flood":
"<why>"}`` or None:

* a water gate whose latest reading (within ``window``) is at Siaga 3 or worse — by the thresholds in the lake
  (``gate_level``) or by the status the feed published — backs floods city-wide (Jakarta's rivers carry the
  water from the gates to the whole basin);
* an unexpired BMKG warning whose area contains the camera backs a flood at that camera;
* Jaki flood complaints filed in the camera's kelurahan within ``window`` back a flood at that camera.

The capture worker passes it to the vision pipeline, where it only shortens confirmation (``analytics.risk``):
context never lowers a level and its absence never caps one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from warehouse.lake import Lake

log = logging.getLogger(__name__)

AT_SIAGA = ("Siaga 3", "Siaga 2", "Siaga 1")
SELECT_GATES = """
SELECT coalesce(name, gate_id) AS gate, arg_max(height_cm, observed_at) AS height_cm,
       arg_max(gate_level, observed_at) AS gate_level, arg_max(status, observed_at) AS status,
       max(observed_at) AS observed_at
FROM water_gate_readings WHERE observed_at >= ?
GROUP BY ALL
"""
SELECT_COMPLAINTS = """
SELECT kelurahan_code, count(*) AS n FROM jaki_complaints
WHERE category = 'flood' AND created_at >= ? AND kelurahan_code IS NOT NULL GROUP BY 1
"""
SELECT_WARNINGS = """
SELECT identifier, event, severity, expires, area_desc, geometry FROM weather_warnings
WHERE (onset IS NULL OR onset <= ?) AND (expires IS NULL OR expires > ?) AND geometry IS NOT NULL
  AND coalesce(msg_type, 'Alert') <> 'Cancel'
"""


class FloodContextProvider:
    def __init__(self, lake: Lake, *, ttl_s: float = 60.0, window: timedelta = timedelta(hours=3)) -> None:
        self.lake = lake
        self.ttl_s = ttl_s
        self.window = window
        self._lock = threading.Lock()
        self._at = -1e18
        self._gates: list[str] = []
        self._warnings: list[tuple[str, Any]] = []
        self._complaints: dict[str, int] = {}

    def refresh(self, now: datetime | None = None) -> None:
        from shapely.geometry import shape
        from shapely.prepared import prep

        now = now or datetime.now(UTC)
        tables = set(self.lake.tables())
        gates: list[str] = []
        warnings: list[tuple[str, Any]] = []
        if "water_gate_readings" in tables:
            for r in self.lake.query(SELECT_GATES, [now - self.window]).to_pylist():
                level = r["gate_level"] if r["gate_level"] in AT_SIAGA else r["status"]
                if level in AT_SIAGA:
                    gates.append(f"water gate {r['gate']} at {level} ({r['height_cm']:.0f} cm)")
        complaints: dict[str, int] = {}
        if "jaki_complaints" in tables:
            complaints = {
                str(r["kelurahan_code"]): int(r["n"])
                for r in self.lake.query(SELECT_COMPLAINTS, [now - self.window]).to_pylist()
            }
        if "weather_warnings" in tables:
            for r in self.lake.query(SELECT_WARNINGS, [now, now]).to_pylist():
                try:
                    geom = prep(shape(json.loads(r["geometry"])))
                except (ValueError, TypeError, KeyError):
                    continue
                why = f"BMKG {r['event'] or 'warning'} ({r['severity']}) for {r['area_desc']}"
                warnings.append((why, geom))
        with self._lock:
            self._gates, self._warnings, self._complaints = sorted(gates), warnings, complaints
            self._at = time.monotonic()

    def __call__(
        self, lat: float | None, lon: float | None, kelurahan_code: str | None = None
    ) -> Mapping[str, str] | None:
        if time.monotonic() - self._at > self.ttl_s:
            try:
                self.refresh()
            except Exception:  # context is evidence, never a dependency: keep the last answer
                log.exception("flood context refresh failed")
                self._at = time.monotonic()
        from shapely.geometry import Point

        with self._lock:
            reasons = list(self._gates[:3])
            if lat is not None and lon is not None and self._warnings:
                pt = Point(float(lon), float(lat))
                reasons += [why for why, geom in self._warnings if geom.contains(pt)]
            n = self._complaints.get(str(kelurahan_code)) if kelurahan_code else None
            if n:
                reasons.append(f"{n} Jaki flood complaint(s) in kelurahan {kelurahan_code}")
        return {"flood": "; ".join(reasons)} if reasons else None
