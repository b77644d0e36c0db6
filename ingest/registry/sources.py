"""Camera rows from files: CSV (header row), GeoJSON (Point features) and YAML (a list or ``{cameras: [...]}``).

Rows come back as plain dicts with their source row number (CSV: the file line, counting the header as 1;
GeoJSON/YAML: the 1-based position in the list). Structural problems of a single entry (a feature without a
Point geometry, a YAML entry that is not a mapping) are returned as rows that fail validation with a reason,
so one bad entry never hides the others.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml

FORMATS: tuple[str, ...] = ("csv", "geojson", "yaml")


def detect_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {path}: use .csv, .geojson or .yaml (or --format)")


def read_rows(path: str | Path, fmt: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """``(rows, number of the first row)``; raises ``ValueError`` when the file as a whole is unreadable."""
    p = Path(path)
    fmt = fmt or detect_format(p)
    text = p.read_text(encoding="utf-8-sig")
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text))), 2
    if fmt == "geojson":
        return _geojson_rows(text), 1
    if fmt == "yaml":
        return _yaml_rows(text), 1
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def _geojson_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    feats = data.get("features") if isinstance(data, dict) else data
    if not isinstance(feats, list):
        raise ValueError("GeoJSON must be a FeatureCollection (or a list of features)")
    rows: list[dict[str, Any]] = []
    for f in feats:
        if not isinstance(f, dict):
            rows.append({"_error": "feature is not an object"})
            continue
        props = dict(f.get("properties") or {})
        geom = f.get("geometry") or {}
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if "camera_id" not in props and "id" not in props and f.get("id") is not None:
            props["camera_id"] = f.get("id")
        if isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
            props["lon"], props["lat"] = coords[0], coords[1]
        else:
            props.setdefault("_error", "geometry is not a Point [lon, lat]")
        rows.append(props)
    return rows


def _yaml_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML: {exc}") from None
    items = data.get("cameras") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("YAML must be a list of cameras or a mapping with a 'cameras' list")
    return [dict(i) if isinstance(i, dict) else {"_error": "entry is not a mapping"} for i in items]
