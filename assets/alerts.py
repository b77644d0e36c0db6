"""Urgent alerts in Dagster: the sensor over the freshest frame scores, delivery retries, history export."""

import time
from datetime import timedelta
from pathlib import Path

import dagster as dg

from alerts.ack import AckLinks
from alerts.cap import CapSettings
from alerts.channels import ChannelRegistry, SmtpConfig, WebhookPolicy
from alerts.db import OpsDB
from alerts.engine import AlertEngine, decision_summary, kelurahan_geometry
from alerts.escalation import escalate_due
from alerts.export import export_alerts_to_lake, publish_cap_and_feed
from alerts.outbox import Dispatcher, DispatchStats, RetryPolicy, outbox_counts
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource
from orchestration.settings import PantauSettings
from warehouse.lake import LakeError

SENSOR_INTERVAL_S = 10


DISPATCH_BUDGET_S = 5.0


class AlertsOpsResource(SettingsResource):
    """The alerts operational DB (SQLite in data_dir, or PostgreSQL) and the delivery channels.

    Unset fields take the platform settings (``PANTAU_*`` over the ``PANTAU_CONFIG`` file) loaded when a run or
    sensor starts.
    """

    ops_db_url: str = ""
    allow_private_webhooks: bool | None = None
    allow_http_webhooks: bool | None = None
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_sender: str = ""
    mqtt_broker: str = ""
    max_attempts: int = 8

    def ack_links(self) -> AckLinks:
        """Signed, expiring acknowledgement links served by the open-data API (``/alerts/<id>/ack``)."""
        from orchestration.settings import load_settings

        s = load_settings(data_dir=Path(self.data_dir) if self.data_dir else None)
        return AckLinks(s.ack_secret.get_secret_value(), s.open_data_base_url, timedelta(hours=s.ack_link_hours))

    def public_base_url(self) -> str:
        """The open-data API's address, under which CAP links to blurred keyframes resolve."""
        return self.get().open_data_base_url

    def resolved(self) -> PantauSettings:
        """The settings with this resource's set fields applied over them."""
        texts = ("ops_db_url", "smtp_host", "smtp_sender", "mqtt_broker")
        update: dict[str, object] = {f: getattr(self, f) for f in texts if getattr(self, f)}
        for flag in ("allow_private_webhooks", "allow_http_webhooks"):
            if getattr(self, flag) is not None:
                update[flag] = getattr(self, flag)
        if self.smtp_port:
            update["smtp_port"] = self.smtp_port
        return self.get().model_copy(update=update)

    def url(self) -> str:
        return self.resolved().resolved_ops_db_url()

    def get_ops(self) -> OpsDB:
        return OpsDB(self.url())

    def channels(self) -> ChannelRegistry:
        s = self.resolved()
        schemes = ("https", "http") if s.allow_http_webhooks else ("https",)
        return ChannelRegistry.default(
            webhook_policy=WebhookPolicy(allowed_schemes=schemes, allow_private=s.allow_private_webhooks),
            smtp=SmtpConfig(host=s.smtp_host, port=s.smtp_port, sender=s.smtp_sender),
            mqtt_broker=s.mqtt_broker,
            outbox_dir=Path(s.data_dir) / "outbox",
        )

    def dispatch(self, ops: OpsDB, budget_s: float = DISPATCH_BUDGET_S) -> DispatchStats:
        """Deliver what is due now, within a time budget (the rest waits for the retry sensor)."""
        channels = self.channels()
        dispatcher = Dispatcher(ops, channels, RetryPolicy(max_attempts=self.max_attempts), ack_links=self.ack_links())
        total = DispatchStats()
        deadline = time.monotonic() + budget_s
        try:
            while time.monotonic() < deadline:
                st = dispatcher.run_once()
                total.add(st)
                if st.claimed == 0:
                    break
        finally:
            dispatcher.close()
            channels.close()
        return total


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
        escalated = escalate_due(
            ops, cap_settings=engine.lifecycle.cap, geometry_lookup=engine.lifecycle.geometry_lookup
        )
        stats = ops_db.dispatch(ops)
        summary = decision_summary(result)
        return dg.SkipReason(
            f"{summary['rows']} rows, {len(result.transitions)} transitions, {len(escalated)} escalated, "
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


alert_history_job = dg.define_asset_job("alert_history_job", selection=[alert_history])
alert_history_schedule = dg.ScheduleDefinition(
    job=alert_history_job,
    cron_schedule="*/5 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[alert_history],
    sensors=[urgent_alert_sensor, alert_delivery_retry_sensor],
    jobs=[alert_history_job],
    schedules=[alert_history_schedule],
)
