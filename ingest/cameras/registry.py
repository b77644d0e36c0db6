"""Camera registry: which cameras a worker captures, how (stream kind/url) and how often.

Sources: the lake ``cameras`` table, or a CSV / JSON file (a list of objects or ``{"cameras": [...]}``).
Sharding: camera ``c`` belongs to shard ``i/n`` when ``stable_hash(c) % n == i`` (BLAKE2b of the id, the same
in every process and on every machine), so workers ``0/n .. n-1/n`` are disjoint and together cover all.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ingest.cameras.readers import STREAM_KINDS

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 10.0

# Capturable cameras: installed (status NULL = loaded before the registry had statuses), active, with a stream
# a reader can open (viewer pages are resolved to their stream by ``pantau cameras probe --resolve`` first).
SELECT_CAMERAS = (
    "SELECT camera_id, name, stream_url, stream_kind, lat, lon, kelurahan_code, secret_ref FROM cameras "
    "WHERE coalesce(active, true) AND coalesce(status, 'installed') = 'installed' "
    "AND stream_url IS NOT NULL AND stream_url <> '' AND coalesce(stream_kind, '') <> 'viewer' "
    "ORDER BY camera_id"
)
REGISTRY_VERSION = "SELECT count(*) FROM camera_registry_changes"


@dataclass(frozen=True)
class CameraSpec:
    """One camera to capture. ``interval_s`` None means the worker's default interval."""

    camera_id: str
    stream_url: str
    stream_kind: str
    interval_s: float | None = None
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    kelurahan_code: str | None = None
    secret_ref: str | None = None  # env:NAME or file:KEY holding "user:password" (never the value itself)

    def __post_init__(self) -> None:
        if not self.camera_id:
            raise ValueError("camera_id must not be empty")
        if self.stream_kind not in STREAM_KINDS:
            raise ValueError(f"camera {self.camera_id}: unknown stream kind {self.stream_kind!r}")
        if self.interval_s is not None and self.interval_s <= 0:
            raise ValueError(f"camera {self.camera_id}: interval_s must be positive")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"bad shard {self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str | Shard | tuple[int, int] | None) -> Shard:
        """``"1/4"`` -> Shard(1, 4); None -> Shard(0, 1) (everything)."""
        if text is None:
            return cls(0, 1)
        if isinstance(text, Shard):
            return text
        if isinstance(text, tuple):
            return cls(int(text[0]), int(text[1]))
        i, sep, n = str(text).partition("/")
        if not sep:
            raise ValueError(f"shard must look like i/n, got {text!r}")
        return cls(int(i), int(n))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, camera_id: str) -> bool:
        return stable_hash(camera_id) % self.count == self.index


def stable_hash(camera_id: str) -> int:
    """64-bit BLAKE2b of the id: identical across processes (unlike ``hash()``) and machines."""
    return int.from_bytes(hashlib.blake2b(camera_id.encode("utf-8"), digest_size=8).digest(), "big")


def select_shard(cameras: Iterable[CameraSpec], shard: str | Shard | tuple[int, int] | None) -> list[CameraSpec]:
    s = Shard.parse(shard)
    return [c for c in cameras if s.owns(c.camera_id)]


def guess_kind(url: str) -> str:
    """Stream kind from a URL when the source does not say it."""
    u = url.lower().split("?", 1)[0]
    if u.startswith("rtsp://"):
        return "rtsp"
    if u.endswith(".m3u8"):
        return "hls"
    if u.endswith((".mjpg", ".mjpeg")) or "mjpeg" in u:
        return "mjpeg"
    if u.startswith(("http://", "https://")):
        return "snapshot"
    return "file"


def _opt_float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    return float(v)


