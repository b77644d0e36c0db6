from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alerts_testkit import square_geometry
from lxml import etree

from alerts.cap import (
    ATOM_NS,
    CAP_NS,
    CapMessage,
    CapValidationError,
    FeedEntry,
    atom_feed,
    build_cap,
    cap_time,
    geojson_to_cap_polygons,
    validate_cap,
)
from alerts.models import HAZARDS, Level

SENT = datetime(2026, 1, 15, 8, 0, 12, 345678, tzinfo=UTC)
CAM = {
    "camera_id": "c1",
    "name": "CCTV Gambir",
    "lat": -6.176,
    "lon": 106.827,
    "kelurahan": "Gambir",
    "kecamatan": "Gambir",
    "kota": "Jakarta Pusat",
    "kelurahan_code": "31.71.01.1001",
}


def _msg(**kw) -> CapMessage:
    base = dict(
        alert_id="a1",
        version=1,
        hazard="fire",
        level=Level.SIAGA,
        msg_type="Alert",
        status="open",
        sent=SENT,
        camera=CAM,
        reason="fire Siaga confirmed",
        evidence={"score": 0.8},
        references=(),
        kelurahan_geometry=square_geometry(106.82, -6.18),
    )
    base.update(kw)
    return CapMessage(**base)


@pytest.mark.parametrize("hazard", HAZARDS)
@pytest.mark.parametrize("level", [Level.WASPADA, Level.SIAGA, Level.AWAS])
@pytest.mark.parametrize(
    ("msg_type", "status"), [("Alert", "open"), ("Update", "updated"), ("Update", "resolved"), ("Cancel", "cancelled")]
)
def test_every_message_validates(hazard: str, level: Level, msg_type: str, status: str) -> None:
    refs = () if msg_type == "Alert" else (("pantau@jakarta.go.id", "pantau-a1-v1", SENT),)
    xml = build_cap(_msg(hazard=hazard, level=level, msg_type=msg_type, status=status, references=refs))
    validate_cap(xml)
    doc = etree.fromstring(xml)
    assert doc.find(f"{{{CAP_NS}}}msgType").text == msg_type
    assert len(doc.findall(f"{{{CAP_NS}}}info")) == 2
    assert (doc.find(f"{{{CAP_NS}}}references") is not None) == bool(refs)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.WASPADA, ("Expected", "Moderate", "Possible")),
        (Level.SIAGA, ("Expected", "Severe", "Likely")),
        (Level.AWAS, ("Immediate", "Extreme", "Observed")),
    ],
)
def test_level_mapping(level: Level, expected: tuple[str, str, str]) -> None:
    doc = etree.fromstring(build_cap(_msg(level=level)))
    info = doc.find(f"{{{CAP_NS}}}info")
    assert tuple(info.find(f"{{{CAP_NS}}}{t}").text for t in ("urgency", "severity", "certainty")) == expected


def test_times_have_explicit_offset_and_expiry() -> None:
    assert cap_time(SENT) == "2026-01-15T08:00:12+00:00"
    doc = etree.fromstring(build_cap(_msg()))
    assert doc.find(f".//{{{CAP_NS}}}expires").text == "2026-01-15T14:00:12+00:00"


@pytest.mark.parametrize("points_per_side", [1, 10, 200])
def test_polygon_is_closed_and_simplified(points_per_side: int) -> None:
    (poly,) = geojson_to_cap_polygons(square_geometry(106.82, -6.18, points_per_side=points_per_side), max_points=40)
    pts = poly.split()
    assert 4 <= len(pts) <= 40 and pts[0] == pts[-1]
    lat, lon = map(float, pts[0].split(","))
    assert -6.2 < lat < -6.1 and 106.8 < lon < 106.9  # lat,lon order


def test_multipolygon_keeps_largest_part() -> None:
    big = json.loads(square_geometry(106.82, -6.18, d=0.02))["coordinates"]
    small = json.loads(square_geometry(106.90, -6.10, d=0.001))["coordinates"]
    (poly,) = geojson_to_cap_polygons(json.dumps({"type": "MultiPolygon", "coordinates": [small, big]}))
    assert all(float(p.split(",")[1]) < 106.85 for p in poly.split())


@pytest.mark.parametrize(
    "geometry", [None, "", "not json", json.dumps({"type": "Point", "coordinates": [106.8, -6.2]})]
)
def test_missing_or_odd_geometry_still_valid(geometry: str | None) -> None:
    xml = build_cap(_msg(kelurahan_geometry=geometry))
    validate_cap(xml)  # raises on an invalid message
    assert b"<circle>" in xml  # the camera circle is always there, whatever the polygon


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<msgType>Alert</msgType>", b"<msgType>Alarm</msgType>"),
        (b"<status>Actual</status>", b""),
        (b"+00:00</sent>", b"Z</sent>"),
        (b"<severity>Severe</severity>", b"<severity>Bad</severity>"),
    ],
)
def test_validator_rejects_broken_messages(old: bytes, new: bytes) -> None:
    xml = build_cap(_msg())
    assert old in xml
    with pytest.raises(CapValidationError):
        validate_cap(xml.replace(old, new, 1))


def test_validator_rejects_open_polygon() -> None:
    xml = build_cap(_msg())
    doc = etree.fromstring(xml)
    poly = doc.find(f".//{{{CAP_NS}}}polygon")
    poly.text = " ".join(poly.text.split()[:-1])
    with pytest.raises(CapValidationError, match="closed"):
        validate_cap(etree.tostring(doc))


def test_atom_feed() -> None:
    entries = [
        FeedEntry(
            "a1", 2, "fire", "Siaga", "Siaga: fire - Gambir", SENT, "https://x/cap/pantau-a1-v2.xml", -6.176, 106.827
        )
    ]
    doc = etree.fromstring(atom_feed(entries, feed_uri="https://x/feed.atom", now=SENT))
    assert doc.tag == f"{{{ATOM_NS}}}feed"
    (entry,) = doc.findall(f"{{{ATOM_NS}}}entry")
    link = entry.find(f"{{{ATOM_NS}}}link")
    assert link.get("type") == "application/cap+xml" and link.get("href").endswith("pantau-a1-v2.xml")
    assert entry.find(f"{{{ATOM_NS}}}updated").text == "2026-01-15T08:00:12Z"
