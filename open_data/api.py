"""A read API over published releases whose routes follow the CKAN Action API.

Routes (GET with query parameters or POST with a JSON body, under ``/api/3/action/`` and
``/api/action/``): ``package_list``, ``package_show``, ``package_search``, ``datastore_search``,
plus ``status_show``. ``/releases/...`` serves the static portal and the full files (bulk downloads
have no row cap); ``/public/...`` serves the store's public zone (blurred keyframes, CAP files, the Atom
feed). Everything is read through the object-store interface, so the same code serves a local folder or
an S3/MinIO bucket; with S3, a Parquet file queried by ``datastore_search`` is fetched once into a local
cache named by its checksum (releases are immutable). A partitioned dataset (one Parquet file per month) is
queried over its parts: its ``counts.parquet`` (rows per partition and text value) answers single-column
totals and text search without a scan, rules out partitions that cannot match, and lets a page read only
the partitions that hold it. ``datastore_search`` runs DuckDB over the release's Parquet file with bound
parameters; column names are checked against the file's schema, never interpolated from input.
Errors use CKAN's shape (``{"success": false, "error": {"__type": ..., "message": ...}}``) and never
carry a stack trace.

A package is a dataset; its resources are the files of every release (latest first), with ids
``<dataset>:<version>:<format>``. ``datastore_search`` takes such an id or a bare dataset name
(the latest release).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from open_data.hardening import MAX_BODY_BYTES, Hardening, RequestTooLarge
from open_data.store_files import store_response
from warehouse.object_store import LocalObjectStore, ObjectNotFoundError, ObjectStore

log = logging.getLogger(__name__)

NULL_PART = "none"  # the partition key of rows whose time is NULL (open_data.release.NULL_PART)

DEFAULT_LIMIT = 100
MAX_LIMIT = 32_000  # CKAN's ckan.datastore.search.rows_max default; bulk files have no cap
MAX_OFFSET = 10**12
MAX_TEXT = 1_000  # characters in any one string parameter or filter value
MAX_ITEMS = 100  # fields listed, filters given, values per filter
# every action's parameters: anything else is refused by name (a typo must not silently return everything)
PARAMS: dict[str, frozenset[str]] = {
    "package_list": frozenset({"limit", "offset"}),
    "package_show": frozenset({"id", "name"}),
    "package_search": frozenset({"q", "rows", "start"}),
    "datastore_search": frozenset({"resource_id", "id", "limit", "offset", "fields", "filters", "q", "sort"}),
    "status_show": frozenset(),
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SORT_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)
CKAN_TYPES = {
    "integer": "int",
    "number": "numeric",
    "string": "text",
    "datetime": "timestamp",
    "date": "date",
    "boolean": "bool",
}


class ApiError(Exception):
    status = 409
    kind = "Validation Error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"__type": self.kind, "message": f"{self.kind}: {self.message}"}
        if self.field:
            err[self.field] = [self.message]
        return err


class NotFoundError(ApiError):
    status = 404
    kind = "Not Found Error"


class BadRequestError(ApiError):
    status = 400
    kind = "Bad request - JSON Error"


@dataclass(frozen=True)
class Resource:
    id: str
    dataset: str
    version: str
    fmt: str
    path: Path
    url: str
    size: int
    sha256: str
    key: str = ""  # the object-store key of the file
    # a partitioned dataset: its files (one per partition, in key order) as (local path, store key, sha256),
    # their partition keys and row counts, the rows per partition/text column/value (local path, store key,
    # sha256) and the text columns counted in every partition
    parts: tuple[tuple[Path, str, str], ...] = ()
    part_keys: tuple[str, ...] = ()
    part_rows: tuple[int, ...] = ()
    partition_column: str | None = None
    partition_grain: str = "month"
    counts: tuple[Path, str, str] | None = None
    counted: frozenset[str] = frozenset()

    @property
    def files(self) -> list[str]:
        return [str(p[0]) for p in self.parts] if self.parts else [str(self.path)]


RELEASES = "releases"
PUBLIC = "public"
REMOTE_RESCAN_S = 5.0  # a remote store is listed at most this often (a local folder on every request)


def as_store(source: ObjectStore | str | os.PathLike[str]) -> ObjectStore:
    """An object store, or a folder path (its local store: ``<folder>/releases/...``)."""
    if isinstance(source, (str, os.PathLike)):
        return LocalObjectStore(source)
    return source


class Catalog:
    """Releases found under ``releases/`` in the object store; reloaded when a release appears or changes."""

    def __init__(self, store: ObjectStore | str | os.PathLike[str], cache_dir: Path | None = None) -> None:
        self.store = as_store(store)
        self._local = self.store if isinstance(self.store, LocalObjectStore) else None
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._scanned_at = -1e18
        self.releases: list[dict[str, Any]] = []
        self.packages: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, Resource] = {}

    def _scan(self) -> tuple[tuple[str, float], ...]:
        out = []
        if self._local is not None:  # a folder: one directory listing, cheap enough for every request
            base = self._local.root / RELEASES
            if base.is_dir():
                for entry in os.scandir(base):
                    manifest = Path(entry.path) / "release.json"
                    if entry.is_dir() and manifest.is_file():
                        out.append((entry.name, manifest.stat().st_mtime))
            return tuple(sorted(out))
        for info in self.store.list(RELEASES + "/"):
            parts = info.key.split("/")
            if len(parts) == 3 and parts[2] == "release.json":
                out.append((parts[1], info.mtime))
        return tuple(sorted(out))

    def _path(self, key: str, sha: str) -> Path:
        if self._local is not None:
            return self._local.local_path(key)
        if self._cache_dir is None:
            self._cache_dir = Path(tempfile.mkdtemp(prefix="pantau-api-cache-"))
        return self._cache_dir / f"{sha}{Path(key).suffix}"

    def fetch(self, res: Resource) -> Path:
        """The local file of ``res``: the store's own file, or a checked copy fetched once from a remote store.

        A partitioned resource fetches each part (and its counts) the same way."""
        if res.parts:
            for path, key, sha in (*res.parts, *([res.counts] if res.counts else [])):
                self._fetch_file(res, path, key, sha)
            return res.parts[0][0]
        return self._fetch_file(res, res.path, res.key, res.sha256)

    def _fetch_file(self, res: Resource, path: Path, key: str, sha: str) -> Path:
        if self._local is not None or path.is_file():
            return path
        try:
            data = self.store.get_bytes(key)
        except ObjectNotFoundError:
            raise NotFoundError(f"Not found: the file of resource {res.id!r} is missing from the store") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise ApiError(f"resource {res.id!r} does not match its published checksum", "resource_id")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{threading.get_ident()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def close(self) -> None:
        if self._local is None and self._cache_dir is not None:
            shutil.rmtree(self._cache_dir, ignore_errors=True)

    def refresh(self) -> None:
        if self._local is None and time.monotonic() - self._scanned_at < REMOTE_RESCAN_S:
            return
        stamp = self._scan()
        self._scanned_at = time.monotonic()
        if stamp == self._stamp:
            return
        with self._lock:
            releases = []
            for name, _ in stamp:
                rel_prefix = f"{RELEASES}/{name}/"
                try:
                    rel = json.loads(self.store.get_bytes(rel_prefix + "release.json"))
                    rel["_package"] = json.loads(self.store.get_bytes(rel_prefix + "datapackage.json"))
                except (OSError, ValueError, ObjectNotFoundError):
                    log.warning("skipping unreadable release %s", name)
                    continue
                releases.append(rel)
            releases.sort(key=lambda r: (int(r.get("snapshot_id", 0)), str(r["version"])))
            packages: dict[str, dict[str, Any]] = {}
            resources: dict[str, Resource] = {}
            for rel in reversed(releases):  # latest first
                version = rel["version"]
                res_meta = {r["name"]: r for r in rel["_package"].get("resources", [])}
                for ds in rel.get("datasets", []):
                    name = ds["name"]
                    pkg = packages.get(name)
                    csv_meta: dict[str, Any] = res_meta.get(f"{name}-csv") or next(iter(res_meta.values()), {})
                    if pkg is None:
                        lic = (csv_meta.get("licenses") or [{}])[0]
                        pkg = packages[name] = {
                            "id": name,
                            "name": name,
                            "title": ds.get("title", name),
                            "notes": csv_meta.get("description", ""),
                            "version": version,
                            "license_id": lic.get("name"),
                            "license_title": lic.get("title"),
                            "license_url": lic.get("path"),
                            "metadata_created": releases[0]["snapshot_time"],
                            "metadata_modified": rel["snapshot_time"],
                            "state": "active",
                            "type": "dataset",
                            "private": False,
                            "num_rows": ds["rows"],
                            "tags": [],
                            "extras": [
                                {"key": "snapshot_id", "value": str(rel["snapshot_id"])},
                                {"key": "sources", "value": json.dumps(csv_meta.get("sources", []))},
                            ],
                            "organization": {"name": "pantau", "title": "Pantau — DKI Jakarta"},
                            "resources": [],
                            "_fields": ds["schema"],
                        }
                    parts = ds.get("partitions") or []
                    counted = set.intersection(*(set(p.get("counted", [])) for p in parts)) if parts else set()
                    counts_meta = ds.get("counts")
                    counts = None
                    if counts_meta:
                        ckey = f"{RELEASES}/{version}/{counts_meta['path']}"
                        counts = (self._path(ckey, counts_meta["sha256"]), ckey, counts_meta["sha256"])
                    for fmt, f in ds["files"].items():
                        rid = f"{name}:{version}:{fmt}"
                        url = f"/releases/{version}/{f['path']}"
                        key = f"{RELEASES}/{version}/{f['path']}"
                        part_files: list[tuple[Path, str, str]] = []
                        if f.get("parts"):
                            for p in parts:
                                pf = p["files"][fmt]
                                pkey = f"{RELEASES}/{version}/{pf['path']}"
                                part_files.append((self._path(pkey, pf["sha256"]), pkey, pf["sha256"]))
                        # a partitioned resource is addressed by its first part (the folder is not an object)
                        path = part_files[0][0] if part_files else self._path(key, f["sha256"])
                        resources[rid] = Resource(
                            rid,
                            name,
                            version,
                            fmt,
                            path,
                            url,
                            f["bytes"],
                            f["sha256"],
                            part_files[0][1] if part_files else key,
                            parts=tuple(part_files),
                            part_keys=tuple(str(p["key"]) for p in parts) if part_files else (),
                            part_rows=tuple(int(p["rows"]) for p in parts) if part_files else (),
                            partition_column=(ds.get("partitioning") or {}).get("column"),
                            partition_grain=(ds.get("partitioning") or {}).get("grain", "month"),
                            counts=counts if part_files else None,
                            counted=frozenset(counted),
                        )
                        pkg["resources"].append(
                            {
                                "id": rid,
                                "package_id": name,
                                "name": f"{name} {version} ({fmt.upper()})",
                                "format": fmt.upper(),
                                "url": url,
                                "size": f["bytes"],
                                "hash": f"sha256:{f['sha256']}",
                                "datastore_active": fmt == "parquet",
                                "release_version": version,
                                "position": len(pkg["resources"]),
                            }
                        )
            for pkg in packages.values():
                pkg["num_resources"] = len(pkg["resources"])
            self.releases, self.packages, self.resources, self._stamp = releases, packages, resources, stamp

    def package(self, name: str) -> dict[str, Any]:
        self.refresh()
        pkg = self.packages.get(name)
        if pkg is None:
            raise NotFoundError(f"Not found: package {_show(name)}")
        return {k: v for k, v in pkg.items() if not k.startswith("_")}

    def datastore_resource(self, rid: str) -> Resource:
        self.refresh()
        if rid in self.packages:
            rid = next((r["id"] for r in self.packages[rid]["resources"] if r["datastore_active"]), rid)
        res = self.resources.get(rid)
        if res is None:
            raise NotFoundError(f"Not found: resource {_show(rid)}")
        if res.fmt != "parquet":
            res = self.resources.get(f"{res.dataset}:{res.version}:parquet") or res
        if res.fmt != "parquet":
            raise ApiError(f"resource {_show(rid)} is not in the datastore", "resource_id")
        self.fetch(res)
        return res


# -- parameter parsing ---------------------------------------------------------------------------
def _int(params: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name, default)
    if isinstance(raw, bool):
        raise ApiError(f"{name} must be an integer", name)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(f"{name} must be an integer", name) from None
    if value < lo or value > hi:
        raise ApiError(f"{name} must be between {lo} and {hi}", name)
    return value


def _json_param(params: dict[str, Any], name: str) -> Any:
    raw = params.get(name)
    if isinstance(raw, str) and raw.strip().startswith(("{", "[")):
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(f"{name} is not valid JSON", name) from None
    return raw


def _show(value: Any) -> str:
    """A client value as it may appear in an error message: short, ASCII, quoted."""
    return ascii(str(value)[:64])


def _check_params(action: str, params: dict[str, Any]) -> None:
    """Strict validation shared by every action: known names, bounded strings, scalar or small JSON values."""
    unknown = sorted(set(params) - PARAMS[action])
    if unknown:
        raise ApiError(f"unknown parameter {_show(unknown[0])} for {action}", "params")
    for name, value in params.items():
        _check_value(name, value, depth=0)


def _check_value(name: str, value: Any, depth: int) -> None:
    if depth > 3:
        raise ApiError(f"{name} is nested too deeply", name)
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ApiError(f"{name} is longer than {MAX_TEXT} characters", name)
        if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ApiError(f"{name} contains characters that are not allowed", name)
        return
    if isinstance(value, int):
        if abs(value) > 2**63 - 1:
            raise ApiError(f"{name} is out of range", name)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ApiError(f"{name} must be a finite number", name)
        return
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ApiError(f"{name} has more than {MAX_ITEMS} items", name)
        for v in value:
            _check_value(name, v, depth + 1)
        return
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise ApiError(f"{name} has more than {MAX_ITEMS} entries", name)
        for k, v in value.items():
            _check_value(name, str(k), depth + 1)
            _check_value(name, v, depth + 1)
        return
    raise ApiError(f"{name} has an unsupported type", name)


def _column(name: Any, columns: list[str], field: str) -> str:
    if not isinstance(name, str) or not _IDENT.match(name) or name not in columns:
        raise ApiError(f"field {_show(name)} not in the resource", field)
    return name


def _q(name: str) -> str:
    return '"' + name + '"'  # name already checked against the schema and the identifier pattern


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _partition_keys(values: list[Any], nulls: bool, col_type: pa.DataType, grain: str) -> set[str] | None:
    """The partitions that can hold rows equal to ``values`` (ISO 8601 text; naive times are UTC, as the
    engine reads them); None when a value is not plainly ISO 8601 (the scan then decides)."""
    keys = {NULL_PART} if nulls else set()
    fmt = "%Y-%m-%d" if grain == "day" else "%Y-%m"
    for v in values:
        if not isinstance(v, str):
            return None
        try:
            if pa.types.is_date(col_type):
                when: dt.date = dt.date.fromisoformat(v)
            elif pa.types.is_timestamp(col_type):
                stamp = dt.datetime.fromisoformat(v)
                if col_type.tz is None:
                    if stamp.tzinfo is not None:
                        return None
                    when = stamp
                else:
                    when = (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
            else:
                return None
        except ValueError:
            return None
        keys.add(when.strftime(fmt))
    return keys


class CountsIndex:
    """Rows per partition for each value of a resource's counted text columns (its ``counts.parquet``)."""

    def __init__(self, path: Path, part_keys: tuple[str, ...]) -> None:
        table = pq.read_table(path)
        pos = {k: i for i, k in enumerate(part_keys)}
        self.n_parts = len(part_keys)
        part_idx = np.array([pos.get(k, -1) for k in table.column("part").to_pylist()], np.int64)
        rows = table.column("rows").to_numpy()
        cols = table.column("column")
        self.columns: dict[str, dict[str | None, np.ndarray]] = {}
        for name in pc.unique(cols).to_pylist():
            mask = pc.equal(cols, name).to_numpy(zero_copy_only=False)
            keep = mask & (part_idx >= 0)
            values = table.column("value").filter(pa.array(keep)).combine_chunks().dictionary_encode()
            matrix = np.zeros((len(values.dictionary) + 1, self.n_parts), np.int64)  # last row: NULL
            codes = values.indices.fill_null(len(values.dictionary)).to_numpy()
            np.add.at(matrix, (codes, part_idx[keep]), rows[keep])
            by_value: dict[str | None, np.ndarray] = dict(zip(values.dictionary.to_pylist(), matrix[:-1], strict=True))
            if matrix[-1].any():
                by_value[None] = matrix[-1]
            self.columns[name] = by_value

    def rows(self, column: str, values: list[str | None]) -> np.ndarray:
        """Rows per partition whose ``column`` is one of ``values`` (None: NULL)."""
        out = np.zeros(self.n_parts, np.int64)
        known = self.columns.get(column, {})
        for v in set(values):
            vec = known.get(v)
            if vec is not None:
                out += vec
        return out

    def values(self, column: str) -> list[str]:
        return [v for v in self.columns.get(column, {}) if v is not None]


