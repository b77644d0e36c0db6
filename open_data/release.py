"""Build a versioned, reproducible, privacy-safe open-data release from one lake snapshot.

``build_release`` reads every dataset AT one DuckLake snapshot, applies the privacy rules, writes
CSV/Parquet/GeoJSON deterministically, and adds a Frictionless ``datapackage.json``, a DCAT-AP 3
catalog (``catalog.ttl``), a data dictionary, licence notices, a changelog against the previous
release and a ``SHA256SUMS`` file. Nothing in a release depends on the build time: metadata times
are the snapshot time, so the same snapshot always gives byte-identical files.

Layout under the object store: ``releases/<version>/`` with ``data/<dataset>.<fmt>``,
``thumbnails/<camera>.jpg`` and the metadata files; ``release.json`` is written last and marks the
release complete.

Time-series datasets with a ``Partitioning`` are written as one file per UTC month (or day):
``data/<dataset>/<fmt>/<YYYY-MM>.<fmt>`` (a folder per format, readable as one dataset) plus
``data/<dataset>/counts.parquet`` (rows per partition, text column and value, for the API's totals). Each partition records a checksum of its source rows
(count and sum of row hashes at the snapshot, plus the writer versions and the dataset's rules);
a partition whose checksum equals the previous release's is linked or copied from it instead of
being re-encoded, which gives the same bytes as encoding it again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from open_data import dcat, formats, metadata, privacy
from open_data.datasets import DATASETS, DatasetSpec, Partitioning, Variant
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
LIST_FILES_SQL = "SELECT data_file, delete_file FROM ducklake_list_files(?, ?, snapshot_version => ?)"
SNAPSHOT_SQL = (
    "SELECT snapshot_id, snapshot_time FROM ducklake_snapshots(" + literal(LAKE_ALIAS) + ") WHERE snapshot_id = ?"
)


class ReleaseError(RuntimeError):
    pass


COUNTS_NAME = "counts.parquet"
BUILD_WORKERS = 2  # partitions encoded at once (each holds one partition in memory)
FAST_SORT_COLUMNS = 3  # columns tried as the sort key of a dataset without leading sort columns
COUNTS_MAX_VALUES = 20_000  # text columns with more distinct values per partition are not counted
CHECKSUM_VERSION = 1
COUNTS_SCHEMA = pa.schema(
    [("part", pa.string()), ("column", pa.string()), ("value", pa.string()), ("rows", pa.int64())]
)


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
    partitions_built: int = 0
    partitions_reused: int = 0
    partitions_checked: int = 0

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


def choose_variant(lake: Lake, spec: DatasetSpec, snapshot_id: int) -> tuple[Variant | None, str]:
    """The first variant whose tables exist at the snapshot; (None, reason) when none does."""
    missing: list[str] = []
    for variant in spec.variants:
        absent = [t for t in variant.tables if not table_exists_at(lake, t, snapshot_id)]
        if absent:
            missing += [t for t in absent if t not in missing]
            continue
        return variant, ""
    return None, f"source table(s) missing at snapshot {snapshot_id}: {', '.join(missing)}"


def _empty(variant: Variant, snapshot_id: int) -> str:
    return f"source table {variant.tables[0]} is empty at snapshot {snapshot_id}"


def extract(lake: Lake, spec: DatasetSpec, snapshot_id: int) -> tuple[pa.Table | None, Variant | None, str]:
    """Run the first variant whose tables exist at the snapshot; (None, None, reason) when none can."""
    variant, why = choose_variant(lake, spec, snapshot_id)
    if variant is None:
        return None, None, why
    table = lake.query(variant.sql, {"snapshot": snapshot_id})
    if table.num_rows == 0:
        return None, variant, _empty(variant, snapshot_id)
    return table, variant, ""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _order_by(names: list[str], leading: tuple[str, ...]) -> str:
    keys = [c for c in leading if c in names]
    keys += [c for c in names if c not in keys]
    return ", ".join(_quote(c) for c in keys)


SORT_KEY_LIMIT = 1 << 62  # the combined key of the fast sort must fit a signed 64-bit integer


def _sort_ranks(col: pa.ChunkedArray) -> tuple[pa.Array, int] | None:
    """Per row, the rank of its value among the column's distinct values (NULL last); None for other types.

    Text compares byte by byte and NULL sorts last, as in DuckDB's default ``ORDER BY``."""
    t = col.type
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        col = pc.cast(col, pa.string())
    elif not (pa.types.is_string(t) or pa.types.is_integer(t) or pa.types.is_timestamp(t) or pa.types.is_date(t)):
        return None
    distinct = pc.unique(col)
    distinct = distinct.take(pc.array_sort_indices(distinct, null_placement="at_end"))
    ranks = pc.cast(pc.index_in(col, value_set=distinct, skip_nulls=False), pa.int64())
    return (ranks.combine_chunks() if isinstance(ranks, pa.ChunkedArray) else ranks), len(distinct)


