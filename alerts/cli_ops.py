"""Pure functions behind ``pantau subscribe ...`` and ``pantau alerts ...``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from access.roles import Principal, Role
from alerts.allowlist import allow_webhook_target, disallow_webhook_target, list_webhook_allowlist, webhook_policy
from alerts.channels import ChannelRegistry, SmtpConfig
from alerts.db import OpsDB
from alerts.lifecycle import AlertLifecycle, TransitionResult, list_alerts
from alerts.outbox import Dispatcher, DispatchStats, RetryPolicy, outbox_counts
from alerts.subscriptions import SubscriptionSpec, add_subscription, list_subscriptions, remove_subscription


def cli_principal(name: str) -> Principal:
    """Whoever runs the CLI holds the operational DB's file or DSN: the installation's admin.

    The name (``--by``) and the operating-system account are both recorded in the audit log.
    """
    import getpass

    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):
        os_user = "unknown"
    return Principal((name or os_user).strip() or os_user, Role.ADMIN, f"cli:{os_user}"[:32])


def subscribe_add(
    ops_db_url: str,
    *,
    name: str,
    channel: str,
    target: str,
    kind: str = "area",
    hazard: str | None = None,
    area_type: str | None = None,
    area_code: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    radius_m: float | None = None,
    min_level: str = "Waspada",
    fmt: str = "json",
    secret: str | None = None,
    allow_http: bool = False,
    by: str = "",
) -> dict[str, Any]:
    """Add a subscription; returns the stored row (including a generated webhook secret)."""
    ops = OpsDB(ops_db_url)
    try:
        spec = SubscriptionSpec(
            name=name,
            channel=channel,
            target=target,
            kind=kind,
            hazard=hazard,
            area_type=area_type,
            area_code=area_code,
            lat=lat,
            lon=lon,
            radius_m=radius_m,
            min_level=min_level,
            format=fmt,
            secret=secret,
        )
        return add_subscription(
            ops,
            spec,
            webhook_policy=webhook_policy(ops, allow_http=allow_http),
            by=cli_principal(by),
        )
    finally:
        ops.dispose()


def subscribe_list(
    ops_db_url: str, *, include_inactive: bool = False, hazard: str | None = None
) -> list[dict[str, Any]]:
    ops = OpsDB(ops_db_url)
    try:
        return list_subscriptions(ops, include_inactive=include_inactive, hazard=hazard)
    finally:
        ops.dispose()


def subscribe_remove(ops_db_url: str, subscription_id: str, *, by: str = "") -> bool:
    ops = OpsDB(ops_db_url)
    try:
        return remove_subscription(ops, subscription_id, by=cli_principal(by))
    finally:
        ops.dispose()


def subscriptions_table(rows: Sequence[dict[str, Any]]) -> Table:
    t = Table(title="Pantau subscriptions")
    for col in ("id", "name", "kind", "hazard", "area", "min level", "channel", "target", "active"):
        t.add_column(col)
    for r in rows:
        if r["area_type"] == "point":
            area = f"point {r['lat']:.5f},{r['lon']:.5f} r={r['radius_m']:.0f} m"
        elif r["area_type"]:
            area = f"{r['area_type']} {r['area_code']}"
        else:
            area = "DKI Jakarta"
        t.add_row(
            r["subscription_id"],
            r["name"],
            r["kind"],
            r["hazard"] or "all",
            area,
            r["min_level"],
            r["channel"],
            r["target"],
            "yes" if r["active"] else "no",
        )
    return t


def alerts_list(ops_db_url: str, *, active_only: bool = True) -> list[dict[str, Any]]:
    ops = OpsDB(ops_db_url)
    try:
        return list_alerts(ops, active_only=active_only)
    finally:
        ops.dispose()


def alerts_table(rows: Sequence[dict[str, Any]]) -> Table:
    t = Table(title="Pantau alerts")
    for col in ("alert", "v", "hazard", "level", "status", "camera", "kelurahan", "opened (UTC)", "updated (UTC)"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["alert_id"],
            str(r["version"]),
            r["hazard"],
            r["level"],
            r["status"],
            r["camera_id"],
            r["kelurahan_code"] or "",
            r["opened_at"].strftime("%Y-%m-%d %H:%M:%S"),
            r["updated_at"].strftime("%Y-%m-%d %H:%M:%S"),
        )
    return t


def alerts_ack(ops_db_url: str, alert_id: str, *, actor: str, note: str = "") -> TransitionResult:
    ops = OpsDB(ops_db_url)
    try:
        return AlertLifecycle(ops).acknowledge(alert_id, actor, note, by=cli_principal(actor))
    finally:
        ops.dispose()


def alerts_cancel(ops_db_url: str, alert_id: str, *, actor: str, reason: str) -> TransitionResult:
    ops = OpsDB(ops_db_url)
    try:
        return AlertLifecycle(ops).cancel(alert_id, reason, actor, by=cli_principal(actor))
    finally:
        ops.dispose()


def alerts_dispatch(
    ops_db_url: str,
    *,
    outbox_dir: str = "pantau-data/outbox",
    smtp_host: str = "127.0.0.1",
    smtp_port: int = 25,
    mqtt_broker: str = "mqtt://127.0.0.1:1883",
    allow_http: bool = False,
) -> tuple[DispatchStats, dict[str, int]]:
    """Deliver everything due now from the outbox; returns stats and outbox counts by state."""
    ops = OpsDB(ops_db_url)
    channels = ChannelRegistry.default(
        webhook_policy=webhook_policy(ops, allow_http=allow_http),
        smtp=SmtpConfig(host=smtp_host, port=smtp_port),
        mqtt_broker=mqtt_broker,
        outbox_dir=outbox_dir,
    )
    d = Dispatcher(ops, channels, RetryPolicy())
    try:
        return d.run_until_idle(), outbox_counts(ops)
    finally:
        d.close()
        channels.close()
        ops.dispose()


def allowlist_add(ops_db_url: str, entry: str, *, reason: str, by: str = "") -> dict[str, Any]:
    """``pantau webhooks allow``: an audited admin action."""
    ops = OpsDB(ops_db_url)
    try:
        return allow_webhook_target(ops, entry, by=cli_principal(by), reason=reason)
    finally:
        ops.dispose()


def allowlist_remove(ops_db_url: str, entry: str, *, reason: str = "", by: str = "") -> bool:
    ops = OpsDB(ops_db_url)
    try:
        return disallow_webhook_target(ops, entry, by=cli_principal(by), reason=reason)
    finally:
        ops.dispose()


def allowlist_list(ops_db_url: str) -> list[dict[str, Any]]:
    ops = OpsDB(ops_db_url)
    try:
        return list_webhook_allowlist(ops)
    finally:
        ops.dispose()