@dataclass
class Plan:
    """Which partitions a search reads, and the exact matching rows per partition when the index knows them."""

    files: list[str]
    keys: list[str]
    exact: np.ndarray | None  # matching rows per file in ``files``; None when only a scan can tell


class Api:
    """The actions; DuckDB runs with ``threads`` threads and at most ``memory_limit`` of buffer memory."""

    INDEX_CACHE = 16  # resources whose counts stay loaded

    def __init__(
        self, store: ObjectStore | str | os.PathLike[str], threads: int = 2, memory_limit: str = "1GB"
    ) -> None:
        self.catalog = Catalog(store)
        self._con = duckdb.connect(config={"threads": int(threads), "memory_limit": str(memory_limit)})
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET parquet_metadata_cache = true")
        self._schemas: dict[Path, pa.Schema] = {}
        self._indexes: OrderedDict[tuple[Path, str, str], CountsIndex] = OrderedDict()
        self._index_lock = threading.Lock()

    def _schema(self, res: Resource) -> pa.Schema:
        path = res.parts[0][0] if res.parts else res.path
        if path not in self._schemas:
            self._schemas[path] = pq.read_schema(path)
        return self._schemas[path]

    def _index(self, res: Resource) -> CountsIndex | None:
        if res.counts is None or not res.counted or not res.parts:
            return None
        with self._index_lock:
            idx = self._indexes.get(res.counts)
            if idx is not None:
                self._indexes.move_to_end(res.counts)
                return idx
        try:
            idx = CountsIndex(res.counts[0], res.part_keys)
        except (OSError, pa.ArrowInvalid):
            log.warning("unreadable counts for %s", res.id)
            return None
        with self._index_lock:
            self._indexes[res.counts] = idx
            while len(self._indexes) > self.INDEX_CACHE:
                self._indexes.popitem(last=False)
        return idx

    def _matching(self, values: list[str], q: str) -> list[str]:
        """The values that ``ILIKE '%q%'`` matches, evaluated once over the distinct values."""
        if not values:
            return []
        cur = self._con.cursor()
        try:
            rows = cur.execute("SELECT v FROM unnest(?::VARCHAR[]) AS t(v) WHERE v ILIKE ?", [values, f"%{q}%"])
            return [r[0] for r in rows.fetchall()]
        finally:
            cur.close()

    def _plan(
        self,
        res: Resource,
        idx: CountsIndex | None,
        indexed: list[list[tuple[str, list[str | None]]]],
        scanned: bool,
        filtered: bool,
        part_keys: set[str] | None = None,
    ) -> Plan:
        """Drop the partitions the counts index (or a filter on the partition column, ``part_keys``) rules out;
        exact rows per partition when the index knows them."""
        if not res.parts:
            return Plan(res.files, [], None)
        keep = np.ones(len(res.parts), bool)
        if part_keys is not None:
            keep &= np.array([k in part_keys for k in res.part_keys], bool)
        exact: np.ndarray | None = None
        if not filtered:
            exact = np.array(res.part_rows, np.int64)
        elif idx is not None and indexed:
            for cond in indexed:
                hits = np.zeros(len(res.parts), np.int64)
                for col, vals in cond:
                    hits += idx.rows(col, vals)
                keep &= hits > 0
            if not scanned and len(indexed) == 1 and len(indexed[0]) == 1:
                exact = idx.rows(*indexed[0][0])
        sel = np.flatnonzero(keep)
        files = res.files
        return Plan([files[i] for i in sel], [res.part_keys[i] for i in sel], exact[sel] if exact is not None else None)

    @staticmethod
    def _page_files(
        res: Resource, plan: Plan, sort: list[tuple[str, bool]], offset: int, limit: int
    ) -> tuple[list[str], int]:
        """Only the partitions that hold the requested page (exact counts needed), and the offset within them.

        Unsorted pages follow partition order; pages sorted first by the partition column take whole
        partitions in that order (partitions hold disjoint time ranges; NULL times sort last).
        """
        if plan.exact is None or not plan.files:
            return plan.files, offset
        n = len(plan.files)
        if not sort:
            walk = list(range(n))
        elif sort[0][0] == res.partition_column:
            timed = sorted((i for i in range(n) if plan.keys[i] != NULL_PART), key=lambda i: plan.keys[i])
            walk = (timed[::-1] if sort[0][1] else timed) + [i for i in range(n) if plan.keys[i] == NULL_PART]
        else:
            return plan.files, offset
        chosen: list[int] = []
        before = seen = 0
        for i in walk:
            rows = int(plan.exact[i])
            if rows == 0:
                continue
            if seen + rows <= offset:
                before += rows
                seen += rows
                continue
            chosen.append(i)
            seen += rows
            if seen >= offset + limit:
                break
        return [plan.files[i] for i in sorted(chosen)], offset - before

    # actions ----------------------------------------------------------------------------------
    def package_list(self, params: dict[str, Any]) -> list[str]:
        self.catalog.refresh()
        names = sorted(self.catalog.packages)
        limit = _int(params, "limit", len(names) or 1, 0, 1_000_000)
        offset = _int(params, "offset", 0, 0, 1_000_000)
        return names[offset : offset + limit]

    def package_show(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("id") or params.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError("Missing value", "id")
        return self.catalog.package(name)

    def package_search(self, params: dict[str, Any]) -> dict[str, Any]:
        self.catalog.refresh()
        q = params.get("q", "") or ""
        if not isinstance(q, str):
            raise ApiError("q must be a string", "q")
        rows = _int(params, "rows", 10, 0, 1000)
        start = _int(params, "start", 0, 0, 1_000_000)
        terms = [t.lower() for t in re.split(r"\s+", q.replace("*:*", "")) if t]
        hits = []
        for name in sorted(self.catalog.packages):
            pkg = self.catalog.package(name)
            text = " ".join([name, str(pkg["title"]), str(pkg["notes"])]).lower()
            if all(t in text for t in terms):
                hits.append(pkg)
        return {
            "count": len(hits),
            "results": hits[start : start + rows],
            "facets": {},
            "search_facets": {},
            "sort": "name asc",
        }

    def status_show(self, params: dict[str, Any]) -> dict[str, Any]:
        self.catalog.refresh()
        return {
            "ckan_version": "2.10.0",
            "site_title": "Pantau open data",
            "extensions": ["datastore"],
            "releases": [r["version"] for r in self.catalog.releases],
        }

    def datastore_search(self, params: dict[str, Any]) -> dict[str, Any]:
        rid = params.get("resource_id") or params.get("id")
        if not isinstance(rid, str) or not rid:
            raise ApiError("Missing value", "resource_id")
        res = self.catalog.datastore_resource(rid)
        schema = self._schema(res)
        columns = list(schema.names)
        limit = _int(params, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT)
        offset = _int(params, "offset", 0, 0, MAX_OFFSET)

        fields_raw = _json_param(params, "fields")
        if fields_raw in (None, "", []):
            fields = columns
        else:
            items = fields_raw.split(",") if isinstance(fields_raw, str) else fields_raw
            if not isinstance(items, list):
                raise ApiError("fields must be a list or a comma-separated string", "fields")
            if len(items) > MAX_ITEMS:
                raise ApiError(f"fields has more than {MAX_ITEMS} items", "fields")
            fields = [_column(f.strip() if isinstance(f, str) else f, columns, "fields") for f in items]

        idx = self._index(res)
        where: list[str] = []
        args: list[Any] = []
        # conditions the counts index can answer: (column, values) for "column IN values"; an OR of several
        # columns (text search over counted columns) is kept as one entry listing each column
        indexed: list[list[tuple[str, list[str | None]]]] = []
        scanned = False  # a condition only a scan can evaluate
        part_keys: set[str] | None = None  # partitions a filter on the partition column allows
        filters = _json_param(params, "filters") or {}
        if not isinstance(filters, dict):
            raise ApiError("filters must be an object", "filters")
        for key, value in filters.items():
            col = _column(key, columns, "filters")
            values = value if isinstance(value, list) else [value]
            if not values or any(isinstance(v, (dict, list)) for v in values):
                raise ApiError(f"bad filter value for {col}", "filters")
            for v in values:
                _check_value("filters", v, depth=1)
            nulls = [v for v in values if v is None]
            vals = [v for v in values if v is not None]
            parts = []
            if vals:
                parts.append(f"{_q(col)} IN ({', '.join('?' for _ in vals)})")
                args += vals
            if nulls:
                parts.append(f"{_q(col)} IS NULL")
            where.append("(" + " OR ".join(parts) + ")")
            if idx is not None and col in res.counted and all(isinstance(v, str) for v in vals):
                indexed.append([(col, [*vals, *([None] if nulls else [])])])
            else:
                scanned = True
            if col == res.partition_column and res.parts:
                keys = _partition_keys(vals, bool(nulls), schema.field(col).type, res.partition_grain)
                if keys is not None:
                    part_keys = keys if part_keys is None else part_keys & keys

        q = _json_param(params, "q")
        if q not in (None, ""):
            text_cols = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
            if isinstance(q, str):
                if not text_cols:
                    raise ApiError("resource has no text fields to search", "q")
                ors: list[str] = []
                hits: list[tuple[str, list[str | None]]] = []
                for c in text_cols:
                    if idx is not None and c in res.counted:  # match the column's distinct values once
                        matched = self._matching(idx.values(c), q)
                        if matched:
                            ors.append(f"{_q(c)} IN ({', '.join('?' for _ in matched)})")
                            args += matched
                            hits.append((c, list(matched)))
                    else:
                        ors.append(f"{_q(c)} ILIKE ?")
                        args.append(f"%{q}%")
                        scanned = True
                where.append("(" + (" OR ".join(ors) or "FALSE") + ")")
                if len(ors) == len(hits):
                    indexed.append(hits)
            elif isinstance(q, dict):
                for key, value in q.items():
                    col = _column(key, columns, "q")
                    if not isinstance(value, (str, int, float)):
                        raise ApiError(f"bad q value for {col}", "q")
                    _check_value("q", value, depth=1)
                    where.append(f"CAST({_q(col)} AS VARCHAR) ILIKE ?")
                    args.append(f"%{value}%")
                    scanned = True
            else:
                raise ApiError("q must be a string or an object", "q")

        sort_raw = params.get("sort")
        order: list[str] = []
        sort_cols: list[tuple[str, bool]] = []  # (column, descending)
        if sort_raw not in (None, ""):
            if not isinstance(sort_raw, str):
                raise ApiError("sort must be a string like 'field asc, other desc'", "sort")
            for item in sort_raw.split(","):
                m = _SORT_ITEM.match(item)
                if not m:
                    raise ApiError(f"bad sort clause {_show(item.strip())}", "sort")
                col = _column(m.group(1), columns, "sort")
                direction = (m.group(2) or "asc").upper()
                order.append(f"{_q(col)} {direction}")
                sort_cols.append((col, direction == "DESC"))

        plan = self._plan(res, idx, indexed, scanned, bool(where), part_keys)
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        order_sql = (" ORDER BY " + ", ".join(order)) if order else ""
        select = ", ".join(_q(f) for f in fields)
        cur = self._con.cursor()
        try:
            if not plan.files:
                total = 0
                table = pa.table({f: pa.array([], schema.field(f).type) for f in fields})
            else:
                if plan.exact is not None:
                    total = int(plan.exact.sum())
                elif not where:  # the total comes from the Parquet footers
                    row = cur.execute("SELECT count(*) FROM read_parquet(?)", [plan.files]).fetchone()
                    total = int(row[0]) if row else 0
                else:
                    row = cur.execute(
                        f"SELECT count(*) FROM read_parquet(?){where_sql}", [plan.files, *args]
                    ).fetchone()
                    total = int(row[0]) if row else 0
                files, page_offset = self._page_files(res, plan, sort_cols, offset, limit)
                if not files or limit == 0:
                    table = pa.table({f: pa.array([], schema.field(f).type) for f in fields})
                else:
                    table = cur.execute(
                        f"SELECT {select} FROM read_parquet(?){where_sql}{order_sql} LIMIT ? OFFSET ?",
                        [files, *args, limit, page_offset],
                    ).to_arrow_table()
        except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as exc:
            log.info("datastore_search rejected: %s", exc)
            raise ApiError("a filter value does not match the field's type", "filters") from None
        except (duckdb.OutOfRangeException, duckdb.TypeMismatchException, OverflowError) as exc:
            log.info("datastore_search rejected: %s", exc)
            raise ApiError("a filter value is out of range for the field", "filters") from None
        finally:
            cur.close()
        ftypes = dict(self.catalog.packages[res.dataset]["_fields"]) if res.dataset in self.catalog.packages else {}
        records = [{k: _jsonable(v) for k, v in r.items()} for r in table.to_pylist()]
        base = "/api/3/action/datastore_search"
        return {
            "resource_id": res.id,
            "fields": [{"id": f, "type": CKAN_TYPES.get(ftypes.get(f, "string"), "text")} for f in fields],
            "records": records,
            "total": total,
            "limit": limit,
            "offset": offset,
            "sort": sort_raw or "",
            "_links": {
                "start": f"{base}?resource_id={res.id}",
                "next": f"{base}?resource_id={res.id}&offset={offset + limit}",
            },
        }


ACTIONS = ("package_list", "package_show", "package_search", "datastore_search", "status_show")


class SafeJSONResponse(JSONResponse):
    """JSON as ASCII (a client's odd characters echoed in a message cannot break the encoding)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, default=str, separators=(",", ":")).encode()


def create_app(
    source: ObjectStore | str | os.PathLike[str],
    threads: int = 2,
    memory_limit: str = "1GB",
    extra_routes: Sequence[BaseRoute] = (),
    *,
    rate: float = 20.0,
    burst: int = 60,
    max_body: int = MAX_BODY_BYTES,
    trust_forwarded_for: bool = False,
) -> Hardening:
    """The API over ``source``: an object store (folder or S3), or a folder path holding ``releases/``.

    ``threads`` and ``memory_limit`` bound the DuckDB engine behind ``datastore_search``; ``extra_routes`` mounts
    further public endpoints beside it (e.g. the alert feeds of ``alerts.http``). Everything is served behind
    :class:`open_data.hardening.Hardening` (size and rate limits per client, security headers, CORS for anonymous
    reads); the Starlette app is ``.app`` (its ``state.catalog`` too).
    """
    store = as_store(source)
    api = Api(store, threads=threads, memory_limit=memory_limit)

    async def action(request: Request) -> Response:
        name = request.path_params["name"]
        known = name in ACTIONS
        help_url = str(request.url_for("action", name="help_show")) + (f"?name={name}" if known else "")
        try:
            if not known:
                raise NotFoundError(f"Action name not known: {_show(name)}")
            params: dict[str, Any] = dict(request.query_params)
            if len(request.query_params.multi_items()) != len(params):
                raise ApiError("a parameter is given more than once", "params")
            if request.method == "POST":
                raw = await request.body()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except (ValueError, RecursionError):
                        raise BadRequestError("Could not parse the request body as JSON") from None
                    if not isinstance(body, dict):
                        raise BadRequestError("The request body must be a JSON object")
                    params.update(body)
            _check_params(name, params)
            result = await run_in_threadpool(getattr(api, name), params)  # DuckDB work off the event loop
            return SafeJSONResponse({"help": help_url, "success": True, "result": result})
        except ApiError as exc:
            return SafeJSONResponse({"help": help_url, "success": False, "error": exc.body()}, status_code=exc.status)
        except RequestTooLarge:
            raise  # the hardening middleware answers 413
        except Exception:  # never leak a stack trace or SQL to the client
            log.exception("API action %s failed", _show(name))
            return SafeJSONResponse(
                {
                    "help": help_url,
                    "success": False,
                    "error": {"__type": "Internal Error", "message": "internal error"},
                },
                status_code=500,
            )

    async def home(request: Request) -> Response:
        return RedirectResponse("/releases/index.html")

    async def stored(request: Request) -> Response:
        """Portal pages, release files (``/releases/...``) and the public zone (``/public/...``) from the store."""
        key = request.url.path.lstrip("/")
        return await run_in_threadpool(store_response, store, key, request)

    routes = [
        Route("/", home),
        Route("/api/3/action/{name}", action, methods=["GET", "POST"], name="action"),
        Route("/api/action/{name}", action, methods=["GET", "POST"]),
        Route("/releases/{path:path}", stored, methods=["GET", "HEAD"], name="releases"),
        Route("/public/{path:path}", stored, methods=["GET", "HEAD"], name="public"),
        *extra_routes,
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        api.catalog.close()  # drop the local cache of a remote store's files

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.catalog = api.catalog
    return Hardening(app, rate=rate, burst=burst, max_body=max_body, trust_forwarded_for=trust_forwarded_for)


def serve_api(
    source: ObjectStore | str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8765,
    threads: int = 2,
    memory_limit: str = "1GB",
) -> None:
    """Serve the portal and the CKAN-style API for the releases in ``source`` (blocks)."""
    uvicorn.run(create_app(source, threads, memory_limit), host=host, port=port, log_level="info", proxy_headers=False)


class ApiServer:
    """Run the API in a background thread (tests, benchmarks, embedding): ``with ApiServer(store, port):``."""

    def __init__(
        self,
        source: ObjectStore | str | os.PathLike[str],
        port: int,
        host: str = "127.0.0.1",
        extra_routes: Sequence[BaseRoute] = (),
        **limits: Any,
    ) -> None:
        self.app = create_app(source, extra_routes=extra_routes, **limits)
        # proxy_headers off: the hardening middleware alone decides whether X-Forwarded-For is trusted
        config = uvicorn.Config(
            self.app, host=host, port=port, log_level="warning", lifespan="off", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ApiServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self.app.state.catalog.close()
