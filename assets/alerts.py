"""Urgent alerts in Dagster: the sensor over the freshest frame scores, delivery retries, history export."""

import dagster as dg

from alerts.cap import CapSettings
from alerts.engine import AlertEngine, decision_summary, kelurahan_geometry
from alerts.escalation import escalate_due
from alerts.export import export_alerts_to_lake, publish_cap_and_feed
from alerts.outbox import outbox_counts
from alerts.panic import raise_panic_alerts
from marts.alerts import refresh_alert_ack_mart
from orchestration.resources import AlertsOpsResource, LakeResource, ObjectStoreResource
from warehouse.lake import LakeError

SENSOR_INTERVAL_S = 10


@dg.sensor(minimum_interval_seconds=SENSOR_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def urgent_alert_sensor(
    context: dg.SensorEvaluationContext, lake: LakeResource, ops_db: AlertsOpsResource
) -> dg.SkipReason:
    """Freshest frame_scores -> rules -> alert transitions + outbox -> deliveries (cursor: captured_at)."""
    try:
        lk = lake.get_lake(read_only=True)
        lk.tables()
    except LakeError as exc:
        return dg.SkipReason(f"no lake yet: {exc}")
    ops = ops_db.get_ops()
    try:
        engine = AlertEngine(ops, lk, cap_settings=CapSettings(public_base_url=ops_db.public_base_url()))
        result = engine.run_cycle(context.cursor or None)
        if result.cursor:
            context.update_cursor(result.cursor)
        panic = raise_panic_alerts(engine)
        escalated = escalate_due(
            ops, cap_settings=engine.lifecycle.cap, geometry_lookup=engine.lifecycle.geometry_lookup
        )
        stats = ops_db.dispatch(ops)
        summary = decision_summary(result)
        return dg.SkipReason(
            f"{summary['rows']} rows, {len(result.transitions)} transitions, {len(panic.transitions)} panic, "
            f"{len(escalated)} escalated, "
            f"{stats.sent} sent, "
            f"{stats.failed} failed, {stats.dead} dead; cursor {result.cursor}"
        )
    finally:
        lk.close()
        ops.dispose()


@dg.sensor(minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def alert_delivery_retry_sensor(context: dg.SensorEvaluationContext, ops_db: AlertsOpsResource) -> dg.SkipReason:
    """Retries due deliveries (exponential backoff with jitter) and dead-letters after the limit."""
    ops = ops_db.get_ops()
    try:
        stats = ops_db.dispatch(ops, budget_s=10.0)
        return dg.SkipReason(
            f"sent {stats.sent}, failed {stats.failed}, dead {stats.dead}; outbox {outbox_counts(ops)}"
        )
    finally:
        ops.dispose()


@dg.asset(group_name="alerts", compute_kind="sqlalchemy")
def alert_history(
    context: dg.AssetExecutionContext, lake: LakeResource, store: ObjectStoreResource, ops_db: AlertsOpsResource
) -> dg.MaterializeResult:
    """Alert transitions and deliveries exported to the lake; CAP files and the Atom feed published."""
    ops = ops_db.get_ops()
    lk = lake.get_lake()
    try:
        exported = export_alerts_to_lake(ops, lk)
        feed = publish_cap_and_feed(
            ops, store.get_store(), base_url=store.public_base_url(), geometry=kelurahan_geometry(lk)
        )
        counts = outbox_counts(ops)
    finally:
        lk.close()
        ops.dispose()
    return dg.MaterializeResult(
        metadata={
            **exported.as_metadata(),
            **{f"outbox_{k}": v for k, v in counts.items()},
            "active_alerts": feed["active"],
            "feed_uri": feed["feed_uri"],
        }
    )


@dg.asset(group_name="alerts", compute_kind="duckdb", deps=[alert_history])
def alert_ack_daily(lake: LakeResource) -> dg.MaterializeResult:
    """Time to acknowledge per WIB day, acknowledging agency and hazard (median, p90, max; unacknowledged counted)."""
    lk = lake.get_lake()
    try:
        rows = refresh_alert_ack_mart(lk)
    finally:
        lk.close()
    return dg.MaterializeResult(metadata={"rows": rows})


alert_history_job = dg.define_asset_job("alert_history_job", selection=[alert_history, alert_ack_daily])
alert_history_schedule = dg.ScheduleDefinition(
    job=alert_history_job,
    cron_schedule="*/5 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[alert_history, alert_ack_daily],
    sensors=[urgent_alert_sensor, alert_delivery_retry_sensor],
    jobs=[alert_history_job],
    schedules=[alert_history_schedule],
)
