"""Per-row validation of camera rows (add, import, edit) with reasons; derives kelurahan/kecamatan/kota.

A row is accepted only when every rule passes; otherwise it is rejected with all its reasons:

* ``camera_id``: present, 1-64 characters of ``A-Z a-z 0-9 _ . : -``, unique in the file;
* ``lat``/``lon``: numbers inside Jakarta (a kelurahan polygon contains the point, or one lies within the
  loader's coastline tolerance); kelurahan code/name, kecamatan and kota come from the boundaries, never from
  the row;
* ``stream_url``: ``http``/``https``/``rtsp``/``rtsps`` with a host (required unless the camera is ``planned``);
  user info is allowed here and moved to the secrets file by the caller;
* ``stream_kind``: one of the reader kinds or ``viewer`` (guessed from the URL when absent), consistent with the
  scheme;
* ``status``: ``planned`` or ``installed``; ``view_radius_m`` in (0, 1000]; ``heading_deg`` in [0, 360);
* duplicate position: another camera within ``DUPLICATE_M`` metres with the same stream URL or the same name
  (paired cameras sharing a pole are fine; the same camera entered twice is not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from ingest.cameras.readers import STREAM_KINDS
from ingest.registry.secrets import is_secret_ref, split_credentials

KINDS: tuple[str, ...] = (*STREAM_KINDS, "viewer")
SCHEMES: tuple[str, ...] = ("http", "https", "rtsp", "rtsps")
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DUPLICATE_M = 1.0
NEW_STATUSES: tuple[str, ...] = ("planned", "installed")

ALIASES: dict[str, tuple[str, ...]] = {
    "camera_id": ("camera_id", "id", "site_id"),
    "name": ("name", "site_name", "nama"),
    "operator": ("operator", "agency"),
    "provider": ("provider",),
    "stream_url": ("stream_url", "url", "hls_url", "first_channel_url"),
    "stream_kind": ("stream_kind", "kind"),
    "secret_ref": ("secret_ref",),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "longitude"),
    "view_radius_m": ("view_radius_m", "radius_m"),
    "heading_deg": ("heading_deg", "heading"),
    "zones": ("zones",),
    "address": ("address", "alamat"),
    "catalog_source": ("catalog_source",),
    "status": ("status",),
    "n_channels": ("n_channels",),
    "plan_site_id": ("plan_site_id",),
}


class Locator(Protocol):
    def locate(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class AreaLookup:
    """Kelurahan lookup over ``KelurahanIndex`` (codes, names, kecamatan, kota arrays + ``locate``)."""

    index: Any

    def area(self, lon: float, lat: float) -> dict[str, Any] | None:
        idx, method, _ = self.index.locate(np.array([lon], dtype=float), np.array([lat], dtype=float))
        g = int(idx[0])
        if g < 0:
            return None
        return {
            "kelurahan_code": str(self.index.codes[g]),
            "kelurahan": str(self.index.names[g]),
            "kecamatan": str(self.index.kecamatan[g]),
            "kota": str(self.index.kota[g]),
            "kelurahan_method": str(method[0]),
        }

    def areas(self, lon: Sequence[float], lat: Sequence[float]) -> list[dict[str, Any] | None]:
        idx, method, _ = self.index.locate(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        out: list[dict[str, Any] | None] = []
        for g, m in zip(idx, method, strict=True):
            g = int(g)
            out.append(
                None
                if g < 0
                else {
                    "kelurahan_code": str(self.index.codes[g]),
                    "kelurahan": str(self.index.names[g]),
                    "kecamatan": str(self.index.kecamatan[g]),
                    "kota": str(self.index.kota[g]),
                    "kelurahan_method": str(m),
                }
            )
        return out


@dataclass(frozen=True)
class Rejection:
    row_number: int
    camera_id: str | None
    reasons: tuple[str, ...]

    def as_row(self) -> dict[str, Any]:
        return {"row_number": self.row_number, "camera_id": self.camera_id, "reasons": "; ".join(self.reasons)}


@dataclass
class Validated:
    """Accepted rows (normalised, areas derived, credentials still in ``userinfo``) and rejections."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def normalise(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Map a source row's column names onto registry fields; blank strings become None."""
    low = {str(k).strip().lower(): v for k, v in raw.items()}
    out: dict[str, Any] = {}
    for name, keys in ALIASES.items():
        for k in keys:
            v = low.get(k)
            if isinstance(v, str):
                v = v.strip()
            if v is not None and v != "":
                out[name] = v
                break
    return out


