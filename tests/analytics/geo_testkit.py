"""Geodesy helpers shared by the coverage and placement tests (independent of the code under test)."""

import math

# 1 km of longitude / latitude at Jakarta (WGS84 ellipsoid, lat -6.2)
DEG_LON_PER_KM = 1000 / 110_672.0
DEG_LAT_PER_KM = 1000 / 110_587.0


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
