"""Export the operational alert history to the lake, and publish CAP files + the Atom feed."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from alerts.cap import CapSettings, FeedEntry, atom_feed
from alerts.db import OpsDB, alerts_t, deliveries_t, transitions_t
from alerts.models import Status, utcnow
from warehouse.lake import Lake
from warehouse.object_store import ObjectStore, public_url

log = logging.getLogger(__name__)

TS = pa.timestamp("us", tz="UTC")
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8765/"
LATEST_CAP_KEY = "public/alerts/{alert_id}.cap.xml"  # served at /alerts/<alert_id>.cap.xml (alerts.http)
ACTIVE_KEY = "public/alerts/active.geojson"  # served at /alerts/active.geojson  # the open-data API (PANTAU_OPEN_DATA_BASE_URL in deployments)
ALERTS_SCHEMA = pa.schema(
    [
        ("alert_id", pa.string()),
        ("version", pa.int32()),
        ("camera_id", pa.string()),
        ("kelurahan_code", pa.string()),
        ("kecamatan_code", pa.string()),
        ("kota_code", pa.string()),
        ("hazard", pa.string()),
        ("level", pa.string()),
        ("status", pa.string()),
        ("msg_type", pa.string()),
        ("reason", pa.string()),
        ("evidence", pa.string()),
        ("actor", pa.string()),
        ("opened_at", TS),
        ("updated_at", TS),
        ("cap_identifier", pa.string()),
        ("cap_xml_uri", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("exported_at", TS),
    ]
)
DELIVERIES_SCHEMA = pa.schema(
    [
        ("delivery_id", pa.string()),
        ("alert_id", pa.string()),
        ("version", pa.int32()),
        ("subscriber_id", pa.string()),
        ("channel", pa.string()),
        ("idempotency_key", pa.string()),
        ("state", pa.string()),
        ("attempts", pa.int32()),
        ("last_error", pa.string()),
        ("next_attempt_at", TS),
        ("sent_at", TS),
        ("created_at", TS),
        ("exported_at", TS),
    ]
)


@dataclass(frozen=True)
class ExportResult:
    alert_rows: int
    delivery_rows: int

    def as_metadata(self) -> dict[str, int]:
        return {"alert_rows": self.alert_rows, "delivery_rows": self.delivery_rows}


def export_alerts_to_lake(ops: OpsDB, lake: Lake, *, now: datetime | None = None) -> ExportResult:
    """Upsert every transition (lake ``alerts``, one row per version) and every delivery.

    Idempotent: re-running replaces rows by key (alert_id, version) and delivery_id, so the
    lake converges on the ops DB (delivery states move from pending to sent/dead).
    """
    now = now or utcnow()
    t, a = transitions_t, alerts_t
    with ops.read() as conn:
        trs = conn.execute(
            sa.select(
                t.c.alert_id,
                t.c.version,
                a.c.camera_id,
                a.c.kelurahan_code,
                a.c.kecamatan_code,
                a.c.kota_code,
                a.c.hazard,
                t.c.level,
                t.c.status,
                t.c.msg_type,
                t.c.reason,
                t.c.evidence,
                t.c.actor,
                a.c.opened_at,
                t.c.at.label("updated_at"),
                t.c.cap_identifier,
                t.c.cap_xml_uri,
                a.c.lat,
                a.c.lon,
            ).join(a, a.c.alert_id == t.c.alert_id)
        ).all()
        dls = conn.execute(sa.select(*[deliveries_t.c[n] for n in DELIVERIES_SCHEMA.names if n != "exported_at"])).all()
    alert_rows = [{**dict(r._mapping), "exported_at": now} for r in trs]
    delivery_rows = [{**dict(r._mapping), "exported_at": now} for r in dls]
    if alert_rows:
        lake.upsert("alerts", pa.Table.from_pylist(alert_rows, schema=ALERTS_SCHEMA), keys=["alert_id", "version"])
    if delivery_rows:
        lake.upsert(
            "alert_deliveries", pa.Table.from_pylist(delivery_rows, schema=DELIVERIES_SCHEMA), keys=["delivery_id"]
        )
    log.info("exported %d alert transitions, %d deliveries to the lake", len(alert_rows), len(delivery_rows))
    return ExportResult(len(alert_rows), len(delivery_rows))


def publish_cap_and_feed(
    ops: OpsDB,
    store: ObjectStore,
    *,
    settings: CapSettings = CapSettings(),
    feed_key: str = "public/alerts/feed.atom",
    base_url: str = DEFAULT_PUBLIC_BASE_URL,
    now: datetime | None = None,
    geometry: Callable[[str | None], str | None] | None = None,
) -> dict[str, Any]:
    """Write every CAP message to the store (under its ``cap_xml_uri`` key), each alert's latest message at the
    stable key ``public/alerts/<alert_id>.cap.xml``, the Atom feed of active alerts and ``active.geojson``.

    The API serves them at ``/alerts/feed.atom``, ``/alerts/<alert_id>.cap.xml`` and ``/alerts/active.geojson``
    (``alerts.http``); feed entries link there. ``geometry(kelurahan_code)`` gives a kelurahan's GeoJSON polygon
    for the public alert map (the camera point otherwise). Nothing published carries imagery."""
    now = now or utcnow()
    t, a = transitions_t, alerts_t
    written = 0
    recent = now - timedelta(days=2)
    with ops.read() as conn:
        caps = conn.execute(sa.select(t.c.cap_xml_uri, t.c.cap_xml).where(t.c.cap_xml.is_not(None))).all()
        active = conn.execute(sa.select(a).where(a.c.status.in_(Status.ACTIVE)).order_by(a.c.updated_at.desc())).all()
        latest_version = (
            sa.select(t.c.alert_id, sa.func.max(t.c.version).label("v"))
            .where(t.c.cap_xml.is_not(None))
            .group_by(t.c.alert_id)
            .subquery()
        )
        latest = conn.execute(
            sa.select(t.c.alert_id, t.c.cap_xml, a.c.status, a.c.updated_at)
            .join(latest_version, sa.and_(t.c.alert_id == latest_version.c.alert_id, t.c.version == latest_version.c.v))
            .join(a, a.c.alert_id == t.c.alert_id)
        ).all()
    for key, xml in caps:
        if not store.exists(key):
            store.put_bytes(key, xml.encode(), content_type="application/cap+xml")
            written += 1
    for r in latest:
        key = LATEST_CAP_KEY.format(alert_id=r.alert_id)
        if r.status in Status.ACTIVE or r.updated_at >= recent or not store.exists(key):
            store.put_bytes(key, r.cap_xml.encode(), content_type="application/cap+xml")
    entries = []
    features = []
    for r in active:
        cam = json.loads(r.camera or "{}")
        place = cam.get("kelurahan") or cam.get("camera_id")
        cap_url = public_url(base_url, f"alerts/{r.alert_id}.cap.xml")
        entries.append(
            FeedEntry(
                alert_id=r.alert_id,
                version=r.version,
                hazard=r.hazard,
                level=r.level,
                headline=f"{r.level}: {r.hazard} - {place}",
                updated=r.updated_at,
                cap_uri=cap_url,
                lat=r.lat,
                lon=r.lon,
            )
        )
        geom_text = geometry(r.kelurahan_code) if geometry is not None else None
        geom = json.loads(geom_text) if geom_text else None
        if geom is None and r.lat is not None and r.lon is not None:
            geom = {"type": "Point", "coordinates": [round(float(r.lon), 5), round(float(r.lat), 5)]}
        features.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {
                    "alert_id": r.alert_id,
                    "hazard": r.hazard,
                    "level": r.level,
                    "status": r.status,
                    "kelurahan_code": r.kelurahan_code,
                    "kelurahan": cam.get("kelurahan") or r.kelurahan_code,
                    "kecamatan": cam.get("kecamatan"),
                    "kota": cam.get("kota"),
                    "since": r.opened_at.isoformat(),
                    "updated": r.updated_at.isoformat(),
                    "cap": cap_url,
                },
            }
        )
    feed_uri = public_url(base_url, "alerts/feed.atom")
    feed = atom_feed(entries, feed_uri=feed_uri, settings=settings, now=now)
    store.put_bytes(feed_key, feed, content_type="application/atom+xml")
    fc = {"type": "FeatureCollection", "generated": now.isoformat(), "features": features}
    store.put_bytes(ACTIVE_KEY, json.dumps(fc, separators=(",", ":")).encode(), content_type="application/geo+json")
    return {"cap_written": written, "active": len(entries), "feed_uri": feed_uri, "feed_key": feed_key}
