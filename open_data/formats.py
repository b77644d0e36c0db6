"""Deterministic writers: the same Arrow table always gives the same bytes.

No build timestamps, fixed Parquet writer settings, ISO 8601 UTC timestamps in CSV and GeoJSON.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "geojson": "application/geo+json"}
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "row_group_size": 262_144,
}
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def normalise(table: pa.Table) -> pa.Table:
    """Drop schema metadata and pin timestamps to UTC microseconds, strings to plain utf8."""
    fields = []
    cols = []
    for field, col in zip(table.schema, table.columns, strict=True):
        t = field.type
        if pa.types.is_timestamp(t):
            t = pa.timestamp("us", tz="UTC")
        elif pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_dictionary(t):
            t = t.value_type
        cols.append(pc.cast(col, t) if t != field.type else col)
        fields.append(pa.field(field.name, t))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


# Partitions of large datasets are read by the API: smaller row groups sharpen the min/max statistics
# (zone maps) of the leading sort columns, and Bloom filters on text columns let a reader skip row groups
# that cannot hold a filtered value (e.g. one camera among 5,000).
PARTITION_ROW_GROUP = 65_536
BLOOM_FPP = 0.01


def to_parquet(table: pa.Table, *, partition: bool = False) -> bytes:
    """Parquet bytes; ``partition`` writes the row groups and Bloom filters of a served partition."""
    table = normalise(table)
    options = dict(PARQUET_OPTIONS)
    if partition:
        options["row_group_size"] = PARTITION_ROW_GROUP
        bloom = {}
        for field, col in zip(table.schema, table.columns, strict=True):
            if pa.types.is_string(field.type) and table.num_rows:
                ndv = min(int(pc.count_distinct(col).as_py() or 1), PARTITION_ROW_GROUP)
                bloom[field.name] = {"ndv": max(ndv, 1), "fpp": BLOOM_FPP}
        if bloom:
            options["bloom_filter_options"] = bloom
    buf = io.BytesIO()
    pq.write_table(table, buf, **options)
    return buf.getvalue()


def _format_timestamps(col: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """ISO 8601 UTC text; hourly and daily columns repeat few values, so each distinct one is formatted once."""
    seconds = pc.cast(col, pa.timestamp("s", tz="UTC"), safe=False)
    distinct = pc.unique(seconds)
    if len(distinct) * 4 > len(seconds):
        return pc.strftime(seconds, format=TS_FORMAT)
    text = pc.strftime(distinct, format=TS_FORMAT)
    return pc.take(text, pc.index_in(seconds, value_set=distinct))


def _csv_ready(table: pa.Table) -> pa.Table:
    cols = []
    for field, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            col = _format_timestamps(col)
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def to_csv(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(
        _csv_ready(normalise(table)),
        buf,
        write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed", delimiter=","),
    )
    return buf.getvalue()


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime(TS_FORMAT)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def to_geojson(table: pa.Table, lon: str = "lon", lat: str = "lat") -> bytes:
    """A FeatureCollection of points; rows without coordinates are left out."""
    features = []
    for row in normalise(table).to_pylist():
        x, y = row.get(lon), row.get(lat)
        if x is None or y is None:
            continue
        props = {k: _jsonable(v) for k, v in row.items() if k not in (lon, lat)}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def frictionless_type(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    return "string"
