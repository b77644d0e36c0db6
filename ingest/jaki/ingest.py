"""Ingest Jaki exports into the lake: read, check, hash, validate (GE), load, account.

One file = one transaction: the accepted rows, the quarantine records and the ledger row commit
together, so a crash never leaves a file half-loaded, and a re-run of the same file is skipped by
its SHA-256 checksum. Rows are inserted by row key (anti-join against the lake), so overlapping
files never create duplicates either; a row whose key is already stored is quarantined with the
reason, which keeps the accounting exact: ``rows_read == rows_accepted + rows_quarantined``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from ingest.jaki.privacy import check_salt, hash_series
from ingest.jaki.readers import LINE, Format, SchemaDriftError, detect_format, read_export
from ingest.jaki.schemas import SPECS, TableSpec, spec_for
from ingest.jaki.validate import check_rows, run_ge
from warehouse.lake import Lake, ident
from warehouse.object_store import ObjectStore

log = logging.getLogger(__name__)

LANDING_PREFIX = "landing/jaki"


@dataclass(frozen=True)
class JakiConfig:
    """Ingestion settings. ``salt`` comes from PANTAU_SALT (settings.salt)."""

    salt: str
    ge_sample_rows: int | None = 50_000  # rows handed to GE per batch (None = all)
    run_ge: bool = True
    landing_prefix: str = LANDING_PREFIX

    def __post_init__(self) -> None:
        check_salt(self.salt)


@dataclass
class IngestStats:
    table: str
    source_file: str
    checksum: str
    format: str
    status: str  # loaded | skipped | rejected
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    fields_redacted: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    check_counts: dict[str, int] = field(default_factory=dict)
    message: str = ""
    ge_success: bool | None = None
    ge_rows_validated: int = 0
    seconds_read: float = 0.0
    seconds_check: float = 0.0
    seconds_ge: float = 0.0
    seconds_write: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ContractViolationError(RuntimeError):
    """Great Expectations rejected an accepted batch: the fast checks let bad data through."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def already_loaded(lake: Lake, checksum: str, table: str) -> bool:
    n = lake.scalar(
        "SELECT count(*) FROM jaki_ingested_files WHERE checksum = ? AND table_name = ? AND status = 'loaded'",
        [checksum, table],
    )
    return bool(n)


def to_lake_layout(accepted: pl.DataFrame, spec: TableSpec, source_file: str, salt: str, now: datetime) -> pl.DataFrame:
    """Hash identifiers, rename to lake columns and add provenance."""
    out = accepted
    for c in spec.columns:
        if c.pii == "hash":
            out = out.with_columns(hash_series(out.get_column(c.name), salt).alias(c.name))
    out = out.rename({c.name: c.lake_name for c in spec.columns if c.lake_name != c.name})
    return out.select(
        *spec.lake_columns,
        pl.lit(source_file).alias("source_file"),
        pl.col(LINE).alias("source_line"),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("ingested_at"),
    )