def spec_from_mapping(row: Mapping[str, Any]) -> CameraSpec:
    url = str(row.get("stream_url") or row.get("url") or "")
    kind = str(row.get("stream_kind") or row.get("kind") or "").strip().lower() or guess_kind(url)
    interval = row.get("interval_s", row.get("sample_interval_s"))
    return CameraSpec(
        camera_id=str(row["camera_id"]),
        stream_url=url,
        stream_kind=kind,
        interval_s=_opt_float(interval),
        name=str(row.get("name") or ""),
        lat=_opt_float(row.get("lat")),
        lon=_opt_float(row.get("lon")),
        kelurahan_code=(str(row["kelurahan_code"]) if row.get("kelurahan_code") not in (None, "") else None),
        secret_ref=(str(row["secret_ref"]) if row.get("secret_ref") not in (None, "") else None),
    )


def _is_inactive(row: Mapping[str, Any]) -> bool:
    v = row.get("active")
    return v is not None and str(v).strip().lower() in ("0", "false", "no", "f")


def load_cameras_file(path: str | Path) -> list[CameraSpec]:
    """Cameras from a CSV (header row) or JSON file; rows with ``active`` false or no URL are skipped."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        data = json.loads(p.read_text())
        rows = data.get("cameras", []) if isinstance(data, dict) else data
    else:
        with p.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    out = _specs(r for r in rows if not _is_inactive(r) and (r.get("stream_url") or r.get("url")))
    _check_unique(out)
    return out


def load_cameras_lake(lake: Any) -> list[CameraSpec]:
    """Active cameras with a stream URL from the lake ``cameras`` table."""
    out = _specs(lake.query(SELECT_CAMERAS).to_pylist())
    _check_unique(out)
    return out


def registry_version(lake: Any) -> int:
    """Grows with every registry change (0 for a lake without a change log)."""
    try:
        return int(lake.scalar(REGISTRY_VERSION) or 0)
    except Exception:  # a lake migrated before the registry existed has no change log
        return 0


class RegistryFollower:
    """Reloads the capturable cameras when the registry changed: from the lake (``lake_factory`` opens a fresh
    read-only handle, so commits of other processes are seen) or from a CSV/JSON file (by modification time).

    ``poll()`` returns the new camera list and its version, or None when nothing changed since the last call.
    """

    def __init__(self, lake_factory: Any = None, cameras_file: str | Path | None = None) -> None:
        if (lake_factory is None) == (cameras_file is None):
            raise ValueError("give exactly one of lake_factory and cameras_file")
        self.lake_factory = lake_factory
        self.cameras_file = Path(cameras_file) if cameras_file else None
        self.version: int | float | None = None

    def poll(self) -> tuple[list[CameraSpec], int] | None:
        if self.cameras_file is not None:
            mtime = self.cameras_file.stat().st_mtime_ns
            if mtime == self.version:
                return None
            cams = load_cameras_file(self.cameras_file)
            self.version = mtime
            return cams, int(mtime)
        with self.lake_factory() as lake:
            v = registry_version(lake)
            if v == self.version:
                return None
            cams = load_cameras_lake(lake)
        self.version = v
        return cams, v


def _specs(rows: Iterable[Mapping[str, Any]]) -> list[CameraSpec]:
    """Valid rows as specs; a row with an unusable kind/interval is logged and skipped, not fatal."""
    out = []
    for r in rows:
        try:
            out.append(spec_from_mapping(r))
        except (ValueError, KeyError) as exc:
            log.warning("registry: skipping camera %r: %s", r.get("camera_id"), exc)
    return out


def _check_unique(cams: list[CameraSpec]) -> None:
    seen: set[str] = set()
    for c in cams:
        if c.camera_id in seen:
            raise ValueError(f"duplicate camera_id {c.camera_id!r} in the registry")
        seen.add(c.camera_id)


def with_interval(cameras: Iterable[CameraSpec], interval_s: float) -> list[CameraSpec]:
    """Fill the default interval for cameras that have none."""
    return [c if c.interval_s is not None else replace(c, interval_s=interval_s) for c in cameras]


def filter_ids(cameras: Iterable[CameraSpec], ids: Iterable[str] | None) -> list[CameraSpec]:
    cams = list(cameras)
    if ids is None:
        return cams
    wanted = set(ids)
    return [c for c in cams if c.camera_id in wanted]
