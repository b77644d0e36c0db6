"""Readers for Jaki export files: CSV, JSONL and Parquet bytes into a :class:`RawBatch`.

A reader does three things and nothing else:

* checks the file's *schema* against the contract (header / keys / Parquet types), applying only
  the renames the spec declares and dropping the declared personal-data columns. Extra, missing
  or mistyped columns raise :class:`SchemaDriftError` with a message that names them;
* splits rows into parsed rows (``frame``, every spec column present, plus ``_line``) and rows that
  could not even be parsed (``rejects``: truncated lines, wrong delimiter, bad encoding, malformed
  JSON, wrong JSON types) with their line number and reason;
* counts what it read, so that ``rows_read == frame.height + distinct reject lines``.

Value-level rules (types, ranges, sets, uniqueness) are applied afterwards by
:mod:`ingest.jaki.validate`, identically for every format. No value is ever coerced silently.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.jaki.schemas import PERSONAL_COLUMNS, TableSpec

log = logging.getLogger(__name__)

Format = Literal["csv", "jsonl", "parquet"]
LINE = "_line"


class SchemaDriftError(ValueError):
    """The file's columns or types differ from the contract (and no declared mapping fixes it)."""


@dataclass
class Reject:
    line: int | None
    column: str | None
    reason: str
    check: str


@dataclass
class RawBatch:
    """Parsed rows of one file. ``frame`` has every spec column (strings for text formats)."""

    frame: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    typed: bool = False  # True when columns already carry types (Parquet)

    @property
    def rows_read(self) -> int:
        return self.frame.height + len({r.line for r in self.rejects})


def detect_format(key: str) -> Format:
    low = key.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if low.endswith((".parquet", ".pq")):
        return "parquet"
    raise ValueError(f"unsupported Jaki export {key!r}: expected .csv, .jsonl/.ndjson or .parquet")


def map_columns(spec: TableSpec, names: list[str], source: str) -> tuple[dict[str, str], list[str]]:
    """Map file column names onto spec columns.

    Returns ``(file_name -> spec_name, dropped personal columns)``. Raises :class:`SchemaDriftError`
    for unknown columns, missing required columns or two file columns mapping to one spec column.
    """
    wanted = set(spec.column_names)
    mapping: dict[str, str] = {}
    dropped: list[str] = []
    extra: list[str] = []
    for raw in names:
        name = raw.strip()
        low = name.lower()
        if name in wanted:
            target = name
        elif name in spec.renames or low in spec.renames:
            target = spec.renames.get(name, spec.renames.get(low, ""))
        elif low in PERSONAL_COLUMNS:
            dropped.append(name)
            continue
        else:
            extra.append(name)
            continue
        if target in mapping.values():
            raise SchemaDriftError(f"{source}: two columns map to {target!r} (check the declared renames)")
        mapping[raw] = target
    missing = [c.name for c in spec.columns if c.required and c.name not in mapping.values()]
    if extra or missing:
        parts = []
        if extra:
            parts.append(f"unexpected columns {extra}")
        if missing:
            parts.append(f"missing required columns {missing}")
        hint = ""
        if extra and missing:
            hint = f" — if a column was renamed, declare it in the {spec.name} rename map (e.g. {extra[0]!r}: {missing[0]!r})"
        raise SchemaDriftError(f"{source}: schema drift for {spec.name}: " + "; ".join(parts) + hint)
    return mapping, dropped


def _finish(spec: TableSpec, frame: pl.DataFrame, mapping: dict[str, str]) -> pl.DataFrame:
    frame = frame.select([LINE, *mapping]).rename(mapping)
    for c in spec.columns:  # optional columns absent from the file: NULL, as the contract allows
        if c.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c.name))
    return frame.select([LINE, *spec.column_names])


# -- CSV ---------------------------------------------------------------------------------------


def _sniff_delimiter(header: str, spec: TableSpec, expected: str) -> str | None:
    known = set(spec.column_names) | set(spec.renames) | PERSONAL_COLUMNS
    best, score = None, 0
    for d in (",", ";", "\t", "|"):
        if d == expected:
            continue
        cols = [c.strip().lower() for c in header.split(d)]
        hits = sum(c in known for c in cols)
        if len(cols) > 1 and hits > score:
            best, score = d, hits
    return best


