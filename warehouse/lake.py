"""The Pantau lakehouse: DuckLake over a SQLite or PostgreSQL catalog.

Two configurations, selected by ``LakeConfig.catalog``:

* ``sqlite`` (embedded default): catalog ``<root>/lake/catalog.sqlite`` and Parquet data
  files below ``<root>/lake/data/``. Several processes may read and write at once:
  writers are serialised by an advisory file lock (SQLite allows a single writer),
  readers never block (the catalog runs in WAL mode).
* ``postgres`` (scale-out): catalog in a PostgreSQL database and data files on an
  S3 path (MinIO in production). Concurrent writers are resolved by DuckLake's
  optimistic commits, retried here.

Everything else (tables, SQL, helpers) is identical in both configurations.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from warehouse.extensions import load_extensions

log = logging.getLogger(__name__)

LAKE_ALIAS = "lake"
MIGRATIONS_DIR = Path(__file__).parent / "sql" / "migrations"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """Validate an SQL identifier (table/column names cannot be bound parameters)."""
    if not _IDENT.match(name):
        raise ValueError(f"invalid SQL identifier {name!r}")
    return name


def literal(value: str) -> str:
    """Quote a string literal for statements that cannot take bound parameters (ATTACH, SECRET)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class S3Config:
    endpoint: str  # host:port
    access_key: str
    secret_key: str
    bucket: str
    region: str = "us-east-1"
    secure: bool = False


@dataclass(frozen=True)
class LakeConfig:
    """Where the lake lives. ``catalog`` is the one setting that switches deployments."""

    catalog: Literal["sqlite", "postgres"] = "sqlite"
    root: Path = Path("pantau-data")
    postgres_dsn: str = "host=127.0.0.1 port=5432 dbname=pantau user=postgres"
    s3: S3Config | None = None
    s3_prefix: str = "lake"
    retries: int = 30
    extra_extensions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def lake_dir(self) -> Path:
        return Path(self.root) / "lake"

    @property
    def catalog_path(self) -> Path:
        return self.lake_dir / "catalog.sqlite"

    @property
    def data_path(self) -> str:
        if self.catalog == "postgres":
            if self.s3 is None:
                raise ValueError("the postgres lake needs an S3 data path: set s3")
            return f"s3://{self.s3.bucket}/{self.s3_prefix.strip('/')}/"
        return str(self.lake_dir.resolve() / "data") + "/"


class LakeError(RuntimeError):
    pass


def _is_retryable(exc: Exception) -> bool:
    msg = str(exc).lower()
    return any(
        s in msg
        for s in (
            "database is locked",
            "conflict",
            "could not serialize",
            "deadlock",
            "failed to commit",
            "busy",
            "connection",
        )
    )


def is_retryable(exc: Exception) -> bool:
    """Whether a lake error is a commit conflict or a lost connection worth retrying (upkeep calls use it too)."""
    return _is_retryable(exc)


