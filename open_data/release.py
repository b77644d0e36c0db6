"""Build a versioned, reproducible, privacy-safe open-data release from one lake snapshot.

``build_release`` reads every dataset AT one DuckLake snapshot, applies the privacy rules, writes
CSV/Parquet/GeoJSON deterministically, and adds a Frictionless ``datapackage.json``, a DCAT-AP 3
catalog (``catalog.ttl``), a data dictionary, licence notices, a changelog against the previous
release and a ``SHA256SUMS`` file. Nothing in a release depends on the build time: metadata times
are the snapshot time, so the same snapshot always gives byte-identical files.

Layout under the object store: ``releases/<version>/`` with ``data/<dataset>.<fmt>``,
``thumbnails/<camera>.jpg`` and the metadata files; ``release.json`` is written last and marks the
release complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from open_data import dcat, formats, metadata, privacy
from open_data.datasets import DATASETS, DatasetSpec, Variant
from warehouse.lake import LAKE_ALIAS, Lake, ident, literal
from warehouse.object_store import ObjectNotFoundError, ObjectStore

log = logging.getLogger(__name__)

RELEASES_PREFIX = "releases"
DEFAULT_BASE_URL = "http://127.0.0.1:8765/"
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
AUTO = "auto"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
    "json": "application/json",
    "ttl": "text/turtle; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "jpg": "image/jpeg",
    "html": "text/html; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
SNAPSHOT_SQL = (
    "SELECT snapshot_id, snapshot_time FROM ducklake_snapshots(" + literal(LAKE_ALIAS) + ") WHERE snapshot_id = ?"
)


class ReleaseError(RuntimeError):
    pass


@dataclass
class ReleaseResult:
    version: str
    snapshot_id: int
    snapshot_time: datetime
    prefix: str
    datasets: list[dict[str, Any]]
    skipped: dict[str, str]
    files: dict[str, str]  # path in the release -> sha256
    checksums_sha256: str
    previous: str | None
    changelog: dict[str, Any]
    unchanged: bool = False
    written: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(int(d["rows"]) for d in self.datasets)

    @property
    def total_bytes(self) -> int:
        return sum(int(f["bytes"]) for d in self.datasets for f in d["files"].values())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_type(path: str) -> str:
    ext = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


def snapshot_info(lake: Lake, snapshot_id: int | None = None) -> tuple[int, datetime]:
    sid = lake.snapshot_id() if snapshot_id is None else int(snapshot_id)
    rows = lake.query(SNAPSHOT_SQL, [sid]).to_pylist()
    if not rows:
        raise ReleaseError(f"lake snapshot {sid} does not exist (expired or never created)")
    ts = rows[0]["snapshot_time"]
    return sid, ts.astimezone(UTC)


def default_version(snapshot_id: int, snapshot_time: datetime) -> str:
    """Date-based version plus the snapshot id, e.g. ``2026.11.27-s42``."""
    return f"{snapshot_time:%Y.%m.%d}-s{snapshot_id}"


def table_exists_at(lake: Lake, table: str, snapshot_id: int) -> bool:
    try:
        lake.query(f"SELECT 1 FROM {ident(table)} AT (VERSION => ?) LIMIT 0", [snapshot_id])
    except duckdb.Error:
        return False
    return True


def extract(lake: Lake, spec: DatasetSpec, snapshot_id: int) -> tuple[pa.Table | None, Variant | None, str]:
    """Run the first variant whose tables exist at the snapshot; (None, None, reason) when none can."""
    missing: list[str] = []
    for variant in spec.variants:
        absent = [t for t in variant.tables if not table_exists_at(lake, t, snapshot_id)]
        if absent:
            missing += [t for t in absent if t not in missing]
            continue
        table = lake.query(variant.sql, {"snapshot": snapshot_id})
        if table.num_rows == 0:
            return None, variant, f"source table {variant.tables[0]} is empty at snapshot {snapshot_id}"
        return table, variant, ""
    return None, None, f"source table(s) missing at snapshot {snapshot_id}: {', '.join(missing)}"


def _sorted(table: pa.Table) -> pa.Table:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_t", table)
        return con.execute("SELECT * FROM _t ORDER BY ALL").fetch_arrow_table()
    finally:
        con.close()


def _thumbnails(table: pa.Table, store: ObjectStore) -> tuple[pa.Table, dict[str, bytes]]:
    """Replace ``public_uri`` by a release-relative ``thumbnail`` path; copy only blurred public images.

    ``public_uri`` holds the object-store key (``public/keyframes/<camera>/<ts>.jpg``); an absolute path or
    ``s3://`` URI naming an object of this store (rows landed before keys were stored) resolves to its key."""
    files: dict[str, bytes] = {}
    paths: list[str | None] = []
    ids = table.column("camera_id").to_pylist()
    uris = table.column("public_uri").to_pylist() if "public_uri" in table.column_names else [None] * len(ids)
    for cam, uri in zip(ids, uris, strict=True):
        path = None
        key = store.key_of(str(uri)) if uri else None  # a key, or a path/s3:// URI this store wrote earlier
        if cam is not None and privacy.is_public_thumbnail_key(key):
            try:
                data = store.get_bytes(str(key))
            except (ObjectNotFoundError, FileNotFoundError):
                data = b""
            if data.startswith(privacy.JPEG_MAGIC):
                path = f"thumbnails/{SAFE_NAME.sub('_', str(cam))}.jpg"
                files[path] = data
        paths.append(path)
    if "public_uri" in table.column_names:
        table = table.drop_columns(["public_uri"])
    return table.append_column("thumbnail", pa.array(paths, pa.string())), files