def guess_kind(url: str) -> str:
    """Stream kind from a URL: rtsp, hls (.m3u8), mjpeg, snapshot (.jpg), viewer (any other web page)."""
    u = url.lower().split("?", 1)[0]
    if u.startswith(("rtsp://", "rtsps://")):
        return "rtsp"
    if u.endswith(".m3u8"):
        return "hls"
    if u.endswith((".mjpg", ".mjpeg")) or "mjpeg" in u or "mjpg" in u:
        return "mjpeg"
    if u.endswith((".jpg", ".jpeg")) or "snapshot" in u:
        return "snapshot"
    return "viewer"


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat2 - lat1) * 110_574.0
    dx = (lon2 - lon1) * 111_320.0 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def check_row(row: dict[str, Any], *, default_status: str = "installed") -> tuple[dict[str, Any], list[str]]:
    """Field rules that need no context; returns the typed row and its reasons (empty = valid)."""
    reasons: list[str] = []
    out = dict(row)
    cid = str(row.get("camera_id") or "")
    if not cid:
        reasons.append("camera_id missing")
    elif not ID_RE.match(cid):
        reasons.append(f"camera_id {cid[:40]!r} has characters outside A-Z a-z 0-9 _ . : - or is over 64 long")
    out["camera_id"] = cid or None
    status = str(row.get("status") or default_status).strip().lower()
    if status not in NEW_STATUSES:
        reasons.append(f"status {status!r} must be planned or installed")
    out["status"] = status
    lat, lon = _num(row.get("lat")), _num(row.get("lon"))
    if row.get("lat") is None or row.get("lon") is None:
        reasons.append("lat/lon missing")
    elif lat is None or lon is None:
        reasons.append(f"lat/lon not numbers ({row.get('lat')!r}, {row.get('lon')!r})")
    elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
        reasons.append(f"lat/lon out of range ({lat}, {lon})")
        lat = lon = None
    out["lat"], out["lon"] = lat, lon
    url = str(row.get("stream_url") or "")
    kind = str(row.get("stream_kind") or "").strip().lower()
    userinfo = None
    if url:
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES:
            reasons.append(f"stream_url scheme {parts.scheme or '(none)'!r} not one of {', '.join(SCHEMES)}")
        elif not parts.hostname:
            reasons.append("stream_url has no host")
        url, userinfo = split_credentials(url)
        kind = kind or guess_kind(url)
        if kind not in KINDS:
            reasons.append(f"stream_kind {kind!r} not one of {', '.join(KINDS)}")
        elif (kind == "rtsp") != parts.scheme.lower().startswith("rtsp") and parts.scheme.lower() in SCHEMES:
            reasons.append(f"stream_kind {kind} does not match the {parts.scheme} URL")
        elif kind == "file":
            reasons.append("stream_kind file is for local tests, not for the registry")
    elif status == "installed":
        reasons.append("an installed camera needs a stream_url")
    elif kind:
        reasons.append("stream_kind given without a stream_url")
    out["stream_url"] = url or None
    out["stream_kind"] = kind or None
    out["userinfo"] = userinfo
    ref = row.get("secret_ref")
    if ref and not is_secret_ref(str(ref)):
        reasons.append("secret_ref must look like env:NAME or file:KEY")
    if ref and userinfo:
        reasons.append("give credentials either in the URL or as secret_ref, not both")
    radius = _num(row.get("view_radius_m"))
    if row.get("view_radius_m") is not None and (radius is None or not 0 < radius <= 1000):
        reasons.append(f"view_radius_m {row.get('view_radius_m')!r} must be in (0, 1000]")
    out["view_radius_m"] = radius if radius is not None else 150.0
    heading = _num(row.get("heading_deg"))
    if row.get("heading_deg") is not None and (heading is None or not 0 <= heading < 360):
        reasons.append(f"heading_deg {row.get('heading_deg')!r} must be in [0, 360)")
    out["heading_deg"] = heading
    out["name"] = str(row.get("name") or cid)
    if row.get("n_channels") is not None:
        n = _num(row.get("n_channels"))
        out["n_channels"] = int(n) if n is not None else None
    return out, reasons