def read_csv(data: bytes, spec: TableSpec, source: str, delimiter: str = ",") -> RawBatch:
    """Parse CSV bytes (UTF-8, header row, RFC 4180 quoting)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first_nl = data.find(b"\n")
    header_bytes = data if first_nl < 0 else data[:first_nl]
    try:
        header = header_bytes.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise SchemaDriftError(f"{source}: header is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    if not header.strip():
        raise SchemaDriftError(f"{source}: empty file or missing header row")
    names = next(csv.reader([header], delimiter=delimiter))
    if len(names) == 1:
        other = _sniff_delimiter(header, spec, delimiter)
        if other is not None:
            raise SchemaDriftError(
                f"{source}: wrong delimiter: the header is separated by {other!r}, Jaki exports use {delimiter!r} "
                f"(pass delimiter={other!r} to read it deliberately)"
            )
    mapping, dropped = map_columns(spec, names, source)
    body = data[first_nl + 1 :] if first_nl >= 0 else b""
    frame, rejects = _csv_body_fast(body, names, delimiter)
    if frame is None:
        frame, rejects = _csv_body(body, names, delimiter)
    if frame is None:  # records spanning lines: slow exact path
        frame, rejects = _csv_body_python(body, names, delimiter)
    return RawBatch(frame=_finish(spec, frame, mapping), rejects=rejects, dropped_columns=dropped)


def _line_starts(body: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Physical line numbers (header = 1) of non-blank body lines, and of all body lines."""
    arr = np.frombuffer(body, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    lengths = ends - starts
    # a line holding only "\r" is blank too
    cr_only = (lengths == 1) & (arr[np.minimum(starts, max(len(arr) - 1, 0))] == 13) if len(arr) else lengths == 0
    nonblank = (lengths > 0) & ~cr_only
    numbers = np.arange(2, len(starts) + 2, dtype=np.int64)
    return numbers[nonblank], numbers


def _csv_body_fast(body: bytes, names: list[str], delimiter: str) -> tuple[pl.DataFrame | None, list[Reject]]:
    """Fast path for unquoted UTF-8 exports (the common case): field counts are checked per line
    with numpy, bad lines are rejected, the rest is parsed by polars. Returns ``(None, [])`` when
    the file needs the general parser (quotes, carriage returns or invalid UTF-8)."""
    if len(delimiter) != 1 or b'"' in body or b"\r" in body:
        return None, []
    enc_bad: list[int] = []  # 0-based indices of lines holding invalid UTF-8
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="surrogateescape")
        line, last = 0, 0
        for m in re.finditer("[\udc80-\udcff]+", text):
            line += text.count("\n", last, m.start())
            last = m.start()
            if not enc_bad or enc_bad[-1] != line:
                enc_bad.append(line)
    arr = np.frombuffer(body, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    if len(arr) and arr[-1] != 10:
        nl = np.append(nl, len(arr))  # last line without newline
    n_lines = len(nl)
    starts = np.concatenate([[0], nl[:-1] + 1]) if n_lines else np.array([], dtype=np.int64)
    blank = (nl - starts) == 0
    seps = np.flatnonzero(arr == ord(delimiter))
    per_line = np.bincount(np.searchsorted(nl, seps), minlength=n_lines)[:n_lines]
    bad_enc = np.zeros(n_lines, dtype=bool)
    bad_enc[np.array(enc_bad, dtype=np.int64)] = True
    wrong = (per_line != len(names) - 1) & ~blank & ~bad_enc
    numbers = np.arange(2, n_lines + 2, dtype=np.int64)
    rejects = [
        Reject(
            int(ln),
            None,
            _csv_reason("MISSING" if cnt < len(names) - 1 else "TOO MANY", len(names)),
            "csv_parse",
        )
        for ln, cnt in zip(numbers[wrong], per_line[wrong], strict=True)
    ]
    rejects += [Reject(int(ln), None, _csv_reason("ENCODING", len(names)), "csv_parse") for ln in numbers[bad_enc]]
    rejects.sort(key=lambda r: r.line or 0)
    keep = ~wrong & ~blank & ~bad_enc
    if not keep.all():
        lines = body.split(b"\n")
        body = b"\n".join(lines[i] for i in np.flatnonzero(keep)) + b"\n"
    if not keep.any():
        empty = {LINE: pl.Series([], dtype=pl.Int64), **{n: pl.Series([], dtype=pl.String) for n in names}}
        return pl.DataFrame(empty), rejects
    frame = pl.read_csv(
        io.BytesIO(body),
        has_header=False,
        new_columns=names,
        separator=delimiter,
        quote_char=None,
        infer_schema=False,
    )
    if frame.height != int(keep.sum()):
        return None, []
    frame = frame.with_columns(pl.Series(LINE, numbers[keep], dtype=pl.Int64))
    return frame, rejects


def _csv_body(body: bytes, names: list[str], delimiter: str) -> tuple[pl.DataFrame | None, list[Reject]]:
    nonblank_lines, _ = _line_starts(body)
    if len(nonblank_lines) == 0:
        return pl.DataFrame(
            {LINE: pl.Series([], dtype=pl.Int64), **{n: pl.Series([], dtype=pl.String) for n in names}}
        ), []
    con = duckdb.connect()
    # DuckDB's native reader (parallel, with per-line reject capture) needs a real file:
    # reading from a Python file object is about 3x slower
    with tempfile.NamedTemporaryFile(prefix="jaki-", suffix=".csv") as tmp:
        tmp.write(body)
        tmp.flush()
        try:
            con.execute("SET preserve_insertion_order = true")
            cols = {f"c{i}": "VARCHAR" for i in range(len(names))}
            rel = con.read_csv(
                tmp.name,
                header=False,
                delimiter=delimiter,
                quotechar='"',
                escapechar='"',
                columns=cols,
                store_rejects=True,
                ignore_errors=True,
                strict_mode=True,
                null_padding=False,
                auto_detect=False,
                all_varchar=True,
            )
            tbl = rel.to_arrow_table()
            rej = con.execute(
                "SELECT line, column_idx, error_type, error_message FROM reject_errors ORDER BY line, column_idx"
            ).fetchall()
        finally:
            con.close()
    rejects: dict[int, Reject] = {}
    for line, col_idx, etype, _msg in rej:
        physical = int(line) + 1  # reject lines count from the first body line
        if physical in rejects:
            continue
        rejects[physical] = Reject(
            physical, _col_name(names, col_idx), _csv_reason(str(etype), len(names)), "csv_parse"
        )
    accepted_lines = np.setdiff1d(nonblank_lines, np.fromiter(rejects, dtype=np.int64), assume_unique=True)
    if len(accepted_lines) != tbl.num_rows:
        log.info("CSV records span lines; using the exact line-tracking parser")
        return None, []
    frame = pl.from_arrow(tbl)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.rename({f"c{i}": n for i, n in enumerate(names)}).with_columns(
        pl.Series(LINE, accepted_lines, dtype=pl.Int64)
    )
    return frame, list(rejects.values())


def _col_name(names: list[str], idx: Any) -> str | None:
    try:
        i = int(idx) - 1
    except (TypeError, ValueError):
        return None
    return names[i] if 0 <= i < len(names) else None


def _csv_reason(etype: str, ncols: int) -> str:
    etype = etype.upper()
    if "MISSING" in etype:
        return f"too few fields (expected {ncols}): truncated line or wrong delimiter"
    if "TOO MANY" in etype:
        return f"too many fields (expected {ncols}): wrong delimiter or unquoted separator"
    if "ENCODING" in etype or "UNICODE" in etype:
        return "invalid UTF-8 byte sequence (bad encoding)"
    if "QUOTE" in etype or "UNQUOTED" in etype:
        return "unterminated or misplaced quote (truncated line?)"
    return f"unparseable CSV line ({etype.lower()})"


def _csv_body_python(body: bytes, names: list[str], delimiter: str) -> tuple[pl.DataFrame, list[Reject]]:
    text = body.decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    cols: list[list[str]] = [[] for _ in names]
    lines: list[int] = []
    rejects: list[Reject] = []
    start = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            rejects.append(Reject(start, None, "unterminated or misplaced quote (truncated line?)", "csv_parse"))
            start = reader.line_num + 2
            continue
        line, start = start, reader.line_num + 2
        if not row:
            continue
        if any("\udc80" <= ch <= "\udcff" for v in row for ch in v):
            rejects.append(Reject(line, None, "invalid UTF-8 byte sequence (bad encoding)", "csv_parse"))
        elif len(row) != len(names):
            rejects.append(
                Reject(
                    line, None, _csv_reason("MISSING" if len(row) < len(names) else "TOO MANY", len(names)), "csv_parse"
                )
            )
        else:
            lines.append(line)
            for i, v in enumerate(row):
                cols[i].append(v)
    frame = pl.DataFrame(
        {
            LINE: pl.Series(lines, dtype=pl.Int64),
            **{n: pl.Series(c, dtype=pl.String) for n, c in zip(names, cols, strict=True)},
        }
    )
    return frame, rejects


# -- JSONL -------------------------------------------------------------------------------------

_JSON_TYPE = {"str": (str,), "ts": (str,), "int": (int,), "float": (int, float)}


def read_jsonl(data: bytes, spec: TableSpec, source: str) -> RawBatch:
    """Parse JSON Lines: one object per line; JSON types must match the contract."""
    records: list[tuple[int, dict[str, Any]]] = []
    rejects: list[Reject] = []
    keys: dict[str, None] = {}
    for i, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            rejects.append(Reject(i, None, "invalid UTF-8 byte sequence (bad encoding)", "jsonl_parse"))
            continue
        except json.JSONDecodeError as exc:
            rejects.append(Reject(i, None, f"malformed JSON ({exc.msg}; truncated line?)", "jsonl_parse"))
            continue
        if not isinstance(obj, dict):
            rejects.append(Reject(i, None, "line is not a JSON object", "jsonl_parse"))
            continue
        for k in obj:
            keys.setdefault(k, None)
        records.append((i, obj))
    mapping, dropped = map_columns(spec, list(keys), source) if records else ({}, [])
    inverse = {v: k for k, v in mapping.items()}
    cols: dict[str, list[str | None]] = {c.name: [] for c in spec.columns}
    lines: list[int] = []
    for line, obj in records:
        values: dict[str, str | None] = {}
        bad: Reject | None = None
        for c in spec.columns:
            v = obj.get(inverse.get(c.name, c.name))
            if v is None:
                values[c.name] = None
            elif isinstance(v, bool) or not isinstance(v, _JSON_TYPE[c.kind]):
                bad = Reject(
                    line,
                    c.name,
                    f"wrong JSON type: expected {'number' if c.kind in ('int', 'float') else 'string'}, got {type(v).__name__}",
                    "expect_column_values_to_be_of_type",
                )
                break
            else:
                values[c.name] = v if isinstance(v, str) else repr(v)
        if bad is not None:
            rejects.append(bad)
            continue
        lines.append(line)
        for name, v in values.items():
            cols[name].append(v)
    frame = pl.DataFrame(
        {LINE: pl.Series(lines, dtype=pl.Int64), **{n: pl.Series(v, dtype=pl.String) for n, v in cols.items()}}
    )
    return RawBatch(frame=frame, rejects=rejects, dropped_columns=dropped)


# -- Parquet -----------------------------------------------------------------------------------


def _arrow_ok(kind: str, t: pa.DataType) -> bool:
    if pa.types.is_null(t):
        return True
    if kind == "str":
        return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    if kind == "int":
        return pa.types.is_integer(t)
    if kind == "float":
        return pa.types.is_floating(t) or pa.types.is_integer(t)  # integer -> double is exact
    if kind == "ts":
        if pa.types.is_timestamp(t):
            return t.tz is not None
        return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    return False


def read_parquet(data: bytes, spec: TableSpec, source: str) -> RawBatch:
    """Read Parquet; column types must match the contract (timestamps must carry a time zone)."""
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise SchemaDriftError(f"{source}: not a readable Parquet file ({exc}); truncated upload?") from exc
    mapping, dropped = map_columns(spec, table.column_names, source)
    wrong = []
    for file_col, name in mapping.items():
        c = spec.column(name)
        t = table.schema.field(file_col).type
        if not _arrow_ok(c.kind, t):
            wrong.append(f"{file_col}: {t} (expected {c.kind}{' with time zone' if c.kind == 'ts' else ''})")
    if wrong:
        raise SchemaDriftError(f"{source}: wrong column types for {spec.name}: " + "; ".join(wrong))
    table = table.select(list(mapping))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE))
    # Parquet "line" = row number + 1 so that it lines up with a CSV of the same rows (header = line 1)
    return RawBatch(frame=_finish(spec, frame, mapping), dropped_columns=dropped, typed=True)


def read_export(data: bytes, spec: TableSpec, source: str, fmt: Format | None = None, delimiter: str = ",") -> RawBatch:
    fmt = fmt or detect_format(source)
    if fmt == "csv":
        return read_csv(data, spec, source, delimiter=delimiter)
    if fmt == "jsonl":
        return read_jsonl(data, spec, source)
    return read_parquet(data, spec, source)
