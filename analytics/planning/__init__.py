"""CCTV coverage and placement planning for Jakarta.

* ``projection``: local equirectangular projection in metres (no projection library needed).
* ``inputs``: the tables the model needs, from the lake (:func:`load_inputs_from_lake`, any object with
  ``query(sql) -> pyarrow.Table`` and ``tables()``) or the reference files (:func:`load_inputs_from_files`).
* ``grid``: the square demand grid (default 125 m cells) clipped to the kelurahan polygons.
* ``layers``: weighted demand layers and their settings (:class:`CoverageSettings`).
* ``coverage``: which cells today's cameras see, covered shares per area, uncovered hotspots.
* ``mclp``: the maximal covering location problem: ``exact`` (CBC, offline from the PuLP wheel), ``greedy``
  (within 1 - 1/e of the optimum; ``lazy`` = CELF) with a data-dependent bound, ``random`` and ``populous``
  baselines.
* ``model``: :class:`PlanningModel` (built once, then fast what-ifs), :class:`PlanResult`, :func:`what_if`,
  :func:`run_plan`; ``export``: candidates as GeoJSON.

Pure computation (numpy, shapely 2, pandas, pulp); never imports dagster or streamlit. Printing a plan is the
CLI's job (``orchestration/plan_report.py``). See docs/planning.md.
"""

from analytics.planning.coverage import (
    CameraReach,
    camera_radii,
    camera_reach,
    city_coverage,
    coverage_table,
    covered_cells,
    uncovered_hotspots,
)
from analytics.planning.export import (
    placement_geojson,
)
from analytics.planning.grid import (
    Grid,
    build_grid,
    disc_offsets,
    points_near,
)
from analytics.planning.inputs import (
    LakeLike,
    PlanningInputs,
    as_pandas,
    default_reference_dir,
    load_inputs,
    load_inputs_from_files,
    load_inputs_from_lake,
    match_kelurahan_codes,
    norm_name,
)
from analytics.planning.layers import (
    DEFAULT_WEIGHTS,
    LAYER_UNITS,
    LAYERS,
    CoverageSettings,
    Layers,
    build_layers,
    composite_demand,
    normalised_weights,
)
from analytics.planning.mclp import (
    GREEDY_RATIO,
    METHODS,
    Problem,
    Selection,
    exact,
    greedy,
    grid_problem,
    order_by_gain,
    populous_baseline,
    random_baseline,
    sequential_gains,
)
from analytics.planning.model import (
    PlanningModel,
    PlanResult,
    run_plan,
    what_if,
)
from analytics.planning.projection import (
    LAT0,
    LON0,
    M_PER_DEG_LAT,
    M_PER_DEG_LON,
    project_geometries,
    to_lonlat,
    to_xy,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "GREEDY_RATIO",
    "LAT0",
    "LAYERS",
    "LAYER_UNITS",
    "LON0",
    "METHODS",
    "M_PER_DEG_LAT",
    "M_PER_DEG_LON",
    "CameraReach",
    "CoverageSettings",
    "Grid",
    "LakeLike",
    "Layers",
    "PlanResult",
    "PlanningInputs",
    "PlanningModel",
    "Problem",
    "Selection",
    "as_pandas",
    "build_grid",
    "build_layers",
    "camera_radii",
    "camera_reach",
    "city_coverage",
    "composite_demand",
    "coverage_table",
    "covered_cells",
    "default_reference_dir",
    "disc_offsets",
    "exact",
    "greedy",
    "grid_problem",
    "load_inputs",
    "load_inputs_from_files",
    "load_inputs_from_lake",
    "match_kelurahan_codes",
    "norm_name",
    "normalised_weights",
    "order_by_gain",
    "placement_geojson",
    "points_near",
    "populous_baseline",
    "project_geometries",
    "random_baseline",
    "run_plan",
    "sequential_gains",
    "to_lonlat",
    "to_xy",
    "uncovered_hotspots",
    "what_if",
]
