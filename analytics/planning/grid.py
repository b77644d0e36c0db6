"""The demand grid: square cells (default 125 m) anchored on the projection origin, clipped to the kelurahan.

Cell ids are stable between runs. See docs/planning.md for why a square grid rather than H3 and why 125 m.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from analytics.planning.inputs import (
    as_pandas,
)
from analytics.planning.projection import (
    project_geometries,
    to_lonlat,
)


@dataclass
class Grid:
    """Square demand cells clipped to Jakarta.

    Arrays of shape (C,) per cell: ix, iy (integer cell index from the projection origin), x, y
    (centroid, metres), lon, lat, area_in (m2 inside Jakarta), kel (dominant kelurahan index or -1),
    candidate (centroid inside Jakarta: may host a new camera). Pairs (P,) pair_cell, pair_kel,
    pair_area are the cell x kelurahan intersections used to distribute kelurahan totals.
    ``raster`` (ny, nx) maps raster position -> cell index (-1 outside).
    """

    cell_m: float
    ix: np.ndarray
    iy: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    area_in: np.ndarray
    kel: np.ndarray
    candidate: np.ndarray
    pair_cell: np.ndarray
    pair_kel: np.ndarray
    pair_area: np.ndarray
    kel_table: pd.DataFrame
    kel_geoms_xy: np.ndarray
    ix0: int
    iy0: int
    raster: np.ndarray

    @property
    def n(self) -> int:
        return len(self.x)

    def cell_ids(self, idx: Any = None) -> np.ndarray:
        ix = self.ix if idx is None else self.ix[idx]
        iy = self.iy if idx is None else self.iy[idx]
        return np.array([f"g{int(self.cell_m)}_{a}_{b}" for a, b in zip(ix, iy, strict=True)], dtype=object)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell index for points in metres (-1 outside the grid), shape (N,)."""
        ix = np.floor(np.asarray(x) / self.cell_m).astype(np.int64) - self.ix0
        iy = np.floor(np.asarray(y) / self.cell_m).astype(np.int64) - self.iy0
        ny, nx = self.raster.shape
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.full(len(ix), -1, dtype=np.int64)
        out[ok] = self.raster[iy[ok], ix[ok]]
        return out

    def kel_codes(self) -> np.ndarray:
        codes = self.kel_table["kode_kelurahan"].to_numpy(dtype=object)
        return np.array([codes[k] if k >= 0 else None for k in self.kel], dtype=object)


def geoms_from_column(values: Iterable[Any]) -> np.ndarray:
    texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
    geoms = shapely.from_geojson(texts)
    return shapely.make_valid(geoms)