def prepare(
    spec: DatasetSpec,
    table: pa.Table,
    variant: Variant,
    store: ObjectStore,
    threshold: int = privacy.DEFAULT_THRESHOLD,
) -> tuple[pa.Table, dict[str, bytes], dict[str, Any]]:
    """Apply every privacy rule to one extracted table; returns (table, extra files, stats)."""
    stats: dict[str, Any] = {}
    if variant.curated:
        privacy.assert_no_forbidden_columns(
            table.drop_columns(["public_uri"]) if spec.thumbnails and "public_uri" in table.column_names else table
        )
    else:
        table, dropped = privacy.drop_forbidden_columns(table)
        if dropped:
            stats["dropped_columns"] = dropped
    extra: dict[str, bytes] = {}
    if spec.thumbnails:
        table, extra = _thumbnails(table, store)
    table, redacted = privacy.redact_private_values(table)
    if redacted:
        stats["redacted_cells"] = redacted
    table = formats.normalise(_sorted(table))
    if spec.suppression is not None:
        table, n = privacy.suppress_small_counts(table, spec.suppression, threshold)
        stats["suppressed_rows"] = n
    for col in spec.camera_time_columns:
        privacy.assert_time_grain(table, col)
    return table, extra, stats


def _encode(spec: DatasetSpec, table: pa.Table) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for fmt in spec.formats:
        if fmt == "csv":
            out[fmt] = formats.to_csv(table)
        elif fmt == "parquet":
            out[fmt] = formats.to_parquet(table)
        elif fmt == "geojson":
            out[fmt] = formats.to_geojson(table)
    return out


# -- previous releases and changelog --------------------------------------------------------------
def list_releases(store: ObjectStore) -> list[dict[str, Any]]:
    """Complete releases in the store (their ``release.json``), oldest first."""
    found = []
    for info in store.list(RELEASES_PREFIX + "/"):
        parts = info.key.split("/")
        if len(parts) == 3 and parts[2] == "release.json":
            try:
                found.append(json.loads(store.get_bytes(info.key)))
            except (ValueError, ObjectNotFoundError):
                log.warning("unreadable release manifest %s", info.key)
    return sorted(found, key=lambda r: (int(r.get("snapshot_id", 0)), str(r.get("version"))))


