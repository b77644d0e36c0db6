"""Reference-data assets: one asset per lake table, loaded from the shipped Jakarta files."""

from collections.abc import Sequence
from typing import Any

import dagster as dg

from access.roles import system
from ingest.reference import loaders as L
from ingest.reference.pipeline import build_reference_tables, write_table
from ingest.registry.audit import audit_registry_changes
from ingest.registry.secrets import has_credentials
from orchestration.resources import LakeResource
from warehouse.migrations import migrate

GROUP = "reference"
SQL_STREAM_URLS = "SELECT stream_url FROM cameras WHERE stream_url LIKE '%@%'"
SQL_CAMERAS_WITHOUT_ONE_CURRENT_VERSION = (
    "SELECT count(*) FROM cameras c WHERE (SELECT count(*) FROM camera_versions v "
    "WHERE v.camera_id = c.camera_id AND v.valid_to IS NULL) <> 1"
)


@dg.asset(group_name=GROUP, description="Applies pending lake schema migrations.")
def lake_schema(lake: LakeResource) -> dg.MaterializeResult:
    with lake.get_lake() as lk:
        applied = migrate(lk)
        tables = len(lk.tables())
    return dg.MaterializeResult(metadata={"applied": applied, "tables": tables})


@dg.multi_asset(
    group_name=GROUP,
    specs=[
        dg.AssetSpec(name, group_name=GROUP, description=desc, kinds={"ducklake"}, deps=[lake_schema])
        for name, desc in [
            ("kota", "5 kota administrasi with Kemendagri codes and boundaries"),
            ("kecamatan", "42 mainland kecamatan"),
            ("kelurahan", "267 kelurahan: codes, Dukcapil 2019 population, boundaries"),
            ("cameras", "1,289 CCTV sites, each assigned its kelurahan by point-in-polygon"),
            ("camera_channels", "50 public HLS channels of the Jakarta CCTV directory"),
            ("flood_events_2024", "BPBD flood events per kelurahan and month, 2024"),
            ("fire_incidents_2024", "Fire incidents per kelurahan by cause, 2024"),
            ("flood_extent_2017", "RW polygons flooded in February 2017 (PetaBencana), max depth class"),
            ("flood_reports_2017", "Citizen flood reports of 21 Feb 2017 (point, depth; no text)"),
            ("facilities", "Hospitals, puskesmas, floodgates, pumps and public spaces (RPTRA)"),
            ("water_gate_thresholds", "DSDA water-gate Siaga thresholds"),
            ("hospital_capacity", "Kemenkes RS Online hospital list with beds"),
            ("parking_locations", "Parking locations with capacity"),
            ("reference_issues", "Every reference row that was excluded, fixed or flagged, with the reason"),
        ]
    ],
)
def reference_tables(context: dg.AssetExecutionContext, lake: LakeResource):  # type: ignore[no-untyped-def]
    results = build_reference_tables()
    issues: list[L.RefIssue] = []
    ops_db_url = lake.get().resolved_ops_db_url()

    def audit(changes: Sequence[Any]) -> int:  # seeded cameras: one audit row each, as role system
        return audit_registry_changes(ops_db_url, changes, system("reference-load"))

    with lake.get_lake() as lk:
        for table, res in results.items():
            write_table(lk, table, res, audit)
            issues += res.issues
            yield dg.MaterializeResult(
                asset_key=table,
                metadata={
                    "rows": res.table.num_rows,
                    "source_rows": res.source_rows,
                    "issues": len(res.issues),
                },
            )
        lk.replace("reference_issues", L.issues_table(issues))
    yield dg.MaterializeResult(asset_key="reference_issues", metadata={"rows": len(issues)})


@dg.asset_check(asset="cameras", blocking=True, description="Every camera inside Jakarta has a kelurahan.")
def cameras_have_kelurahan(lake: LakeResource) -> dg.AssetCheckResult:
    with lake.get_lake() as lk:
        missing = lk.scalar(
            "SELECT count(*) FROM cameras WHERE kelurahan_code IS NULL AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
            [L.JAKARTA_BBOX[1], L.JAKARTA_BBOX[3], L.JAKARTA_BBOX[0], L.JAKARTA_BBOX[2]],
        )
    return dg.AssetCheckResult(passed=missing == 0, metadata={"cameras_without_kelurahan": int(missing)})


@dg.asset_check(
    asset="cameras",
    blocking=True,
    description="Camera registry: no stream URL carries credentials, every camera has exactly one current version.",
)
def cameras_registry_consistent(lake: LakeResource) -> dg.AssetCheckResult:
    with lake.get_lake() as lk:
        with_credentials = sum(has_credentials(u) for u in lk.query(SQL_STREAM_URLS).column("stream_url").to_pylist())
        bad_versions = int(lk.scalar(SQL_CAMERAS_WITHOUT_ONE_CURRENT_VERSION) or 0)
    return dg.AssetCheckResult(
        passed=with_credentials == 0 and bad_versions == 0,
        metadata={
            "stream_urls_with_credentials": with_credentials,
            "cameras_without_one_current_version": bad_versions,
        },
    )


@dg.asset_check(asset="kelurahan", blocking=True, description="Kelurahan codes are unique Kemendagri codes.")
def kelurahan_codes_unique(lake: LakeResource) -> dg.AssetCheckResult:
    with lake.get_lake() as lk:
        dupes = lk.scalar("SELECT count(*) FROM (SELECT kode_kelurahan FROM kelurahan GROUP BY 1 HAVING count(*) > 1)")
    return dg.AssetCheckResult(passed=dupes == 0, metadata={"duplicate_codes": int(dupes)})


defs = dg.Definitions(
    assets=[lake_schema, reference_tables],
    asset_checks=[cameras_have_kelurahan, cameras_registry_consistent, kelurahan_codes_unique],
    jobs=[dg.define_asset_job("reference_job", selection=dg.AssetSelection.groups(GROUP))],
)
