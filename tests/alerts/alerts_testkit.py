"""Test helpers for alerts: a real loopback webhook receiver and lake fixtures data."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyarrow as pa

from access.roles import Principal, Role
from alerts.allowlist import allow_webhook_target, webhook_policy
from alerts.channels import IDEMPOTENCY_HEADER, WebhookPolicy, WebhookVerificationError, verify_webhook
from alerts.db import OpsDB
from warehouse.lake import Lake

T0 = datetime(2026, 1, 15, 8, 0, 0, tzinfo=UTC)
TEST_ADMIN = Principal("test-admin", Role.ADMIN, "cli")


def loopback(ops: OpsDB) -> WebhookPolicy:
    """Put the loopback receivers on the admin allow-list of ``ops`` (an audited admin action, once) and return
    the production policy that reads it, with http allowed (the receivers speak plain HTTP)."""
    allow_webhook_target(ops, "127.0.0.1/32", by=TEST_ADMIN, reason="loopback test receiver")
    return webhook_policy(ops, allow_http=True)


def square_geometry(lon: float, lat: float, d: float = 0.01, points_per_side: int = 50) -> str:
    """A kelurahan-like polygon with many vertices (exercises CAP polygon simplification)."""
    ring: list[list[float]] = []
    corners = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True):
        for k in range(points_per_side):
            t = k / points_per_side
            ring.append([x0 + (x1 - x0) * t + 1e-6 * (k % 3), y0 + (y1 - y0) * t])
    ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


CAMERAS = [
    # camera_id, kelurahan code, name, lat, lon
    ("cam-fire", "31.71.01.1001", "Gambir", -6.1760, 106.8270),
    ("cam-flood", "31.74.02.1003", "Kampung Melayu", -6.2240, 106.8660),
    ("cam-crowd", "31.71.01.1001", "Gambir", -6.1750, 106.8250),
]


def seed_reference(lake: Lake) -> None:
    kel = [
        {
            "kode_kelurahan": "31.71.01.1001",
            "nama_kelurahan": "Gambir",
            "kode_kecamatan": "31.71.01",
            "nama_kecamatan": "Gambir",
            "kode_kota": "31.71",
            "nama_kota": "Kota Adm. Jakarta Pusat",
            "geometry": square_geometry(106.82, -6.18),
        },
        {
            "kode_kelurahan": "31.74.02.1003",
            "nama_kelurahan": "Kampung Melayu",
            "kode_kecamatan": "31.74.02",
            "nama_kecamatan": "Jatinegara",
            "kode_kota": "31.74",
            "nama_kota": "Kota Adm. Jakarta Timur",
            "geometry": square_geometry(106.86, -6.23),
        },
    ]
    lake.append("kelurahan", pa.Table.from_pylist(kel))
    cams = [
        {
            "camera_id": cid,
            "name": f"CCTV {name}",
            "lat": lat,
            "lon": lon,
            "kelurahan_code": code,
            "kelurahan": name,
            "view_radius_m": 150.0,
            "active": True,
        }
        for cid, code, name, lat, lon in CAMERAS
    ]
    lake.append("cameras", pa.Table.from_pylist(cams))


def score_row(camera_id: str, at: datetime, **scores: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "camera_id": camera_id,
        "captured_at": at,
        "fire": 0.0,
        "smoke": 0.0,
        "flood": 0.0,
        "crowd": 0.0,
        "persons": 0.0,
        "health": "ok",
        "risk_level": "Normal",
        "model_version": "test",
    }
    row.update(scores)
    return row


SCORE_SCHEMA = pa.schema(
    [
        ("camera_id", pa.string()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("fire", pa.float64()),
        ("smoke", pa.float64()),
        ("flood", pa.float64()),
        ("crowd", pa.float64()),
        ("persons", pa.float64()),
        ("health", pa.string()),
        ("risk_level", pa.string()),
        ("risk_hazard", pa.string()),
        ("model_version", pa.string()),
        ("level_fire", pa.string()),
        ("level_smoke", pa.string()),
        ("level_flood", pa.string()),
        ("level_crowd", pa.string()),
    ]
)


_TRACKERS: dict[int, dict[str, Any]] = {}


def land_scores(lake: Lake, rows: list[dict[str, Any]], context: Any = None) -> None:
    """Land rows in frame_scores with the levels the real level engine (analytics.risk) gives them; each camera's
    engine state carries over between calls on the same lake, as in a capture worker."""
    from analytics.risk import assign_levels

    trackers = _TRACKERS.setdefault(id(lake), {})
    scored = assign_levels(rows, context=context, trackers=trackers)
    lake.append("frame_scores", pa.Table.from_pylist(scored, schema=SCORE_SCHEMA))


def series(
    camera_id: str, values: list[float], hazard: str, start: datetime = T0, step_s: float = 5.0
) -> list[dict[str, Any]]:
    return [score_row(camera_id, start + timedelta(seconds=i * step_s), **{hazard: v}) for i, v in enumerate(values)]


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that verifies signatures and de-duplicates by idempotency key."""

    def __init__(
        self, secret: str | None = None, *, fail_first: int = 0, status_when_failing: int = 503, delay_s: float = 0.0
    ) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.status_when_failing = status_when_failing
        self.delay_s = delay_s
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.accepted: dict[str, bytes] = {}
        self.raw_keys: Counter[str] = Counter()
        self.rejected: list[str] = []
        self.incomplete = 0
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # sender died mid-request (crash test): nothing to process
                    receiver.incomplete += 1
                    self.close_connection = True
                    return
                status = receiver.handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        if self.delay_s:
            time.sleep(self.delay_s)
        with self.lock:
            self.requests.append((headers, body))
            if self.fail_first > 0:
                self.fail_first -= 1
                return self.status_when_failing
            key = headers.get(IDEMPOTENCY_HEADER) or ""
            self.raw_keys[key] += 1
            if self.secret is not None:
                try:
                    verify_webhook(headers, body, self.secret, time.time())
                except WebhookVerificationError as exc:
                    self.rejected.append(str(exc))
                    return 401
            if key in self.accepted:
                return 200  # duplicate delivery: acknowledged, not processed again
            self.accepted[key] = body
            return 200

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def camera_info(camera_id: str = "cam-fire") -> Any:
    from alerts.models import CameraInfo

    return CameraInfo(
        camera_id=camera_id,
        name="CCTV Gambir",
        lat=-6.176,
        lon=106.827,
        kelurahan_code="31.71.01.1001",
        kelurahan="Gambir",
        kecamatan_code="31.71.01",
        kecamatan="Gambir",
        kota_code="31.71",
        kota="Kota Adm. Jakarta Pusat",
        view_radius_m=150.0,
    )


def open_alert(
    ops: Any, camera_id: str = "cam-fire", hazard: str = "fire", level: str = "Siaga", at: datetime = T0
) -> Any:
    """Open one alert through the real lifecycle (CAP validated, outbox rows enqueued)."""
    from alerts.lifecycle import AlertLifecycle
    from alerts.models import Decision, Level

    lc = AlertLifecycle(ops, geometry_lookup=lambda _code: square_geometry(106.82, -6.18))
    d = Decision(
        camera_id,
        hazard,
        "open",
        Level.parse(level),
        at,
        f"{hazard} confirmed",
        {"score": 0.8, "keyframe_public_uri": "https://data.jakarta.go.id/k/1.jpg"},
    )
    return lc.apply(d, camera_info(camera_id))
