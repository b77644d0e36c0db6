"""Sample flood-context documents written by the project's own fixtures (no downloaded samples):
a Posko Banjir feed document (JSON, WIB times, a lagging status, three malformed rows) and a BMKG nowcast warning
(CAP 1.2, polygon over east Jakarta)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from alerts.cap import CapMessage, CapSettings, build_cap
from alerts.models import Level

NOW = datetime.now(UTC).replace(microsecond=0)
THRESHOLDS = [
    {"gate_id": "122", "name": "P.A. Manggarai 2", "siaga3_min_cm": 750.0, "siaga2_min_cm": 850.0,
     "siaga1_min_cm": 950.0},
    {"gate_id": "116", "name": "Bendung. Katulampa 2", "siaga3_min_cm": 80.0, "siaga2_min_cm": 150.0,
     "siaga1_min_cm": 200.0},
]  # fmt: skip
INSIDE = (-6.2240, 106.8660)  # a camera inside the warning polygon (Kampung Melayu)
OUTSIDE = (-6.1200, 106.7000)


def posko_banjir_document(at: datetime, manggarai_cm: float, katulampa_cm: float = 60.0, bad: bool = True) -> bytes:
    """A Posko Banjir feed document as DSDA publishes it (times in WIB, no offset)."""
    wib = (at + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")
    rows = [
        {"id_pintu_air": "122", "nama_pintu_air": "P.A. Manggarai 2", "waktu": wib, "tinggi_air": manggarai_cm,
         "status_siaga": "Siaga 3"},  # the feed lags: the thresholds say Siaga 2 at 860 cm
        {"id_pintu_air": "116", "nama_pintu_air": "Bendung. Katulampa 2", "waktu": wib, "tinggi_air": katulampa_cm,
         "status_siaga": "Siaga 4"},
    ]  # fmt: skip
    if bad:
        rows += [
            {"id_pintu_air": "118", "waktu": wib, "tinggi_air": "tidak ada data"},
            {"nama_pintu_air": "P.A. Karet", "waktu": "kemarin", "tinggi_air": 400},
            {"id_pintu_air": "119", "waktu": wib, "tinggi_air": 99999},
        ]
    return json.dumps({"data": rows}).encode()


def bmkg_document(at: datetime, expires_h: float = 3.0, ident: str = "bmkg-nowcast-1") -> bytes:
    """A BMKG nowcast warning as CAP 1.2 with a polygon over east Jakarta."""
    ring = [[106.85, -6.24], [106.88, -6.24], [106.88, -6.21], [106.85, -6.21], [106.85, -6.24]]
    msg = CapMessage(
        alert_id=ident, version=1, hazard="flood", level=Level.SIAGA, msg_type="Alert", status="open", sent=at,
        camera={"camera_id": "-", "kelurahan": "Kampung Melayu"}, reason="Hujan lebat disertai kilat",
        evidence={}, kelurahan_geometry=json.dumps({"type": "Polygon", "coordinates": [ring]}),
    )  # fmt: skip
    return build_cap(msg, CapSettings(sender="bmkg@bmkg.go.id", expires_hours=expires_h))