def _fast_sorted(table: pa.Table, keys: list[str]) -> pa.Table | None:
    """``table`` ordered by ``keys`` when they tell every row apart (then that is also the order by every
    column); None when a key's type is not handled, the key is too wide, or two rows tie on it."""
    if not keys:
        return None
    combined: pa.Array | None = None
    width = 1
    for name in keys:
        got = _sort_ranks(table.column(name))
        if got is None:
            return None
        ranks, n = got
        width *= max(n, 1)
        if width >= SORT_KEY_LIMIT:
            return None
        combined = ranks if combined is None else pc.add(pc.multiply(combined, n), ranks)
    assert combined is not None
    order = pc.sort_indices(combined)
    ordered = combined.take(order)
    if len(ordered) > 1 and pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py():
        return None
    return table.take(order)


def _sorted(table: pa.Table, leading: tuple[str, ...] = ()) -> pa.Table:
    """Rows ordered by ``leading`` columns, then by every column (a total, deterministic order).

    When the leading columns (without any: the first columns) tell every row apart, the rows are ordered
    by them in Arrow, which gives the same order as DuckDB's ``ORDER BY`` of every column at a fraction of
    the cost; otherwise DuckDB sorts by every column."""
    names = table.column_names
    keys = [c for c in leading if c in names] or names[:FAST_SORT_COLUMNS]
    fast = _fast_sorted(table, keys)
    if fast is not None:
        return fast
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_t", table)
        if not leading:
            return con.execute("SELECT * FROM _t ORDER BY ALL").to_arrow_table()
        return con.execute("SELECT * FROM _t ORDER BY " + _order_by(table.column_names, leading)).to_arrow_table()
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
    *,
    presorted: bool = False,
) -> tuple[pa.Table, dict[str, bytes], dict[str, Any]]:
    """Apply every privacy rule to one extracted table; returns (table, extra files, stats).

    ``presorted``: the rows already come in the release order (then they are sorted again only when a
    redaction changed a value)."""
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
    if not presorted or redacted or extra:
        table = _sorted(table, spec.partition.sort if spec.partition else ())
    table = formats.normalise(table)
    if spec.suppression is not None:
        table, n = privacy.suppress_small_counts(table, spec.suppression, threshold)
        stats["suppressed_rows"] = n
    for col in spec.camera_time_columns:
        privacy.assert_time_grain(table, col)
    return table, extra, stats


def _encode_one(fmt: str, table: pa.Table, partition: bool) -> bytes:
    if fmt == "csv":
        return formats.to_csv(table)
    if fmt == "parquet":
        return formats.to_parquet(table, partition=partition)
    if fmt == "geojson":
        return formats.to_geojson(table)
    raise ReleaseError(f"unknown format {fmt!r}")


def _encode(spec: DatasetSpec, table: pa.Table, *, partition: bool = False) -> dict[str, bytes]:
    """Every format of one table; a partition's formats are encoded side by side (Arrow releases the GIL)."""
    if not partition or len(spec.formats) < 2:
        return {fmt: _encode_one(fmt, table, partition) for fmt in spec.formats}
    with ThreadPoolExecutor(max_workers=len(spec.formats), thread_name_prefix="release-encode") as pool:
        jobs = {fmt: pool.submit(_encode_one, fmt, table, partition) for fmt in spec.formats}
        return {fmt: job.result() for fmt, job in jobs.items()}


# -- partitioned datasets -----------------------------------------------------------------------
NULL_PART = "none"  # the partition of rows whose time is NULL


