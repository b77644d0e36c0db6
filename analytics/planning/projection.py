"""Local equirectangular projection (metres) centred on Jakarta (lat -6.2, lon 106.83).

Over the city's 32 km extent the scale error is below 0.1 %, so no projection library is needed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

LAT0 = -6.2
LON0 = 106.83
_PHI = math.radians(LAT0)
M_PER_DEG_LAT = 111_132.92 - 559.82 * math.cos(2 * _PHI) + 1.175 * math.cos(4 * _PHI)
M_PER_DEG_LON = 111_412.84 * math.cos(_PHI) - 93.5 * math.cos(3 * _PHI)


def to_xy(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat (degrees, arrays of shape (N,)) -> local x/y in metres, shape (N,) each."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return (lon_a - LON0) * M_PER_DEG_LON, (lat_a - LAT0) * M_PER_DEG_LAT


def to_lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_xy`."""
    return np.asarray(x, dtype=float) / M_PER_DEG_LON + LON0, np.asarray(y, dtype=float) / M_PER_DEG_LAT + LAT0


def _project_coords(coords: np.ndarray) -> np.ndarray:
    x, y = to_xy(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def project_geometries(geoms: np.ndarray) -> np.ndarray:
    """Shapely geometries in lon/lat -> the same geometries in local metres (vectorised)."""
    return shapely.transform(geoms, _project_coords)
