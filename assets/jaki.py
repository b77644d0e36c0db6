"""Jaki assets: one per feature table (landing zone -> lake), the marts, and the panic -> camera signal.

Great Expectations runs as blocking asset checks: one check per expectation of the table's suite
(one property each) over the most recent rows, plus an exact row-accounting check; a failure stops
the marts downstream from materialising.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from assets.landing import landing_sensor
from ingest.jaki.ingest import JakiConfig, ingest_landing, pending_exports
from ingest.jaki.quality import accounting_report, recent_rows
from ingest.jaki.schemas import SPECS, TableSpec
from ingest.jaki.signals import panic_camera_requests
from ingest.jaki.validate import expectation_plan, run_ge
from marts.jaki import MARTS, refresh_mart, touched_days
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource

GROUP = "jaki"
MART_SOURCES = {
    "jaki_daily_usage": "jaki_usage_events",
    "jaki_complaints_summary": "jaki_complaints",
    "jaki_hospital_beds_daily": "jaki_hospital_beds",
    "jaki_parking_hourly": "jaki_parking_occupancy",
    "jaki_panic_hourly": "jaki_panic_button",
}


def _table_asset(spec: TableSpec) -> dg.AssetsDefinition:
    @dg.asset(name=spec.table, group_name=GROUP, kinds={"ducklake"}, description=spec.doc, deps=["lake_schema"])
    def _asset(lake: LakeResource, store: ObjectStoreResource, settings: SettingsResource) -> dg.MaterializeResult:
        config = JakiConfig(salt=settings.get().salt.get_secret_value())
        with lake.get_lake() as lk:
            stats = ingest_landing(lk, store.get_store(), config, tables=[spec.name])
        loaded = [s for s in stats if s.status == "loaded"]
        return dg.MaterializeResult(
            metadata={
                "files_loaded": len(loaded),
                "files_skipped": sum(s.status == "skipped" for s in stats),
                "files_rejected": sum(s.status == "rejected" for s in stats),
                "rows_read": sum(s.rows_read for s in loaded),
                "rows_accepted": sum(s.rows_accepted for s in loaded),
                "rows_quarantined": sum(s.rows_quarantined for s in loaded),
                "fields_redacted": sum(s.fields_redacted for s in loaded),
                "accounting_balanced": all(s.balanced for s in loaded),
                "rejected": dg.MetadataValue.md(
                    "\n".join(f"- {s.source_file}: {s.message}" for s in stats if s.status == "rejected") or "none"
                ),
            }
        )

    return _asset


def _table_checks(spec: TableSpec) -> dg.AssetChecksDefinition:
    plan = expectation_plan(spec, stored=True)
    specs = [
        dg.AssetCheckSpec(
            "row_accounting", asset=spec.table, blocking=True, description="read = accepted + quarantined"
        )
    ]
    specs += [
        dg.AssetCheckSpec(f"ge_{name}", asset=spec.table, blocking=True, description=f"Great Expectations {cls}")
        for name, cls, _col, _kw in plan
    ]

    @dg.multi_asset_check(specs=specs, name=f"{spec.table}_contract")
    def _checks(lake: LakeResource) -> Iterator[dg.AssetCheckResult]:
        with lake.get_lake() as lk:
            acc = accounting_report(lk, spec.table)
            rows = recent_rows(lk, spec)
        yield dg.AssetCheckResult(
            check_name="row_accounting", asset_key=spec.table, passed=acc["balanced"], metadata=acc
        )
        report = run_ge(rows, spec, stored=True, sample_rows=None)
        by_name = {o.name: o for o in report.outcomes}
        for name, *_ in plan:
            o = by_name[name]
            yield dg.AssetCheckResult(
                check_name=f"ge_{name}",
                asset_key=spec.table,
                passed=o.success,
                metadata={"rows_validated": report.rows_validated, "unexpected_count": o.unexpected_count or 0},
            )

    return _checks


class MartConfig(dg.Config):
    start_day: str = ""  # ISO date (WIB); empty = the days touched by the last ingests
    end_day: str = ""
    lookback_hours: int = 24


def _mart_asset(table: str) -> dg.AssetsDefinition:
    mart = next(m for m in MARTS if m.table == table)
    source = MART_SOURCES[table]

    @dg.asset(name=table, group_name=GROUP, kinds={"ducklake"}, deps=[source])
    def _asset(config: MartConfig, lake: LakeResource) -> dg.MaterializeResult:
        with lake.get_lake() as lk:
            if config.start_day:
                start = date.fromisoformat(config.start_day)
                end = date.fromisoformat(config.end_day or config.start_day)
            else:
                since = datetime.now(UTC) - timedelta(hours=config.lookback_hours)
                span = touched_days(lk, source, since)
                if span is None:
                    return dg.MaterializeResult(metadata={"rows": 0, "days": 0})
                start, end = span
            rows = refresh_mart(lk, mart, start, end)
        return dg.MaterializeResult(metadata={"rows": rows, "start_day": str(start), "end_day": str(end)})

    return _asset


class PanicSignalConfig(dg.Config):
    radius_m: float = 300.0
    lookback_hours: int = 24


@dg.asset(group_name=GROUP, kinds={"ducklake"}, deps=["jaki_panic_button", "cameras"])
def camera_priority_requests(config: PanicSignalConfig, lake: LakeResource) -> dg.MaterializeResult:
    """Immediate-frame requests at raised priority for cameras near each panic-button press."""
    since = datetime.now(UTC) - timedelta(hours=config.lookback_hours)
    with lake.get_lake() as lk:
        new = panic_camera_requests(lk, radius_m=config.radius_m, since=since)
    return dg.MaterializeResult(
        metadata={"new_requests": new.num_rows, "cameras": len(set(new.column("camera_id").to_pylist()))}
    )


table_assets = [_table_asset(s) for s in SPECS.values()]
mart_assets = [_mart_asset(t) for t in MART_SOURCES]
table_checks = [_table_checks(s) for s in SPECS.values()]

jaki_ingest_job = dg.define_asset_job("jaki_ingest", selection=dg.AssetSelection.groups(GROUP))


jaki_landing_sensor = landing_sensor(
    "jaki_landing_sensor", jaki_ingest_job, pending_exports, "Jaki exports in the landing zone", interval_s=60
)


defs = dg.Definitions(
    assets=[*table_assets, *mart_assets, camera_priority_requests],
    asset_checks=table_checks,
    jobs=[jaki_ingest_job],
    sensors=[jaki_landing_sensor],
)
