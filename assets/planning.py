"""Planning assets: coverage of today's cameras and ranked sites for the next ones."""

import json
from datetime import UTC, datetime

import dagster as dg

from analytics.planning import CoverageSettings, PlanningModel, placement_geojson
from orchestration.resources import LakeResource, ObjectStoreResource

GROUP = "planning"
GEOJSON_KEY = "planning/placement_candidates.geojson"
REFERENCE_DEPS = ["kelurahan", "cameras", "flood_events_2024", "fire_incidents_2024", "flood_extent_2017", "facilities"]


class PlanningConfig(dg.Config):
    budget: int = 100
    radius_m: float = 150.0
    method: str = "auto"  # auto (exact, CBC with time limit, warm-started by greedy) | exact | greedy | lazy
    time_limit_s: float = 60.0
    cell_m: float = 125.0


@dg.multi_asset(
    group_name=GROUP,
    specs=[
        dg.AssetSpec(
            "coverage_kelurahan",
            group_name=GROUP,
            kinds={"ducklake"},
            deps=REFERENCE_DEPS,
            description="Covered share of each demand layer per kelurahan for today's cameras",
        ),
        dg.AssetSpec(
            "placement_candidates",
            group_name=GROUP,
            kinds={"ducklake"},
            deps=REFERENCE_DEPS,
            description="Ranked sites for the next cameras (maximal covering location problem)",
        ),
    ],
)
def planning_marts(
    context: dg.AssetExecutionContext, config: PlanningConfig, lake: LakeResource, store: ObjectStoreResource
):  # type: ignore[no-untyped-def]
    with lake.get_lake() as lk:
        model = PlanningModel.build(lk, CoverageSettings(cell_m=config.cell_m, radius_m=config.radius_m))
        now = datetime.now(UTC)
        result = model.plan(
            config.budget,
            config.radius_m,
            method=config.method,
            time_limit_s=config.time_limit_s,
            run_id=context.run_id,
        )
        cov = model.coverage_kelurahan(config.radius_m).assign(
            cell_m=config.cell_m, run_id=context.run_id, computed_at=now
        )
        lk.replace("coverage_kelurahan", cov)
        yield dg.MaterializeResult(
            asset_key="coverage_kelurahan",
            metadata={
                "rows": len(cov),
                "composite_covered_share": result.before.get("composite", 0.0),
                "notes": "; ".join(model.notes),
            },
        )
        cand = result.candidates.assign(
            objective=result.objective, upper_bound=result.upper_bound, optimal=result.optimal, created_at=now
        )
        lk.replace("placement_candidates", cand)
        uri = store.get_store().put_bytes(
            GEOJSON_KEY, json.dumps(placement_geojson(result.candidates)).encode(), "application/geo+json"
        )
        yield dg.MaterializeResult(
            asset_key="placement_candidates",
            metadata={
                "sites": len(cand),
                "method": result.method,
                "objective": result.objective,
                "upper_bound": result.upper_bound,
                "optimal": result.optimal,
                "composite_before": result.before.get("composite", 0.0),
                "composite_after": result.after.get("composite", 0.0),
                **{f"baseline_{k}": v for k, v in result.baselines.items()},
                "geojson": uri,
                "seconds": result.seconds,
            },
        )


@dg.asset_check(
    asset="placement_candidates", description="Ranks are 1..n, every site has a kelurahan, no site repeats."
)
def placement_candidates_valid(lake: LakeResource) -> dg.AssetCheckResult:
    with lake.get_lake() as lk:
        t = lk.query("SELECT rank, site_id, kode_kelurahan FROM placement_candidates ORDER BY rank").to_pydict()
    n = len(t["rank"])
    ok_rank = t["rank"] == list(range(1, n + 1))
    missing = sum(1 for k in t["kode_kelurahan"] if not k)
    dupes = n - len(set(t["site_id"]))
    return dg.AssetCheckResult(
        passed=bool(n and ok_rank and missing == 0 and dupes == 0),
        metadata={"sites": n, "ranks_contiguous": ok_rank, "without_kelurahan": missing, "duplicates": dupes},
    )


defs = dg.Definitions(
    assets=[planning_marts],
    asset_checks=[placement_candidates_valid],
    jobs=[dg.define_asset_job("planning_job", selection=dg.AssetSelection.groups(GROUP))],
)