def ingest_bytes(
    lake: Lake,
    data: bytes,
    table: str,
    source_file: str,
    config: JakiConfig,
    *,
    fmt: Format | None = None,
    delimiter: str = ",",
    extra_write: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    force: bool = False,
) -> IngestStats:
    """Ingest one export (already fetched) into ``table``. Raises nothing for bad rows; raises
    :class:`SchemaDriftError` after recording a rejected file in the ledger."""
    spec = spec_for(table)
    checksum = _sha256(data)
    fmt = fmt or detect_format(source_file)
    stats = IngestStats(spec.table, source_file, checksum, fmt, "loaded")
    if not force and already_loaded(lake, checksum, spec.table):
        stats.status = "skipped"
        stats.message = "same checksum already loaded"
        log.info("skip %s: already loaded", source_file)
        return stats
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        raw = read_export(data, spec, source_file, fmt, delimiter=delimiter)
    except SchemaDriftError as exc:
        stats.status = "rejected"
        stats.message = str(exc)
        _record_rejected(lake, stats, len(data), now)
        raise
    stats.dropped_columns = raw.dropped_columns
    stats.seconds_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    checked = check_rows(raw, spec)
    lake_rows = to_lake_layout(checked.accepted, spec, source_file, config.salt, now)
    stats.seconds_check = time.perf_counter() - t0
    stats.fields_redacted = checked.fields_redacted
    stats.check_counts = dict(checked.check_counts)

    if config.run_ge and lake_rows.height:
        t0 = time.perf_counter()
        report = run_ge(lake_rows, spec, stored=True, sample_rows=config.ge_sample_rows)
        stats.seconds_ge = time.perf_counter() - t0
        stats.ge_success = report.success
        stats.ge_rows_validated = report.rows_validated
        if not report.success:
            failed = ", ".join(f"{o.name} ({o.unexpected_count})" for o in report.failed)
            stats.status = "rejected"
            stats.message = f"Great Expectations contract failed: {failed}"
            _record_rejected(lake, stats, len(data), now)
            raise ContractViolationError(f"{source_file}: {stats.message}")

    t0 = time.perf_counter()
    quarantine = checked.quarantine
    rows_read = raw.rows_read
    arrow_rows = lake_rows.to_arrow()

    def _write(cur: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        t = ident(spec.table)
        keys = spec.lake_keys
        cond = " AND ".join(f"t.{ident(k)} = b.{ident(k)}" for k in keys)
        tcol = ident(spec.column(spec.time_column).lake_name)
        cur.register("_jaki_batch", arrow_rows)
        try:
            # rows whose key is already stored: quarantined as duplicates of earlier loads
            bounds = cur.execute(f"SELECT min({tcol}), max({tcol}) FROM _jaki_batch").fetchone()
            dup_lines: list[int] = []
            if bounds is not None and bounds[0] is not None:
                dup_lines = [
                    int(r[0])
                    for r in cur.execute(
                        f"SELECT b.source_line FROM _jaki_batch b WHERE EXISTS (SELECT 1 FROM {t} t "
                        f"WHERE t.{tcol} BETWEEN ? AND ? AND {cond})",
                        [bounds[0], bounds[1]],
                    ).fetchall()
                ]
            if dup_lines:
                cur.execute(
                    f"INSERT INTO {t} BY NAME SELECT * FROM _jaki_batch WHERE source_line NOT IN "
                    "(SELECT unnest(?::BIGINT[]))",
                    [dup_lines],
                )
            else:
                cur.execute(f"INSERT INTO {t} BY NAME SELECT * FROM _jaki_batch")
        finally:
            cur.unregister("_jaki_batch")
        q = quarantine
        if dup_lines:
            key0 = spec.keys[0]
            q = pl.concat(
                [
                    q,
                    pl.DataFrame(
                        {
                            "line": dup_lines,
                            "column_name": [key0] * len(dup_lines),
                            "value": [None] * len(dup_lines),
                            "reason": ["expect_column_values_to_be_unique: key already loaded from an earlier file"]
                            * len(dup_lines),
                            "check_name": ["expect_column_values_to_be_unique"] * len(dup_lines),
                        },
                        schema=q.schema,
                    ),
                ]
            )
        n_quarantined = q.select(pl.col("line").n_unique()).item() if q.height else 0
        if q.height:
            qa = q.with_columns(
                pl.lit(spec.table).alias("table_name"),
                pl.lit(source_file).alias("source_file"),
                pl.lit(checksum).alias("checksum"),
                pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("quarantined_at"),
            ).to_arrow()
            cur.register("_jaki_q", qa)
            try:
                cur.execute("INSERT INTO jaki_quarantine BY NAME SELECT * FROM _jaki_q")
            finally:
                cur.unregister("_jaki_q")
        accepted = arrow_rows.num_rows - len(dup_lines)
        if rows_read != accepted + n_quarantined:
            raise RuntimeError(
                f"row accounting broken for {source_file}: read {rows_read} != accepted {accepted} + quarantined {n_quarantined}"
            )
        cur.execute(
            "INSERT INTO jaki_ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, ?, ?, ?)",
            [
                source_file,
                checksum,
                spec.table,
                fmt,
                len(data),
                rows_read,
                accepted,
                n_quarantined,
                checked.fields_redacted,
                "",
                stats.ge_success,
                stats.ge_rows_validated,
                stats.seconds_read + stats.seconds_check + stats.seconds_ge,
                now,
            ],
        )
        if extra_write is not None:
            extra_write(cur)
        return accepted, n_quarantined

    accepted, n_quarantined = lake.write(_write)
    stats.seconds_write = time.perf_counter() - t0
    stats.rows_read = rows_read
    stats.rows_accepted = accepted
    stats.rows_quarantined = n_quarantined
    stats.check_counts.setdefault("expect_column_values_to_be_unique", 0)
    log.info(
        "%s -> %s: read %d, accepted %d, quarantined %d", source_file, spec.table, rows_read, accepted, n_quarantined
    )
    return stats


def _record_rejected(lake: Lake, stats: IngestStats, size: int, now: datetime) -> None:
    def _do(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            "INSERT INTO jaki_ingested_files VALUES (?, ?, ?, ?, ?, NULL, 0, NULL, 0, 'rejected', ?, ?, ?, NULL, ?)",
            [
                stats.source_file,
                stats.checksum,
                stats.table,
                stats.format,
                size,
                stats.message,
                stats.ge_success,
                stats.ge_rows_validated,
                now,
            ],
        )
        cur.execute(
            "INSERT INTO jaki_quarantine VALUES (?, ?, NULL, NULL, NULL, ?, 'file_rejected', ?, ?)",
            [stats.table, stats.source_file, stats.message, stats.checksum, now],
        )

    lake.write(_do)


def landing_key(table: str, day: str, name: str, prefix: str = LANDING_PREFIX) -> str:
    return f"{prefix}/{spec_for(table).name}/dt={day}/{name}"


def ingest_file(lake: Lake, store: ObjectStore, key: str, config: JakiConfig, table: str | None = None) -> IngestStats:
    """Ingest one landing-zone object. The table is taken from the key (``landing/jaki/<table>/...``)."""
    table = table or table_from_key(key, config.landing_prefix)
    return ingest_bytes(lake, store.get_bytes(key), table, key, config)


def table_from_key(key: str, prefix: str = LANDING_PREFIX) -> str:
    rest = key[len(prefix) :].strip("/") if key.startswith(prefix) else key
    name = rest.split("/", 1)[0]
    return spec_for(name).table


INGESTED_KEYS_SQL = "SELECT DISTINCT source_file FROM jaki_ingested_files"


def landing_exports(
    store: ObjectStore, landing_prefix: str = LANDING_PREFIX, names: Iterable[str] | None = None, *, warn: bool = True
) -> Iterator[tuple[str, str]]:
    """(feature name, key) of every export file under the landing prefix, by feature then key.

    Files that are not a Jaki export format are skipped (with a warning unless ``warn`` is off).
    """
    for name in sorted(set(names) if names is not None else set(SPECS)):
        for info in sorted(store.list(f"{landing_prefix}/{name}/"), key=lambda i: i.key):
            try:
                detect_format(info.key)
            except ValueError:
                if warn:
                    log.warning("ignoring %s: not a Jaki export format", info.key)
                continue
            yield name, info.key


def pending_exports(lake: Lake, store: ObjectStore, landing_prefix: str = LANDING_PREFIX) -> list[str]:
    """Export files in the landing zone the load log has never seen (loaded or rejected), oldest key first.

    What the orchestration's sensor polls; the ingestion itself still skips content it loaded before
    (by checksum), so a file re-sent under a new name is not loaded twice.
    """
    done = set(lake.query(INGESTED_KEYS_SQL).column(0).to_pylist())
    return sorted(key for _, key in landing_exports(store, landing_prefix, warn=False) if key not in done)


def ingest_landing(
    lake: Lake, store: ObjectStore, config: JakiConfig, tables: Iterable[str] | None = None
) -> list[IngestStats]:
    """Ingest every export under the landing prefix not yet loaded (by checksum); one stats per file.

    Schema-drifted files are recorded as rejected (and quarantined as a whole) without stopping
    the other files.
    """
    wanted = [spec_for(t).name for t in tables] if tables is not None else None
    results: list[IngestStats] = []
    for name, key in landing_exports(store, config.landing_prefix, wanted):
        try:
            results.append(ingest_file(lake, store, key, config, SPECS[name].table))
        except (SchemaDriftError, ContractViolationError) as exc:
            log.error("rejected %s: %s", key, exc)
            results.append(IngestStats(SPECS[name].table, key, "", detect_format(key), "rejected", message=str(exc)))
    return results


def accounting_table(stats: list[IngestStats]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "table": s.table,
                "source_file": s.source_file,
                "status": s.status,
                "rows_read": s.rows_read,
                "rows_accepted": s.rows_accepted,
                "rows_quarantined": s.rows_quarantined,
                "fields_redacted": s.fields_redacted,
                "balanced": s.balanced,
            }
            for s in stats
        ]
    )
