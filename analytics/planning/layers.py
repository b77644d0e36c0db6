"""Demand layers: the weighted layers (population, floods, fires, Jaki, crowd, facilities, public spaces), their
settings and
the composite demand per grid cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import shapely

from analytics.planning.grid import Grid, geoms_from_column, points_near
from analytics.planning.inputs import (
    PlanningInputs,
)
from analytics.planning.projection import (
    project_geometries,
    to_xy,
)

# settings
LAYERS: tuple[str, ...] = (
    "population",
    "flood_2024",
    "flood_2017",
    "fire_2024",
    "jaki_complaints",
    "jaki_panic",
    "crowd",
    "hospital",
    "floodgate",
    "public_space",
)

LAYER_UNITS: dict[str, str] = {
    "population": "residents",
    "flood_2024": "flood events 2024",
    "flood_2017": "state-weighted flooded km2 (Feb 2017)",
    "fire_2024": "fire incidents 2024",
    "jaki_complaints": "Jaki complaints",
    "jaki_panic": "panic-button presses",
    "crowd": "crowd-risk score (camera-hours)",
    "hospital": "hospital proximity score",
    "floodgate": "water-gate proximity score",
    "public_space": "public-space (RPTRA) proximity score",
}

DEFAULT_WEIGHTS: dict[str, float] = {
    "population": 0.25,
    "flood_2024": 0.15,
    "flood_2017": 0.10,
    "fire_2024": 0.15,
    "jaki_complaints": 0.075,
    "jaki_panic": 0.075,
    "crowd": 0.10,
    "hospital": 0.05,
    "floodgate": 0.05,
    "public_space": 0.05,
}


@dataclass(frozen=True)
class CoverageSettings:
    """Everything tunable in the coverage model; defaults are documented in docs/planning.md.

    ``weights`` need not sum to 1: they are renormalised over the layers that hold demand
    (a layer without data, e.g. Jaki before the Jaki feed lands, drops out with a note).
    """

    cell_m: float = 125.0
    radius_m: float = 150.0
    # multiplier of radius_m by camera type (column ``camera_type``); unknown types use 1.0
    type_radius_factor: Mapping[str, float] = field(
        default_factory=lambda: {"fixed": 1.0, "ptz": 1.0, "toll": 2.0, "streetside": 1.0, "balitower": 1.0}
    )
    # use the inventory's own view_radius_m where present (off: it is a catalogue default, not a survey)
    use_camera_view_radius: bool = False
    # viewing sector for cameras with a known heading (None = full circle for everyone)
    fov_deg: float | None = 90.0
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # PetaBencana max_state -> weight (1 unknown, 2 = 10-70 cm, 3 = 71-150 cm, 4 = > 150 cm)
    flood_state_weight: Mapping[int, float] = field(default_factory=lambda: {1: 0.5, 2: 1.0, 3: 2.0, 4: 3.0})
    # proximity layers: linear decay from 1 at the facility to 0 at this distance
    proximity_m: float = 500.0
    # observed crowd risk at a camera is spread over this distance (linear decay)
    crowd_spread_m: float = 400.0
    # a cell is part of Jakarta when at least this share of it lies inside a kelurahan
    min_inside_share: float = 0.01

    def with_weights(self, weights: Mapping[str, float] | None) -> CoverageSettings:
        if not weights:
            return self
        unknown = set(weights) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown layers in weights: {sorted(unknown)}; known: {LAYERS}")
        merged = dict(self.weights)
        merged.update({k: float(v) for k, v in weights.items()})
        if any(v < 0 for v in merged.values()):
            raise ValueError("weights must be >= 0")
        return replace(self, weights=merged)


@dataclass
class Layers:
    """Demand per layer in natural units: ``cell[layer]`` (C,) and ``pair[layer]`` (P,) per cell x kelurahan."""

    cell: dict[str, np.ndarray]
    pair: dict[str, np.ndarray]
    notes: list[str]

    def active(self) -> list[str]:
        return [name for name in LAYERS if float(self.cell[name].sum()) > 0]


def _kel_index(grid: Grid) -> dict[str, int]:
    return {c: i for i, c in enumerate(grid.kel_table["kode_kelurahan"]) if isinstance(c, str)}


def _by_area(grid: Grid, codes: Iterable[Any], values: Iterable[Any]) -> np.ndarray:
    """Kelurahan totals spread over the cell x kelurahan pairs in proportion to area -> (P,)."""
    idx = _kel_index(grid)
    per_kel = np.zeros(len(grid.kel_table))
    for code, v in zip(codes, values, strict=True):
        k = idx.get(code)
        if k is not None and v is not None and not (isinstance(v, float) and math.isnan(v)):
            per_kel[k] += float(v)
    kel_area = np.bincount(grid.pair_kel, weights=grid.pair_area, minlength=len(per_kel))
    share = np.divide(
        grid.pair_area, kel_area[grid.pair_kel], out=np.zeros(len(grid.pair_area)), where=kel_area[grid.pair_kel] > 0
    )
    return per_kel[grid.pair_kel] * share


def _cell_to_pairs(grid: Grid, cell_values: np.ndarray) -> np.ndarray:
    """Cell values split over the cell's kelurahan pairs by area -> (P,)."""
    share = grid.pair_area / grid.area_in[grid.pair_cell]
    return cell_values[grid.pair_cell] * share


def _points_to_cells(grid: Grid, lat: Any, lon: Any, weight: Any = None) -> np.ndarray:
    x, y = to_xy(lon, lat)
    cells = grid.locate(x, y)
    w = np.ones(len(cells)) if weight is None else np.asarray(weight, dtype=float)
    ok = cells >= 0
    return np.bincount(cells[ok], weights=w[ok], minlength=grid.n)