@dataclass
class PartitionedBuild:
    """What building one partitioned dataset produced (its files are already in the store)."""

    entry: dict[str, Any]
    digests: dict[str, str]  # path in the release -> sha256, for the partitions' files
    pending: dict[str, bytes]  # small files still to write (the counts)
    links: list[tuple[str, str]]  # (previous key, path in the release) still to copy
    written: list[str]  # paths already written into the release
    added: int
    removed: int
    built: int
    reused: int
    checked: int  # partitions whose checksums were computed by a scan (the others: unchanged lake files)


def _part_key_sql(column: str, col_type: pa.DataType, grain: str) -> str:
    fmt = "'%Y-%m-%d'" if grain == "day" else "'%Y-%m'"
    col = _quote(column)
    if pa.types.is_timestamp(col_type) and col_type.tz is not None:
        return f"strftime(timezone('UTC', {col}), {fmt})"
    return f"strftime({col}, {fmt})"


def _part_bounds(key: str, grain: str, col_type: pa.DataType) -> tuple[date | datetime, date | datetime]:
    if grain == "day":
        lo = date.fromisoformat(key)
        hi = date.fromordinal(lo.toordinal() + 1)
    else:
        year, month = (int(x) for x in key.split("-"))
        lo, hi = date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
    if pa.types.is_date(col_type):
        return lo, hi
    tz = UTC if pa.types.is_timestamp(col_type) and col_type.tz is not None else None
    return (
        datetime(lo.year, lo.month, lo.day, tzinfo=tz),
        datetime(hi.year, hi.month, hi.day, tzinfo=tz),
    )


def _rules_digest(spec: DatasetSpec, variant: Variant, threshold: int, schema: pa.Schema) -> str:
    """Everything besides the source rows that shapes a partition's bytes (the source schema included)."""
    rules = [
        str(schema),
        CHECKSUM_VERSION,
        duckdb.__version__,
        pa.__version__,
        variant.sql,
        variant.curated,
        list(spec.formats),
        repr(spec.suppression),
        threshold,
        repr(spec.partition),
        list(spec.camera_time_columns),
        formats.PARQUET_OPTIONS,
        formats.PARTITION_ROW_GROUP,
        formats.BLOOM_FPP,
        formats.TS_FORMAT,
        COUNTS_MAX_VALUES,
    ]
    return sha256(json.dumps(rules, sort_keys=True, default=str).encode())


def _where_parts(part: Partitioning, col_type: pa.DataType, keys: set[str]) -> tuple[str, dict[str, Any]]:
    """A WHERE clause (and its parameters) selecting the rows of the partitions ``keys``."""
    col = _quote(part.column)
    ors: list[str] = []
    params: dict[str, Any] = {}
    for i, key in enumerate(sorted(keys)):
        if key == NULL_PART:
            ors.append(f"{col} IS NULL")
            continue
        params[f"lo{i}"], params[f"hi{i}"] = _part_bounds(key, part.grain, col_type)
        ors.append(f"({col} >= $lo{i} AND {col} < $hi{i})")
    return " OR ".join(ors) or "FALSE", params


def touched_parts(
    lake: Lake, variant: Variant, part: Partitioning, col_type: pa.DataType, since: int, snapshot_id: int
) -> set[str] | None:
    """Partition keys whose source rows may differ between snapshots ``since`` and ``snapshot_id``.

    Read from the lake's file lists: a partition can only change through a data file (or its delete file)
    that one snapshot has and the other has not, so the keys found in those files' partition column are
    the candidates. None when this cannot be told (several source tables, the column is not the source
    table's own column of that type, a file or snapshot is gone): then every partition is checked.
    """
    if len(variant.tables) != 1:
        return None
    table = variant.tables[0]
    try:
        cols = {r["column_name"]: r["column_type"] for r in lake.query(f"DESCRIBE {ident(table)}").to_pylist()}
        probe = lake.query(f"SELECT {_quote(part.column)} FROM {ident(table)} LIMIT 0").schema
        if part.column not in cols or probe.field(part.column).type != col_type:
            return None
        listed = [
            {(r["data_file"], r["delete_file"]) for r in lake.query(LIST_FILES_SQL, [LAKE_ALIAS, table, s]).to_pylist()}
            for s in (since, snapshot_id)
        ]
        changed = sorted({data for data, _ in listed[0] ^ listed[1]})
        if not changed:
            return set()
        key_sql = _part_key_sql(part.column, col_type, part.grain)
        col = _quote(part.column)
        rows = lake.query(
            f"SELECT DISTINCT {key_sql} AS k FROM (SELECT DISTINCT {col} FROM read_parquet(?))", [changed]
        ).to_pylist()
    except (duckdb.Error, KeyError):
        log.info("cannot tell the changed partitions of %s from its files; checking every partition", table)
        return None
    return {r["k"] if r["k"] is not None else NULL_PART for r in rows}


