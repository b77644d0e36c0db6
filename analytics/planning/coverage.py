"""Camera coverage of the demand grid and its metrics (covered share per area and layer, uncovered hotspots)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.planning.grid import Grid, points_near
from analytics.planning.inputs import (
    as_pandas,
)
from analytics.planning.layers import (
    LAYERS,
    CoverageSettings,
    Layers,
    composite_demand,
    normalised_weights,
)
from analytics.planning.projection import (
    to_xy,
)


@dataclass
class CameraReach:
    """(camera, cell) pairs within ``max_radius_m``, precomputed once for fast what-ifs."""

    cam: np.ndarray
    cell: np.ndarray
    dist: np.ndarray
    in_sector: np.ndarray
    factor: np.ndarray  # per camera: radius multiplier by type, shape (K,)
    own_radius: np.ndarray  # per camera: inventory view radius or NaN, shape (K,)
    max_radius_m: float
    n_cameras: int


def camera_reach(
    grid: Grid, cameras: pd.DataFrame, settings: CoverageSettings | None = None, max_radius_m: float = 600.0
) -> CameraReach:
    s = settings or CoverageSettings()
    cams = as_pandas(cameras)
    x, y = to_xy(cams["lon"], cams["lat"]) if len(cams) else (np.zeros(0), np.zeros(0))
    pi, ci, d = points_near(grid, x, y, max_radius_m)
    in_sector = np.ones(len(pi), dtype=bool)
    if s.fov_deg is not None and "heading_deg" in cams and len(pi):
        heading = cams["heading_deg"].to_numpy(dtype=float)[pi]
        bearing = np.degrees(np.arctan2(grid.x[ci] - x[pi], grid.y[ci] - y[pi])) % 360.0
        diff = np.abs((bearing - heading + 180.0) % 360.0 - 180.0)
        near = d <= grid.cell_m / math.sqrt(2)
        in_sector = np.isnan(heading) | (diff <= s.fov_deg / 2) | near
    types = cams["camera_type"].astype(str).str.lower() if "camera_type" in cams else pd.Series([""] * len(cams))
    factor = np.array([float(s.type_radius_factor.get(t, 1.0)) for t in types])
    own = cams["view_radius_m"].to_numpy(dtype=float) if "view_radius_m" in cams else np.full(len(cams), np.nan)
    return CameraReach(pi, ci, d, in_sector, factor, own, max_radius_m, len(cams))


def camera_radii(reach: CameraReach, radius_m: float, settings: CoverageSettings) -> np.ndarray:
    r = reach.factor * radius_m
    if settings.use_camera_view_radius:
        r = np.where(np.isnan(reach.own_radius), r, reach.own_radius)
    return np.minimum(r, reach.max_radius_m)


def covered_cells(
    grid: Grid, reach: CameraReach, radius_m: float, settings: CoverageSettings | None = None
) -> np.ndarray:
    """Boolean (C,): the cell centroid is seen by at least one existing camera."""
    s = settings or CoverageSettings()
    r = camera_radii(reach, radius_m, s)
    hit = (reach.dist <= r[reach.cam]) & reach.in_sector
    out = np.zeros(grid.n, dtype=bool)
    out[reach.cell[hit]] = True
    return out


# --------------------------------------------------------------------------------------------
# metrics
_LEVELS = {
    "kelurahan": ("kode_kelurahan", "nama_kelurahan"),
    "kecamatan": ("kode_kecamatan", "nama_kecamatan"),
    "kota": ("kode_kota", "nama_kota"),
}


def coverage_table(
    grid: Grid,
    layers: Layers,
    covered: np.ndarray,
    level: str = "kelurahan",
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Covered share of each layer by kelurahan / kecamatan / kota / city.

    Columns: <code>, <name>, layer, demand, covered, covered_share (NaN where demand is 0).
    ``layer == 'composite'`` is the weighted share (weights renormalised over active layers).
    """
    if level == "city":
        code_col, name_col = "kode", "nama"
        keys = np.zeros(len(grid.pair_kel), dtype=object)
        keys[:] = "31"
        names = {"31": "DKI Jakarta"}
    else:
        code_col, name_col = _LEVELS[level]
        kt = grid.kel_table
        keys = kt[code_col].to_numpy(dtype=object)[grid.pair_kel]
        names = dict(zip(kt[code_col], kt[name_col], strict=True))
    cov = covered[grid.pair_cell].astype(float)
    frames = []
    for name in LAYERS:
        df = pd.DataFrame({code_col: keys, "d": layers.pair[name], "c": layers.pair[name] * cov})
        g = df.dropna(subset=[code_col]).groupby(code_col, as_index=False)[["d", "c"]].sum()
        g["layer"] = name
        frames.append(g)
    out = pd.concat(frames, ignore_index=True).rename(columns={"d": "demand", "c": "covered"})
    if weights is not None:
        w = normalised_weights(layers, weights)
        totals = {k: float(layers.cell[k].sum()) for k in w}
        comp = out[out["layer"].isin(list(w))].copy()
        comp["d"] = comp.apply(lambda r: w[r["layer"]] * r["demand"] / totals[r["layer"]], axis=1)
        comp["c"] = comp.apply(lambda r: w[r["layer"]] * r["covered"] / totals[r["layer"]], axis=1)
        g = comp.groupby(code_col, as_index=False)[["d", "c"]].sum().rename(columns={"d": "demand", "c": "covered"})
        g["layer"] = "composite"
        out = pd.concat([out, g], ignore_index=True)
    out["covered_share"] = np.where(
        out["demand"] > 0, out["covered"] / out["demand"].where(out["demand"] > 0, 1), np.nan
    )
    out.insert(1, name_col, out[code_col].map(names))
    return out[[code_col, name_col, "layer", "demand", "covered", "covered_share"]].sort_values(
        [code_col, "layer"], ignore_index=True
    )


def city_coverage(layers: Layers, covered: np.ndarray, weights: Mapping[str, float]) -> dict[str, float]:
    """Covered share of each active layer over Jakarta, plus ``composite``."""
    out: dict[str, float] = {}
    for name in layers.active():
        out[name] = float(layers.cell[name][covered].sum() / layers.cell[name].sum())
    out["composite"] = float(composite_demand(layers, weights)[covered].sum())
    return out


def uncovered_hotspots(
    grid: Grid, layers: Layers, covered: np.ndarray, weights: Mapping[str, float], top: int = 20
) -> pd.DataFrame:
    """The ``top`` uncovered cells by composite demand, with their leading layer."""
    comp = composite_demand(layers, weights)
    w = normalised_weights(layers, weights)
    cand = np.flatnonzero(~covered & (comp > 0))
    order = cand[np.lexsort((cand, -comp[cand]))][:top]
    kt = grid.kel_table
    shares = (
        np.column_stack([w[k] * layers.cell[k][order] / layers.cell[k].sum() for k in w])
        if w
        else np.zeros((len(order), 0))
    )
    lead = [list(w)[i] for i in shares.argmax(axis=1)] if len(order) else []
    return pd.DataFrame(
        {
            "cell_id": grid.cell_ids(order),
            "lat": grid.lat[order],
            "lon": grid.lon[order],
            "kode_kelurahan": [kt["kode_kelurahan"].iloc[k] if k >= 0 else None for k in grid.kel[order]],
            "nama_kelurahan": [kt["nama_kelurahan"].iloc[k] if k >= 0 else None for k in grid.kel[order]],
            "composite": comp[order],
            "leading_layer": lead,
            **{f"demand_{k}": layers.cell[k][order] for k in LAYERS},
        }
    )