class Lake:
    """A handle on the lakehouse; safe to share between threads of one process."""

    def __init__(self, config: LakeConfig | None = None, *, read_only: bool = False) -> None:
        self.config = config or LakeConfig()
        self.read_only = read_only
        self._con: duckdb.DuckDBPyConnection | None = None
        self._mutex = threading.RLock()

    # -- connection -------------------------------------------------------------------
    def _extensions(self) -> list[str]:
        names = ["ducklake"]
        if self.config.catalog == "sqlite":
            names.append("sqlite_scanner")
        else:
            names += ["postgres_scanner", "httpfs"]
        return names + list(self.config.extra_extensions)

    def _attach_sql(self) -> str:
        cfg = self.config
        if cfg.catalog == "sqlite":
            target = f"ducklake:sqlite:{cfg.catalog_path}"
        elif cfg.catalog == "postgres":
            target = f"ducklake:postgres:{cfg.postgres_dsn}"
        else:
            raise ValueError(f"unknown lake catalog {cfg.catalog!r}: use 'sqlite' or 'postgres'")
        opts = [f"DATA_PATH {literal(cfg.data_path)}"]
        if cfg.catalog == "sqlite":
            # the embedded lake's data always lie beside its catalog: attach them by their absolute path even where
            # the catalog recorded another spelling (a relative path from another working directory, a moved folder)
            opts.append("OVERRIDE_DATA_PATH TRUE")
        if self.read_only:
            opts.append("READ_ONLY")
        else:
            opts.append("DATA_INLINING_ROW_LIMIT 0")
        return f"ATTACH {literal(target)} AS {LAKE_ALIAS} ({', '.join(opts)})"

    def _open(self) -> duckdb.DuckDBPyConnection:
        cfg = self.config
        con = duckdb.connect()
        load_extensions(con, self._extensions())
        con.execute("SET TimeZone = 'UTC'")
        if cfg.catalog == "sqlite":
            cfg.lake_dir.mkdir(parents=True, exist_ok=True)
            (cfg.lake_dir / "data").mkdir(exist_ok=True)
            if not self.read_only:
                self._prepare_sqlite_catalog()
            elif not cfg.catalog_path.exists():
                raise LakeError(f"no lake at {cfg.catalog_path}: run `pantau demo` or `pantau migrate` first")
        if cfg.s3 is not None:
            s3 = cfg.s3
            con.execute(
                "CREATE OR REPLACE SECRET pantau_s3 (TYPE s3, KEY_ID "
                + literal(s3.access_key)
                + ", SECRET "
                + literal(s3.secret_key)
                + ", ENDPOINT "
                + literal(s3.endpoint)
                + ", REGION "
                + literal(s3.region)
                + ", URL_STYLE 'path', USE_SSL "
                + ("true" if s3.secure else "false")
                + ")"
            )
        for attempt in range(cfg.retries):
            try:
                con.execute(self._attach_sql())
                break
            except duckdb.Error as exc:
                if attempt + 1 >= cfg.retries or not _is_retryable(exc):
                    raise LakeError(f"cannot attach the lake ({cfg.catalog}): {exc}") from exc
                time.sleep(0.05 * (attempt + 1))
        con.execute(f"USE {LAKE_ALIAS}")
        return con

    def _prepare_sqlite_catalog(self) -> None:
        """Put the SQLite catalog in WAL mode so readers never wait for a writer."""
        path = self.config.catalog_path
        with self._file_lock():
            db = sqlite3.connect(path, timeout=30)
            try:
                db.execute("PRAGMA journal_mode=WAL")
            finally:
                db.close()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        with self._mutex:
            if self._con is None:
                self._con = self._open()
            return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not thread-safe)."""
        cur = self.con.cursor()
        cur.execute(f"USE {LAKE_ALIAS}")
        return cur

    def close(self) -> None:
        with self._mutex:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- write serialisation ---------------------------------------------------------
    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self.config.catalog != "sqlite":
            yield
            return
        self.config.lake_dir.mkdir(parents=True, exist_ok=True)
        with open(self.config.lake_dir / ".write.lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: all statements commit together or not at all.

        Use :meth:`write` for retries; this context does not retry by itself.
        """
        if self.read_only:
            raise LakeError("this lake handle is read-only")
        _ = self.con  # open (and prepare the catalog) before taking the write lock
        with self._mutex, self._file_lock():
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    @contextlib.contextmanager
    def maintenance(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for maintenance calls that manage their own commits (merge, expire, cleanup), holding the
        write lock of the embedded lake so no writer interleaves."""
        if self.read_only:
            raise LakeError("this lake handle is read-only")
        _ = self.con
        with self._mutex, self._file_lock():
            cur = self.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def write(self, fn: Any) -> Any:
        """Run ``fn(cursor)`` in a transaction, retrying commit conflicts with backoff and jitter."""
        delay = 0.02
        for attempt in range(self.config.retries):
            try:
                with self.transaction() as cur:
                    return fn(cur)
            except duckdb.Error as exc:
                if attempt + 1 >= self.config.retries or not _is_retryable(exc):
                    raise
                log.debug("lake write retry %d after %s", attempt + 1, exc)
                time.sleep(delay + random.uniform(0, delay))
                delay = min(delay * 2, 1.0)
        raise LakeError("unreachable")

    # -- helpers ----------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        """Run one write statement with bound parameters."""
        self.write(lambda cur: cur.execute(sql, params))

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
        """Run a read query with bound parameters; returns an Arrow table."""
        cur = self.cursor()
        try:
            return cur.execute(sql, params).to_arrow_table()
        finally:
            cur.close()

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        cur = self.cursor()
        try:
            row = cur.execute(sql, params).fetchone()
            return None if row is None else row[0]
        finally:
            cur.close()

    def tables(self) -> list[str]:
        rows = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
            "AND table_schema = 'main' ORDER BY 1",
            [LAKE_ALIAS],
        )
        return [str(v) for v in rows.column(0).to_pylist()]

    def columns(self, table: str) -> list[str]:
        rows = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [LAKE_ALIAS, table],
        )
        return [str(v) for v in rows.column(0).to_pylist()]

    def append(self, table: str, data: Any) -> int:
        """Append rows (Arrow table, polars or pandas DataFrame) matching columns by name."""
        arrow = _to_arrow(data)
        if arrow.num_rows == 0:
            return 0
        sql = f"INSERT INTO {LAKE_ALIAS}.{ident(table)} BY NAME SELECT * FROM _pantau_batch"

        def _do(cur: duckdb.DuckDBPyConnection) -> int:
            cur.register("_pantau_batch", arrow)
            try:
                cur.execute(sql)
            finally:
                cur.unregister("_pantau_batch")
            return int(arrow.num_rows)

        return int(self.write(_do))

    def upsert(self, table: str, data: Any, keys: Sequence[str]) -> int:
        """Insert or replace rows by ``keys`` in one transaction (idempotent)."""
        arrow = _to_arrow(data)
        if arrow.num_rows == 0:
            return 0
        key_cols = ", ".join(ident(k) for k in keys)
        t = f"{LAKE_ALIAS}.{ident(table)}"
        delete = f"DELETE FROM {t} WHERE ({key_cols}) IN (SELECT ({key_cols}) FROM _pantau_batch)"
        if len(keys) == 1:
            delete = f"DELETE FROM {t} WHERE {key_cols} IN (SELECT {key_cols} FROM _pantau_batch)"
        insert = f"INSERT INTO {t} BY NAME SELECT * FROM _pantau_batch"

        def _do(cur: duckdb.DuckDBPyConnection) -> int:
            cur.register("_pantau_batch", arrow)
            try:
                cur.execute(delete)
                cur.execute(insert)
            finally:
                cur.unregister("_pantau_batch")
            return int(arrow.num_rows)

        return int(self.write(_do))

    def insert_new(self, table: str, data: Any, keys: Sequence[str]) -> int:
        """Insert only rows whose ``keys`` are not yet in the table (exactly-once ingestion)."""
        arrow = _to_arrow(data)
        if arrow.num_rows == 0:
            return 0
        t = f"{LAKE_ALIAS}.{ident(table)}"
        cond = " AND ".join(f"t.{ident(k)} IS NOT DISTINCT FROM b.{ident(k)}" for k in keys)
        insert = f"INSERT INTO {t} BY NAME SELECT b.* FROM _pantau_batch b WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE {cond})"

        def _do(cur: duckdb.DuckDBPyConnection) -> int:
            cur.register("_pantau_batch", arrow)
            try:
                res = cur.execute(insert).fetchone()
            finally:
                cur.unregister("_pantau_batch")
            return int(res[0]) if res else 0

        return int(self.write(_do))

    def replace(self, table: str, data: Any) -> int:
        """Replace the whole content of ``table`` atomically (reference data, marts)."""
        arrow = _to_arrow(data)
        t = f"{LAKE_ALIAS}.{ident(table)}"

        def _do(cur: duckdb.DuckDBPyConnection) -> int:
            cur.execute(f"DELETE FROM {t}")
            if arrow.num_rows:
                cur.register("_pantau_batch", arrow)
                try:
                    cur.execute(f"INSERT INTO {t} BY NAME SELECT * FROM _pantau_batch")
                finally:
                    cur.unregister("_pantau_batch")
            return int(arrow.num_rows)

        return int(self.write(_do))

    # -- snapshots, maintenance -------------------------------------------------------
    def snapshot_id(self) -> int:
        return int(self.scalar(f"SELECT max(snapshot_id) FROM ducklake_snapshots({literal(LAKE_ALIAS)})"))

    def snapshots(self) -> pa.Table:
        return self.query(f"SELECT * FROM ducklake_snapshots({literal(LAKE_ALIAS)}) ORDER BY snapshot_id")

    def data_file_count(self, table: str | None = None) -> int:
        sql = (
            "SELECT count(*) FROM ducklake_list_files(?, ?)"
            if table
            else "SELECT count(*) FROM (SELECT 1 FROM information_schema.tables WHERE false)"
        )
        if table is None:
            return sum(self.data_file_count(t) for t in self.tables())
        return int(self.scalar(sql, [LAKE_ALIAS, table]))

    def compact(self, table: str | None = None) -> dict[str, int]:
        """Merge small Parquet files, expire old snapshots' files and remove unreferenced files."""
        before = self.data_file_count(table)
        _ = self.con

        def _do(cur: duckdb.DuckDBPyConnection) -> None:
            if table:
                cur.execute("CALL ducklake_merge_adjacent_files(?, ?)", [LAKE_ALIAS, ident(table)])
            else:
                cur.execute("CALL ducklake_merge_adjacent_files(?)", [LAKE_ALIAS])

        with self._mutex, self._file_lock():
            cur = self.cursor()
            try:
                _do(cur)
                cur.execute("CALL ducklake_cleanup_old_files(?, cleanup_all => true)", [LAKE_ALIAS])
            finally:
                cur.close()
        return {"files_before": before, "files_after": self.data_file_count(table)}

    def apply_retention(self, table: str, time_column: str, max_age: timedelta) -> int:
        """Delete rows older than ``max_age`` from ``table``; returns rows deleted."""
        t = f"{LAKE_ALIAS}.{ident(table)}"
        col = ident(time_column)
        cutoff_sql = "now() - to_microseconds(?::BIGINT)"
        micros = int(max_age.total_seconds() * 1_000_000)

        def _do(cur: duckdb.DuckDBPyConnection) -> int:
            n = cur.execute(f"SELECT count(*) FROM {t} WHERE {col} < {cutoff_sql}", [micros]).fetchone()
            cur.execute(f"DELETE FROM {t} WHERE {col} < {cutoff_sql}", [micros])
            return int(n[0]) if n else 0

        return int(self.write(_do))


def _to_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    to_arrow = getattr(data, "to_arrow", None)  # polars
    if callable(to_arrow):
        return to_arrow()
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, list):
        return pa.Table.from_pylist(data)
    raise TypeError(f"cannot append {type(data).__name__}: pass an Arrow table, polars or pandas DataFrame")