ROW_WISE_BLOCKERS = re.compile(r"\b(GROUP\s+BY|DISTINCT|JOIN|OVER|UNION|EXCEPT|INTERSECT|LIMIT|QUALIFY|HAVING)\b", re.I)


def rows_only_appended(lake: Lake, spec: DatasetSpec, variant: Variant, since: int, snapshot_id: int) -> bool:
    """True when the released rows at ``snapshot_id`` are those at ``since`` plus new ones, told without
    reading any rows: every lake file (and delete file) of ``since`` is still there, and each released row
    comes from one source row (one table, one plain projection, no suppression or thumbnails). Then a
    rebuilt partition's rows added are the difference of its row counts, and none was removed."""
    if len(variant.tables) != 1 or spec.suppression is not None or spec.thumbnails or not variant.curated:
        return False
    if ROW_WISE_BLOCKERS.search(variant.sql) or variant.sql.upper().count("SELECT") != 1:
        return False
    try:
        before, after = (
            {
                (r["data_file"], r["delete_file"])
                for r in lake.query(LIST_FILES_SQL, [LAKE_ALIAS, variant.tables[0], s]).to_pylist()
            }
            for s in (since, snapshot_id)
        )
    except (duckdb.Error, KeyError):
        return False
    return before <= after


def part_checksums(
    lake: Lake,
    variant: Variant,
    part: Partitioning,
    snapshot_id: int,
    rules: str,
    schema: pa.Schema,
    previous: tuple[int, dict[str, tuple[int, str]]] | None = None,
) -> tuple[dict[str, tuple[int, str]], int]:
    """Per partition key, (rows, checksum of the rows and the rules), and how many partitions were scanned.

    ``previous`` = (snapshot, its checksums computed under the same rules): partitions no changed lake file
    can reach keep their previous checksums, and only the others are scanned; otherwise one scan covers all.
    """
    params: dict[str, Any] = {"snapshot": snapshot_id}
    col_type = schema.field(part.column).type
    key_sql = _part_key_sql(part.column, col_type, part.grain)
    cols = ", ".join(_quote(c) for c in schema.names)
    touched = touched_parts(lake, variant, part, col_type, previous[0], snapshot_id) if previous else None
    where = ""
    out: dict[str, tuple[int, str]] = {}
    if touched is not None and previous is not None:
        out = {k: v for k, v in previous[1].items() if k not in touched}
        clause, more = _where_parts(part, col_type, touched)
        where, params = f" WHERE {clause}", {**params, **more}
    # rows are first grouped by the raw partition column (a cheap key; hourly data has few values), so the
    # partition key is formatted once per distinct value instead of once per row
    col = _quote(part.column)
    rows = lake.query(
        f"SELECT {key_sql} AS k, sum(n)::BIGINT AS n, sum(h)::VARCHAR AS h FROM ("
        f"SELECT {col}, count(*) AS n, sum(hash({cols})) AS h FROM ({variant.sql}) AS _v{where} GROUP BY ALL"
        ") GROUP BY ALL",
        params,
    ).to_pylist()
    for r in rows:
        key = r["k"] if r["k"] is not None else NULL_PART
        out[key] = (int(r["n"]), sha256(f"{rules}:{key}:{r['n']}:{r['h']}".encode()))
    return dict(sorted(out.items())), len(rows)


def _part_rows(lake: Lake, variant: Variant, part: Partitioning, schema: pa.Schema, key: str, sid: int) -> pa.Table:
    """The rows of one partition, in release order."""
    col = _quote(part.column)
    if key == NULL_PART:
        sql = f"SELECT * FROM ({variant.sql}) AS _v WHERE {col} IS NULL"
        return _sorted(lake.query(sql, {"snapshot": sid}), part.sort)
    lo, hi = _part_bounds(key, part.grain, schema.field(part.column).type)
    sql = f"SELECT * FROM ({variant.sql}) AS _v WHERE {col} >= $lo AND {col} < $hi"
    return _sorted(lake.query(sql, {"snapshot": sid, "lo": lo, "hi": hi}), part.sort)


