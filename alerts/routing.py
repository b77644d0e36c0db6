"""Who receives an alert: the agency for its hazard and every subscriber of its area."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from alerts.models import CameraInfo, Level


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _same(code: str | None, *candidates: str | None) -> bool:
    if not code:
        return False
    c = code.strip().lower()
    return any(x is not None and str(x).strip().lower() == c for x in candidates)


def area_matches(sub: Mapping[str, Any], cam: CameraInfo) -> bool:
    """Does the subscription's area contain the camera? (codes, names or point + radius)."""
    area_type = sub.get("area_type")
    code = sub.get("area_code")
    if not area_type:
        return True  # city-wide (agencies)
    if area_type == "kelurahan":
        return _same(code, cam.kelurahan_code, cam.kelurahan)
    if area_type == "kecamatan":
        return _same(code, cam.kecamatan_code, cam.kecamatan) or bool(
            code and cam.kelurahan_code and cam.kelurahan_code.startswith(str(code).strip() + ".")
        )
    if area_type == "kota":
        return _same(code, cam.kota_code, cam.kota) or bool(
            code and cam.kelurahan_code and cam.kelurahan_code.startswith(str(code).strip() + ".")
        )
    if area_type == "point":
        if None in (sub.get("lat"), sub.get("lon"), sub.get("radius_m")) or cam.lat is None or cam.lon is None:
            return False
        distance = haversine_m(float(sub["lat"]), float(sub["lon"]), float(cam.lat), float(cam.lon))
        return distance <= float(sub["radius_m"])
    return False


def subscription_matches(sub: Mapping[str, Any], hazard: str, level: Level, cam: CameraInfo) -> bool:
    if not sub.get("active", True):
        return False
    if sub.get("hazard") and sub["hazard"] != hazard:
        return False
    if level < Level.parse(sub.get("min_level") or "Waspada"):
        return False
    return area_matches(sub, cam)


def idempotency_key(alert_id: str, version: int, subscription_id: str) -> str:
    """Stable per (alert version, subscriber): receivers de-duplicate on it."""
    return hashlib.sha256(f"{alert_id}:{version}:{subscription_id}".encode()).hexdigest()[:40]