def _kernel(grid: Grid, lat: Any, lon: Any, radius_m: float, weight: Any = None) -> np.ndarray:
    """Sum over points of weight * max(0, 1 - d / radius) at each cell centroid -> (C,)."""
    x, y = to_xy(lon, lat)
    pi, ci, d = points_near(grid, x, y, radius_m)
    w = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=float)
    return np.bincount(ci, weights=w[pi] * (1.0 - d / radius_m), minlength=grid.n)


def _point_or_area_layer(grid: Grid, df: pd.DataFrame) -> np.ndarray:
    """Counts with a location go to their cell; counts with only a kelurahan code are spread by area."""
    if df is None or df.empty:
        return np.zeros(len(grid.pair_cell))
    n = df["n"].to_numpy(dtype=float) if "n" in df else np.ones(len(df))
    has_pt = np.zeros(len(df), dtype=bool)
    if {"lat", "lon"} <= set(df.columns):
        has_pt = df["lat"].notna().to_numpy() & df["lon"].notna().to_numpy()
    out = np.zeros(len(grid.pair_cell))
    if has_pt.any():
        pts = df[has_pt]
        out += _cell_to_pairs(grid, _points_to_cells(grid, pts["lat"], pts["lon"], n[has_pt]))
    code_col = next((c for c in ("kode_kelurahan", "kelurahan_code") if c in df), None)
    if code_col is not None and (~has_pt).any():
        out += _by_area(grid, df.loc[~has_pt, code_col], n[~has_pt])
    return out


def build_layers(grid: Grid, inputs: PlanningInputs, settings: CoverageSettings | None = None) -> Layers:
    """Every demand layer in natural units, on the cell x kelurahan pairs and on the cells."""
    s = settings or CoverageSettings()
    notes = list(inputs.notes)
    pair: dict[str, np.ndarray] = {}
    kel = grid.kel_table
    pair["population"] = _by_area(grid, kel["kode_kelurahan"], kel["population"].fillna(0).astype(float))
    fe = inputs.flood_events
    pair["flood_2024"] = (
        _by_area(grid, fe["kode_kelurahan"], fe["events"]) if not fe.empty else np.zeros(len(grid.pair_cell))
    )
    fi = inputs.fire
    pair["fire_2024"] = (
        _by_area(grid, fi["kode_kelurahan"], fi["incidents"]) if not fi.empty else np.zeros(len(grid.pair_cell))
    )

    ext = inputs.flood_extent
    flood17: np.ndarray = np.zeros(grid.n)
    if not ext.empty:
        polys = project_geometries(geoms_from_column(ext["geometry"]))
        w = np.array([s.flood_state_weight.get(int(v), 1.0) for v in ext["max_state"].fillna(1)])
        boxes = shapely.box(
            grid.x - grid.cell_m / 2, grid.y - grid.cell_m / 2, grid.x + grid.cell_m / 2, grid.y + grid.cell_m / 2
        )
        tree = shapely.STRtree(boxes)
        p_idx, c_idx = tree.query(polys, predicate="intersects")
        a = shapely.area(shapely.intersection(boxes[c_idx], polys[p_idx]))
        flood17 = np.bincount(c_idx, weights=w[p_idx] * a / 1e6, minlength=grid.n)
    pair["flood_2017"] = _cell_to_pairs(grid, flood17)

    pair["jaki_complaints"] = _point_or_area_layer(grid, inputs.jaki_complaints)
    pair["jaki_panic"] = _point_or_area_layer(grid, inputs.jaki_panic)

    crowd = np.zeros(grid.n)
    if not inputs.crowd.empty and not inputs.cameras.empty:
        cams = inputs.cameras.drop_duplicates("camera_id").merge(inputs.crowd, on="camera_id", how="inner")
        if not cams.empty:
            hours = cams["hours"].to_numpy(dtype=float) if "hours" in cams else np.ones(len(cams))
            crowd = _kernel(
                grid, cams["lat"], cams["lon"], s.crowd_spread_m, cams["crowd"].fillna(0).to_numpy(float) * hours
            )
    pair["crowd"] = _cell_to_pairs(grid, crowd)

    fac = inputs.facilities
    for layer, kind in (("hospital", "hospital"), ("floodgate", "floodgate"), ("public_space", "public_space")):
        cells = np.zeros(grid.n)
        if not fac.empty:
            sel = fac[fac["kind"] == kind]
            cells = _kernel(grid, sel["lat"], sel["lon"], s.proximity_m)
        pair[layer] = _cell_to_pairs(grid, cells)

    cell = {name: np.bincount(grid.pair_cell, weights=pair[name], minlength=grid.n) for name in LAYERS}
    for name in LAYERS:
        if float(cell[name].sum()) <= 0:
            notes.append(f"layer {name} holds no demand and is left out of the weighting")
    return Layers(cell=cell, pair=pair, notes=notes)


def normalised_weights(layers: Layers, weights: Mapping[str, float]) -> dict[str, float]:
    """Weights over the active layers, summing to 1."""
    active = layers.active()
    raw = {k: float(weights.get(k, 0.0)) for k in active}
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("all weights of layers holding demand are zero")
    return {k: v / total for k, v in raw.items()}


def composite_demand(layers: Layers, weights: Mapping[str, float]) -> np.ndarray:
    """Weighted sum of layer shares: each layer scaled to sum 1 over Jakarta -> (C,), sums to 1."""
    w = normalised_weights(layers, weights)
    out = np.zeros(len(next(iter(layers.cell.values()))))
    for k, wk in w.items():
        out += wk * layers.cell[k] / layers.cell[k].sum()
    return out