def value_counts(table: pa.Table, key: str) -> tuple[list[str], pa.Table]:
    """Rows per value of each text column (columns with at most ``COUNTS_MAX_VALUES`` values)."""
    counted: list[str] = []
    parts: list[pa.Table] = []
    for f, col in zip(table.schema, table.columns, strict=True):
        if not pa.types.is_string(f.type):
            continue
        vc = pc.value_counts(col)
        if len(vc) > COUNTS_MAX_VALUES:
            continue
        counted.append(f.name)
        n = len(vc)
        parts.append(
            pa.table(
                {
                    "part": pa.array([key] * n, pa.string()),
                    "column": pa.array([f.name] * n, pa.string()),
                    "value": vc.field("values"),
                    "rows": pc.cast(vc.field("counts"), pa.int64()),
                },
                schema=COUNTS_SCHEMA,
            )
        )
    return counted, pa.concat_tables(parts) if parts else COUNTS_SCHEMA.empty_table()


def _counts_bytes(tables: list[pa.Table]) -> bytes:
    table = pa.concat_tables(tables) if tables else COUNTS_SCHEMA.empty_table()
    keys = [(c, "ascending", "at_start") for c in ("part", "column", "value")]
    order = pc.sort_indices(table, sort_keys=keys)
    buf = io.BytesIO()
    pq.write_table(table.take(order), buf, **formats.PARQUET_OPTIONS)
    return buf.getvalue()


def _merge_stats(total: dict[str, Any], stats: dict[str, Any]) -> None:
    for k, v in stats.items():
        if isinstance(v, list):
            total[k] = sorted(set(total.get(k, [])) | set(v))
        else:
            total[k] = total.get(k, 0) + v


def _parts_digest(parts: list[tuple[str, str]]) -> str:
    """sha256 of the ``<sha256>  <path>`` lines of a dataset's parts (its checksum in the manifest)."""
    return sha256("".join(f"{digest}  {path}\n" for path, digest in parts).encode())


