"""The embedded demo: alerts from the simulator's scripted incidents, delivered to the outbox folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerts.ack import AckLinks
from alerts.cap import CapSettings
from alerts.channels import ChannelRegistry, WebhookPolicy
from alerts.db import OpsDB, sqlite_url
from alerts.engine import AlertEngine, kelurahan_geometry
from alerts.export import DEFAULT_PUBLIC_BASE_URL, export_alerts_to_lake, publish_cap_and_feed
from alerts.lifecycle import list_alerts
from alerts.models import AGENCIES
from alerts.outbox import Dispatcher, RetryPolicy, outbox_counts
from alerts.panic import raise_panic_alerts
from alerts.subscriptions import ensure_agency_subscriptions
from warehouse.lake import Lake
from warehouse.object_store import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class DemoSummary:
    rows: int
    transitions: list[str]
    alerts: list[dict[str, Any]]
    outbox: dict[str, int]
    outbox_dir: Path
    files: int
    feed: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [
            f"alerts: {self.rows} frame scores evaluated, {len(self.transitions)} transitions, {len(self.alerts)} alerts",
        ]
        for a in self.alerts:
            lines.append(
                f"  [{a['status']:>9}] {a['level']:<8} {a['hazard']:<6} camera {a['camera_id']} kelurahan {a['kelurahan_code'] or '?'} (v{a['version']})"
            )
        lines.append(f"deliveries: {self.outbox} -> {self.files} files in {self.outbox_dir}")
        if self.feed:
            lines.append(f"atom feed: {self.feed.get('feed_uri')} ({self.feed.get('active')} active)")
        return "\n".join(lines)


def run_alerts_demo(
    lake: Lake,
    data_dir: str | Path,
    *,
    ops_db_url: str | None = None,
    store: ObjectStore | None = None,
    cap_settings: CapSettings = CapSettings(),
    ack_links: AckLinks | None = None,
    base_url: str = DEFAULT_PUBLIC_BASE_URL,
) -> DemoSummary:
    """Evaluate every frame score in the lake, deliver to ``<data_dir>/outbox/<agency>/``, export history.

    Run after the simulator's scripted incidents have been scored into ``frame_scores``.
    Safe to re-run: the sensor cursor and rule state live in the ops DB. ``ack_links`` puts a signed
    acknowledgement link in every delivery; the feeds are published for the API at ``base_url``.
    """
    data_dir = Path(data_dir)
    outbox_dir = data_dir / "outbox"
    ops = OpsDB(ops_db_url or sqlite_url(str(data_dir)))
    try:
        ensure_agency_subscriptions(ops, {a.code: ("outbox", str(outbox_dir / a.code)) for a in AGENCIES})
        engine = AlertEngine(ops, lake, cap_settings=cap_settings)
        total_rows, transitions = 0, []
        while True:
            res = engine.run_cycle()
            total_rows += res.rows
            transitions += [f"{t.hazard}:{t.camera_id}:{t.status}:{t.level}" for t in res.transitions]
            if res.rows < engine.config.batch_limit:
                break
        panic = raise_panic_alerts(engine)  # Jaki panic presses near cameras: police and Satpol PP
        transitions += [f"{t.hazard}:{t.camera_id}:{t.status}:{t.level}" for t in panic.transitions]
        channels = ChannelRegistry.default(webhook_policy=WebhookPolicy(), outbox_dir=outbox_dir)
        dispatcher = Dispatcher(ops, channels, RetryPolicy(max_attempts=3, base_s=0.2), ack_links=ack_links)
        try:
            dispatcher.run_until_idle()
        finally:
            dispatcher.close()
            channels.close()
        export_alerts_to_lake(ops, lake)
        feed = (
            publish_cap_and_feed(
                ops, store, settings=cap_settings, base_url=base_url, geometry=kelurahan_geometry(lake)
            )
            if store is not None
            else {}
        )
        files = sum(1 for _ in outbox_dir.rglob("*.cap.xml")) if outbox_dir.exists() else 0
        return DemoSummary(total_rows, transitions, list_alerts(ops), outbox_counts(ops), outbox_dir, files, feed)
    finally:
        ops.dispose()
