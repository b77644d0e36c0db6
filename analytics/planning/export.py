"""Placement candidates as GeoJSON (open-data release)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def placement_geojson(df: pd.DataFrame) -> dict[str, Any]:
    """``placement_candidates`` rows -> GeoJSON FeatureCollection of points (open-data release)."""
    data = df if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
    feats = []
    for rec in data.to_dict("records"):
        props = {}
        for k, v in rec.items():
            if k in ("lat", "lon"):
                continue
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            props[k] = v
        feats.append(
            {
                "type": "Feature",
                "id": rec.get("site_id"),
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(rec["lon"]), 6), round(float(rec["lat"]), 6)],
                },
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": feats}