def build_partitioned(
    lake: Lake,
    store: ObjectStore,
    spec: DatasetSpec,
    variant: Variant,
    sid: int,
    prefix: str,
    prev: dict[str, Any] | None,
    threshold: int,
) -> PartitionedBuild | None:
    """Write the partitions of ``spec`` under ``prefix``; None when the source has no rows."""
    part = spec.partition
    assert part is not None
    schema = lake.query(f"SELECT * FROM ({variant.sql}) AS _v LIMIT 0", {"snapshot": sid}).schema
    if part.column not in schema.names:
        raise ReleaseError(f"partition column {part.column!r} not in the dataset")
    rules = _rules_digest(spec, variant, threshold, schema)
    prev_ds = next((d for d in (prev or {}).get("datasets", []) if d.get("name") == spec.name), None)
    since = None
    if prev is not None and prev_ds is not None and prev_ds.get("rules") == rules and prev_ds.get("partitions"):
        sums_before = {p["key"]: (int(p["rows"]), str(p["checksum"])) for p in prev_ds["partitions"]}
        since = (int(prev["snapshot_id"]), sums_before)
    sums, checked = part_checksums(lake, variant, part, sid, rules, schema, since)
    appended = since is not None and rows_only_appended(lake, spec, variant, since[0], sid)
    if not sums:
        return None
    prev_parts = {p["key"]: p for p in (prev_ds or {}).get("partitions", [])}
    prev_counts: pa.Table | None = None
    if prev_parts and prev_ds and prev_ds.get("counts") and prev is not None:
        try:
            key = f"{RELEASES_PREFIX}/{prev['version']}/{prev_ds['counts']['path']}"
            prev_counts = pq.read_table(io.BytesIO(store.get_bytes(key)))
        except (ObjectNotFoundError, FileNotFoundError, pa.ArrowInvalid):
            prev_counts = None
    base = f"data/{spec.name}/"
    parts_meta: list[dict[str, Any]] = []
    digests: dict[str, str] = {}
    links: list[tuple[str, str]] = []
    written: list[str] = []
    counts: list[pa.Table] = []
    stats: dict[str, Any] = {}
    out_schema: list[tuple[str, str]] | None = None
    added = removed = built = reused = 0

    def build_part(key: str, checksum: str, old: dict[str, Any] | None) -> dict[str, Any]:
        table = _part_rows(lake, variant, part, schema, key, sid)
        table, _extra, part_stats = prepare(spec, table, variant, store, threshold, presorted=True)
        files_meta: dict[str, dict[str, Any]] = {}
        paths: dict[str, str] = {}
        for fmt, data in _encode(spec, table, partition=True).items():
            path = f"{base}{fmt}/{key}.{fmt}"
            store.put_bytes(prefix + path, data, content_type(path), durable=False)  # synced before release.json
            paths[path] = sha256(data)
            files_meta[fmt] = {"path": path, "bytes": len(data), "sha256": paths[path]}
        counted, vc = value_counts(table, key)
        a = r = 0
        old_files = (old or {}).get("files", {})
        if old is None:
            a = table.num_rows
        elif appended and table.num_rows >= int(old.get("rows", 0)):
            a = table.num_rows - int(old.get("rows", 0))
        elif prev is not None and "parquet" in old_files:
            try:
                old_key = f"{RELEASES_PREFIX}/{prev['version']}/{old_files['parquet']['path']}"
                a, r = _diff_rows(table, pq.read_table(io.BytesIO(store.get_bytes(old_key))))
            except (ObjectNotFoundError, FileNotFoundError):
                a, r = table.num_rows, int(old.get("rows", 0))
        meta = {
            "key": key,
            "rows": table.num_rows,
            "checksum": checksum,
            "files": files_meta,
            "counted": counted,
            "stats": part_stats,
            "schema": [(f.name, formats.frictionless_type(f.type)) for f in table.schema],
        }
        return {"meta": meta, "counts": vc, "paths": paths, "added": a, "removed": r}

    # partitions to build run on a small pool (each one sorts and encodes while another reads the lake);
    # the results are assembled in key order, so the output does not depend on which finishes first
    done: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=BUILD_WORKERS, thread_name_prefix="release-part") as pool:
        for key, (_rows, checksum) in sums.items():
            old = prev_parts.get(key)
            old_files = (old or {}).get("files", {})
            if (
                old is not None
                and prev is not None
                and prev_counts is not None
                and old.get("checksum") == checksum
                and all(fmt in old_files for fmt in spec.formats)
            ):
                done[key] = old
            else:
                done[key] = pool.submit(build_part, key, checksum, old)
        for key in sums:
            item = done[key]
            if isinstance(item, Future):
                got = item.result()
                meta = got["meta"]
                counts.append(got["counts"])
                for path, digest in got["paths"].items():
                    written.append(path)
                    digests[path] = digest
                added += got["added"]
                removed += got["removed"]
                built += 1
            else:
                assert prev is not None and prev_counts is not None
                meta = {k: item[k] for k in ("key", "rows", "checksum", "files", "counted", "stats")}
                meta["schema"] = prev_ds["schema"] if prev_ds else []
                for f in meta["files"].values():
                    links.append((f"{RELEASES_PREFIX}/{prev['version']}/{f['path']}", f["path"]))
                    digests[f["path"]] = f["sha256"]
                counts.append(prev_counts.filter(pc.equal(prev_counts["part"], key)))
                reused += 1
            part_schema = [(str(n), str(t)) for n, t in meta.pop("schema")]
            if out_schema is None:
                out_schema = part_schema
            elif out_schema != part_schema:
                raise ReleaseError(f"{spec.name}: partition {key} has a different schema")
            _merge_stats(stats, meta["stats"])
            parts_meta.append(meta)
    removed += sum(int(p.get("rows", 0)) for k, p in prev_parts.items() if k not in sums)
    if prev_ds is not None and not prev_parts:  # the previous release had one file: compare totals only
        added, removed = sum(p["rows"] for p in parts_meta), int(prev_ds.get("rows", 0))
    counts_data = _counts_bytes(counts)
    counts_path = f"{base}{COUNTS_NAME}"
    files = {}
    for fmt in spec.formats:
        listed = [(p["files"][fmt]["path"], p["files"][fmt]["sha256"]) for p in parts_meta]
        files[fmt] = {
            "path": f"{base}{fmt}/",
            "bytes": sum(p["files"][fmt]["bytes"] for p in parts_meta),
            "sha256": _parts_digest(listed),
            "parts": [path for path, _ in listed],
        }
    entry = {
        "name": spec.name,
        "title": spec.title,
        "rows": sum(p["rows"] for p in parts_meta),
        "schema": out_schema or [],
        "files": files,
        "source_tables": list(variant.tables),
        "stats": stats,
        "partitioning": {"column": part.column, "grain": part.grain, "sort": list(part.sort)},
        "rules": rules,
        "partitions": parts_meta,
        "counts": {"path": counts_path, "bytes": len(counts_data), "sha256": sha256(counts_data)},
    }
    return PartitionedBuild(
        entry, digests, {counts_path: counts_data}, links, written, added, removed, built, reused, checked
    )


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
    """(rows added, rows removed) between two versions of a table, as multisets of row hashes."""
    common = [c for c in current.column_names if c in previous.column_names]
    cols = ", ".join(_quote(c) for c in common)
    con = duckdb.connect()
    try:
        con.register("_cur", current.select(common))
        con.register("_prev", previous.select(common))
        row = con.execute(
            f"""WITH a AS (SELECT hash({cols}) AS h, count(*) AS n FROM _cur GROUP BY 1),
                     b AS (SELECT hash({cols}) AS h, count(*) AS n FROM _prev GROUP BY 1)
                SELECT coalesce(sum(greatest(coalesce(a.n, 0) - coalesce(b.n, 0), 0)), 0),
                       coalesce(sum(greatest(coalesce(b.n, 0) - coalesce(a.n, 0), 0)), 0)
                FROM a FULL OUTER JOIN b USING (h)"""
        ).fetchone()
    finally:
        con.close()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def changelog(
    store: ObjectStore,
    prev: dict[str, Any] | None,
    datasets: list[dict[str, Any]],
    tables: dict[str, pa.Table],
    skipped: dict[str, str],
    diffs: dict[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Per dataset: status, rows added/removed (``diffs`` gives them for partitioned datasets)."""
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
            elif diffs and name in diffs:
                added, removed = diffs[name]
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
    prefix = f"{RELEASES_PREFIX}/{version}/"
    prev = _previous(store, version, previous)
    digests: dict[str, str] = {}  # files already in the store (partitions, counts) -> sha256
    links: list[tuple[str, str]] = []
    written: list[str] = []
    diffs: dict[str, tuple[int, int]] = {}
    built = reused = checked = 0
    for spec in datasets:
        if spec.partition is not None:
            variant, why = choose_variant(lake, spec, sid)
            part_build = None
            if variant is not None:
                part_build = build_partitioned(lake, store, spec, variant, sid, prefix, prev, threshold)
                if part_build is None:
                    why = _empty(variant, sid)
            if part_build is None:
                skipped[spec.name] = why
                log.info("release %s: skipping %s (%s)", version, spec.name, why)
                continue
            results.append(part_build.entry)
            digests.update(part_build.digests)
            files.update(part_build.pending)
            links += part_build.links
            written += part_build.written
            diffs[spec.name] = (part_build.added, part_build.removed)
            built += part_build.built
            reused += part_build.reused
            checked += part_build.checked
            continue
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
    changes = changelog(store, prev, results, tables, skipped, diffs)
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
    digests.update({p: sha256(b) for p, b in files.items()})
    sums = "".join(f"{digests[p]}  {p}\n" for p in sorted(digests)).encode()
    files["SHA256SUMS"] = sums
    digests["SHA256SUMS"] = sha256(sums)
    result = ReleaseResult(
        version=version,
        snapshot_id=sid,
        snapshot_time=stime,
        prefix=prefix,
        datasets=results,
        skipped=skipped,
        files=dict(sorted(digests.items())),
        checksums_sha256=sha256(sums),
        previous=prev_version,
        changelog=changes,
        unchanged=unchanged,
        written=False,
        partitions_built=built,
        partitions_reused=reused,
        partitions_checked=checked,
    )
    if skip_unchanged and unchanged:
        for path in written:
            store.delete(prefix + path)
        result.notes.append(f"data identical to release {prev_version}: nothing written")
        return result
    for src, path in links:
        store.copy(src, prefix + path)
    store.sync([prefix + p for p in written])  # every partition is on disk before the release is marked complete
    for path in sorted(files, key=lambda p: (p == "release.json", p == "SHA256SUMS", p)):
        store.put_bytes(prefix + path, files[path], content_type(path))
    result.written = True
    log.info("release %s from snapshot %d: %d datasets, %d skipped", version, sid, len(results), len(skipped))
    return result