def build_grid(kelurahan: pd.DataFrame, cell_m: float = 125.0, min_inside_share: float = 0.01) -> Grid:
    """Regular grid of ``cell_m`` squares over the kelurahan polygons (vectorised shapely 2)."""
    kel = as_pandas(kelurahan).reset_index(drop=True)
    geoms = project_geometries(geoms_from_column(kel["geometry"]))
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    ix0, iy0 = math.floor(minx / cell_m), math.floor(miny / cell_m)
    ix1, iy1 = math.ceil(maxx / cell_m), math.ceil(maxy / cell_m)
    nx, ny = ix1 - ix0, iy1 - iy0
    mx, my = np.meshgrid(np.arange(ix0, ix1), np.arange(iy0, iy1))
    gx, gy = mx.ravel(), my.ravel()
    boxes = shapely.box(gx * cell_m, gy * cell_m, (gx + 1) * cell_m, (gy + 1) * cell_m)
    shapely.prepare(geoms)
    tree = shapely.STRtree(geoms)
    b_idx, k_idx = tree.query(boxes, predicate="intersects")
    inside = shapely.contains_properly(geoms[k_idx], boxes[b_idx])
    area = np.full(len(b_idx), cell_m * cell_m)
    edge = ~inside
    area[edge] = shapely.area(shapely.intersection(boxes[b_idx[edge]], geoms[k_idx[edge]]))
    keep_pair = area > 0
    b_idx, k_idx, area = b_idx[keep_pair], k_idx[keep_pair], area[keep_pair]
    area_in = np.bincount(b_idx, weights=area, minlength=len(boxes))
    keep = area_in >= min_inside_share * cell_m * cell_m
    cells = np.flatnonzero(keep)
    remap = np.full(len(boxes), -1, dtype=np.int64)
    remap[cells] = np.arange(len(cells))
    pmask = keep[b_idx]
    pair_cell, pair_kel, pair_area = remap[b_idx[pmask]], k_idx[pmask].astype(np.int64), area[pmask]
    # dominant kelurahan per cell: largest intersection among polygons with a Kemendagri code
    # (ties -> lowest index, deterministic); cells only in an uncoded polygon (the TMII enclave)
    # take the nearest coded kelurahan.
    coded = kel["kode_kelurahan"].notna().to_numpy() if "kode_kelurahan" in kel else np.ones(len(kel), dtype=bool)
    order = np.lexsort((pair_kel, -pair_area, ~coded[pair_kel], pair_cell))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair_cell[order][1:] != pair_cell[order][:-1]
    dom = np.full(len(cells), -1, dtype=np.int64)
    dom[pair_cell[order][first]] = pair_kel[order][first]
    cx, cy = (gx[cells] + 0.5) * cell_m, (gy[cells] + 0.5) * cell_m
    orphan = np.flatnonzero((dom >= 0) & ~coded[np.maximum(dom, 0)])
    if len(orphan) and coded.any():
        coded_idx = np.flatnonzero(coded)
        _, near = shapely.STRtree(geoms[coded_idx]).query_nearest(
            shapely.points(cx[orphan], cy[orphan]), all_matches=False
        )
        dom[orphan] = coded_idx[near]
    pts = shapely.points(cx, cy)
    p_idx, _ = tree.query(pts, predicate="within")
    cand = np.zeros(len(cells), dtype=bool)
    cand[p_idx] = True
    lon, lat = to_lonlat(cx, cy)
    raster = np.full((ny, nx), -1, dtype=np.int64)
    raster[gy[cells] - iy0, gx[cells] - ix0] = np.arange(len(cells))
    return Grid(
        cell_m=float(cell_m),
        ix=gx[cells],
        iy=gy[cells],
        x=cx,
        y=cy,
        lon=lon,
        lat=lat,
        area_in=area_in[cells],
        kel=dom,
        candidate=cand,
        pair_cell=pair_cell,
        pair_kel=pair_kel,
        pair_area=pair_area,
        kel_table=kel.drop(columns=["geometry"]),
        kel_geoms_xy=geoms,
        ix0=ix0,
        iy0=iy0,
        raster=raster,
    )


def disc_offsets(radius_m: float, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raster offsets (dx, dy) whose cell centroids lie within ``radius_m`` of a centroid, and their distance."""
    r = math.floor(radius_m / cell_m + 1e-9)
    dx, dy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    dist = np.hypot(dx, dy).ravel() * cell_m
    ok = dist <= radius_m + 1e-6
    return dx.ravel()[ok], dy.ravel()[ok], dist[ok]


def points_near(grid: Grid, x: np.ndarray, y: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (point, cell) pairs with the cell centroid within ``radius_m`` of the point.

    x, y: (N,) metres. Returns (point_idx (M,), cell_idx (M,), distance_m (M,)).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    c = grid.cell_m
    r = math.ceil(radius_m / c) + 1
    mx, my = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    ox, oy = mx.ravel(), my.ravel()
    pix = np.floor(x / c).astype(np.int64)
    piy = np.floor(y / c).astype(np.int64)
    cix = pix[:, None] + ox[None, :] - grid.ix0
    ciy = piy[:, None] + oy[None, :] - grid.iy0
    ny, nx = grid.raster.shape
    ok = (cix >= 0) & (cix < nx) & (ciy >= 0) & (ciy < ny)
    cell = np.full(cix.shape, -1, dtype=np.int64)
    cell[ok] = grid.raster[ciy[ok], cix[ok]]
    pi, oi = np.nonzero(cell >= 0)
    cells = cell[pi, oi]
    dist = np.hypot(grid.x[cells] - x[pi], grid.y[cells] - y[pi])
    near = dist <= radius_m
    return pi[near], cells[near], dist[near]
