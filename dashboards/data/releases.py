"""Open-data releases found in the object store or the data folder."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from dashboards.data.config import data_dir, store_kind
from dashboards.data.handles import get_store, read_object
from dashboards.data.query import TTL_HISTORY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseFile:
    key: str
    name: str
    size: int


@dataclass(frozen=True)
class Release:
    version: str
    files: tuple[ReleaseFile, ...]
    datapackage: dict[str, Any]


def _release_roots(root: Path) -> list[Path]:
    return [root / "store" / "releases", root / "releases"]


@st.cache_data(ttl=TTL_HISTORY, show_spinner=False)
def _releases(root: str, store_kind: str) -> list[Release]:
    base = Path(root)
    found: dict[str, Release] = {}
    listings: list[tuple[str, list[ReleaseFile]]] = []
    if store_kind == "s3":
        try:
            by_version: dict[str, list[ReleaseFile]] = {}
            for info in get_store(base).list("releases/"):
                parts = info.key.split("/")
                if len(parts) >= 3:
                    by_version.setdefault(parts[1], []).append(ReleaseFile(info.key, "/".join(parts[2:]), info.size))
            listings.extend(by_version.items())
        except Exception as exc:
            log.warning("cannot list releases in the store: %s", exc)
    for rel_root in _release_roots(base):
        if not rel_root.is_dir():
            continue
        for vdir in sorted(p for p in rel_root.iterdir() if p.is_dir()):
            files = [
                ReleaseFile(str(p), p.relative_to(vdir).as_posix(), p.stat().st_size)
                for p in sorted(vdir.rglob("*"))
                if p.is_file()
            ]
            listings.append((vdir.name, files))
    for version, files in listings:
        if version in found or not files:
            continue
        dp: dict[str, Any] = {}
        for f in files:
            if f.name == "datapackage.json":
                raw = read_object(f.key, base)
                if raw:
                    try:
                        dp = json.loads(raw)
                    except ValueError:
                        log.warning("release %s: invalid datapackage.json", version)
        found[version] = Release(version, tuple(files), dp)
    return sorted(found.values(), key=lambda r: r.version, reverse=True)


def releases(root: Path | None = None) -> list[Release]:
    """Open-data releases found under ``releases/<version>/`` in the store or the data folder."""
    return _releases(str(root or data_dir()), store_kind())