def validate_rows(
    rows: Iterable[Mapping[str, Any]],
    areas: AreaLookup,
    existing: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    first_row_number: int = 1,
    default_status: str = "installed",
    skip_ids: Iterable[str] = (),
) -> Validated:
    """Validate source rows (already ``normalise``d or not) against each other and the current registry.

    ``existing``: current cameras by id (for position duplicates); ids in ``skip_ids`` are not compared with
    themselves (edits). Row numbers count from ``first_row_number`` (2 for a CSV with a header).
    """
    existing = existing or {}
    skip = set(skip_ids)
    typed: list[tuple[int, dict[str, Any], list[str]]] = []
    for i, raw in enumerate(rows):
        t, reasons = check_row(normalise(raw), default_status=default_status)
        if raw.get("_error"):
            reasons.insert(0, str(raw["_error"]))
        typed.append((first_row_number + i, t, reasons))
    # areas in one vectorised lookup
    pts = [(n, t) for n, t, r in typed if t["lat"] is not None and t["lon"] is not None]
    found = areas.areas([t["lon"] for _, t in pts], [t["lat"] for _, t in pts]) if pts else []
    for (_, t), a in zip(pts, found, strict=True):
        t["_area"] = a
    seen_ids: dict[str, int] = {}
    placed: list[tuple[float, float, str | None, str, str]] = [
        (float(c["lat"]), float(c["lon"]), c.get("stream_url"), str(c.get("name") or ""), str(cid))
        for cid, c in existing.items()
        if cid not in skip and c.get("lat") is not None and c.get("lon") is not None and c.get("status") != "retired"
    ]
    grid: dict[tuple[int, int], list[int]] = {}
    for k, (la, lo, *_rest) in enumerate(placed):
        grid.setdefault((int(la * 1e4), int(lo * 1e4)), []).append(k)
    out = Validated()
    for n, t, reasons in typed:
        cid = t.get("camera_id")
        if cid:
            if cid in seen_ids:
                reasons.append(f"duplicate camera_id (first at row {seen_ids[cid]})")
            else:
                seen_ids[cid] = n
        if t["lat"] is not None and t["lon"] is not None:
            a = t.pop("_area", None)
            if a is None:
                reasons.append(f"coordinates ({t['lat']}, {t['lon']}) outside Jakarta (no kelurahan there)")
            else:
                t.update(a)
            gy, gx = int(t["lat"] * 1e4), int(t["lon"] * 1e4)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    for k in grid.get((gy + dy, gx + dx), []):
                        la, lo, url, name, other = placed[k]
                        if other == cid or _metres(t["lat"], t["lon"], la, lo) > DUPLICATE_M:
                            continue
                        if (url and url == t.get("stream_url")) or name == t["name"]:
                            reasons.append(f"duplicate position: same place and same stream/name as camera {other}")
        t.pop("_area", None)
        if reasons:
            out.rejected.append(Rejection(n, cid, tuple(dict.fromkeys(reasons))))
            continue
        out.accepted.append(t)
        k = len(placed)
        placed.append((t["lat"], t["lon"], t.get("stream_url"), t["name"], str(cid)))
        grid.setdefault((int(t["lat"] * 1e4), int(t["lon"] * 1e4)), []).append(k)
    return out