def _previous(store: ObjectStore, version: str, previous: str | None) -> dict[str, Any] | None:
    if previous is None:
        return None
    releases = [r for r in list_releases(store) if r.get("version") != version]
    if previous == AUTO:
        return releases[-1] if releases else None
    for r in releases:
        if r.get("version") == previous:
            return r
    raise ReleaseError(f"previous release {previous!r} not found in the store")


def _diff_rows(current: pa.Table, previous: pa.Table) -> tuple[int, int]:
    common = [c for c in current.column_names if c in previous.column_names]
    con = duckdb.connect()
    try:
        con.register("_cur", current.select(common))
        con.register("_prev", previous.select(common))
        added = con.execute("SELECT count(*) FROM (SELECT * FROM _cur EXCEPT ALL SELECT * FROM _prev)").fetchone()
        removed = con.execute("SELECT count(*) FROM (SELECT * FROM _prev EXCEPT ALL SELECT * FROM _cur)").fetchone()
    finally:
        con.close()
    return int(added[0] if added else 0), int(removed[0] if removed else 0)


def changelog(
    store: ObjectStore,
    prev: dict[str, Any] | None,
    datasets: list[dict[str, Any]],
    tables: dict[str, pa.Table],
    skipped: dict[str, str],
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    prev_ds = {d["name"]: d for d in (prev or {}).get("datasets", [])}
    for ds in datasets:
        name = ds["name"]
        entry: dict[str, Any] = {"rows": ds["rows"]}
        old = prev_ds.get(name)
        if old is None:
            entry.update(status="new" if prev else "first", rows_added=ds["rows"], rows_removed=0, schema_changes=[])
        else:
            old_schema = {n: t for n, t in old.get("schema", [])}
            new_schema = {n: t for n, t in ds["schema"]}
            sc = [f"added {n}" for n in new_schema if n not in old_schema]
            sc += [f"removed {n}" for n in old_schema if n not in new_schema]
            sc += [
                f"{n}: {old_schema[n]} -> {t}" for n, t in new_schema.items() if n in old_schema and old_schema[n] != t
            ]
            same = old.get("files", {}).get("parquet", {}).get("sha256") == ds["files"].get("parquet", {}).get("sha256")
            if same:
                added = removed = 0
            else:
                key = f"{RELEASES_PREFIX}/{prev['version']}/{old['files']['parquet']['path']}" if prev else ""
                try:
                    old_table = pq.read_table(io.BytesIO(store.get_bytes(key)))
                    added, removed = _diff_rows(tables[name], old_table)
                except (ObjectNotFoundError, KeyError):
                    added, removed = ds["rows"], int(old.get("rows", 0))
            status = "unchanged" if (same and not sc) else "changed"
            entry.update(
                status=status, previous_rows=old.get("rows"), rows_added=added, rows_removed=removed, schema_changes=sc
            )
        changes[name] = entry
    for name, old in prev_ds.items():
        if name not in changes:
            why = skipped.get(name, "dataset no longer published")
            changes[name] = {
                "status": "removed",
                "rows": 0,
                "rows_added": 0,
                "rows_removed": old.get("rows", 0),
                "note": why,
            }
    for name, why in skipped.items():
        if name not in changes:
            changes[name] = {"status": "skipped", "note": why}
    return changes


# -- the build ----------------------------------------------------------------------------------
def build_release(
    lake: Lake,
    store: ObjectStore,
    snapshot_id: int | None = None,
    version: str | None = None,
    previous: str | None = AUTO,
    *,
    base_url: str = DEFAULT_BASE_URL,
    threshold: int = privacy.DEFAULT_THRESHOLD,
    datasets: tuple[DatasetSpec, ...] = DATASETS,
    skip_unchanged: bool = False,
) -> ReleaseResult:
    """Build (and write) the release of ``snapshot_id`` (default: the latest snapshot).

    ``previous``: ``"auto"`` (latest other release in the store), a version, or None (no changelog base).
    ``skip_unchanged``: when every data file equals the previous release's, write nothing.
    """
    sid, stime = snapshot_info(lake, snapshot_id)
    version = version or default_version(sid, stime)
    if not VERSION_RE.match(version):
        raise ReleaseError(f"invalid release version {version!r}")
    created = stime.strftime(formats.TS_FORMAT)
    specs = {d.name: d for d in datasets}
    files: dict[str, bytes] = {}
    results: list[dict[str, Any]] = []
    tables: dict[str, pa.Table] = {}
    skipped: dict[str, str] = {}
    for spec in datasets:
        table, variant, why = extract(lake, spec, sid)
        if table is None or variant is None:
            skipped[spec.name] = why
            log.info("release %s: skipping %s (%s)", version, spec.name, why)
            continue
        table, extra, stats = prepare(spec, table, variant, store, threshold)
        tables[spec.name] = table
        encoded = _encode(spec, table)
        ds_files = {}
        for fmt, data in encoded.items():
            path = f"data/{spec.name}.{fmt}"
            files[path] = data
            ds_files[fmt] = {"path": path, "bytes": len(data), "sha256": sha256(data)}
        files.update(extra)
        results.append(
            {
                "name": spec.name,
                "title": spec.title,
                "rows": table.num_rows,
                "schema": [(f.name, formats.frictionless_type(f.type)) for f in table.schema],
                "files": ds_files,
                "source_tables": list(variant.tables),
                "stats": stats,
            }
        )
    prev = _previous(store, version, previous)
    changes = changelog(store, prev, results, tables, skipped)
    unchanged = (
        prev is not None
        and all(c.get("status") in ("unchanged", "skipped") for c in changes.values())
        and all(c.get("status") != "removed" for c in changes.values())
    )
    prev_version = prev["version"] if prev else None
    package = metadata.datapackage(
        version=version, snapshot_id=sid, created=created, datasets=results, specs=specs, skipped=skipped
    )
    files["datapackage.json"] = (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode()
    files["catalog.ttl"] = dcat.catalog_turtle(
        base_url=base_url, version=version, issued=created, datasets=results, specs=specs
    )
    files["DATA_DICTIONARY.md"] = metadata.data_dictionary(version, results, specs, skipped).encode()
    files["LICENSE.md"] = metadata.licence_notice(version, results, specs).encode()
    files["CHANGELOG.md"] = metadata.changelog_markdown(version, prev_version, changes).encode()
    files["changelog.json"] = (
        json.dumps({"version": version, "previous": prev_version, "datasets": changes}, indent=2, sort_keys=True) + "\n"
    ).encode()
    manifest = {
        "version": version,
        "snapshot_id": sid,
        "snapshot_time": created,
        "previous": prev_version,
        "base_url": base_url,
        "datasets": results,
        "skipped": skipped,
    }
    files["release.json"] = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    sums = "".join(f"{sha256(files[p])}  {p}\n" for p in sorted(files)).encode()
    files["SHA256SUMS"] = sums
    prefix = f"{RELEASES_PREFIX}/{version}/"
    result = ReleaseResult(
        version=version,
        snapshot_id=sid,
        snapshot_time=stime,
        prefix=prefix,
        datasets=results,
        skipped=skipped,
        files={p: sha256(b) for p, b in sorted(files.items())},
        checksums_sha256=sha256(sums),
        previous=prev_version,
        changelog=changes,
        unchanged=unchanged,
        written=False,
    )
    if skip_unchanged and unchanged:
        result.notes.append(f"data identical to release {prev_version}: nothing written")
        return result
    for path in sorted(files, key=lambda p: (p == "release.json", p == "SHA256SUMS", p)):
        store.put_bytes(prefix + path, files[path], content_type(path))
    result.written = True
    log.info("release %s from snapshot %d: %d datasets, %d skipped", version, sid, len(results), len(skipped))
    return result
