"""Privacy rules applied to every open-data table before it is written.

* no user identifiers, raw-frame locations, subscriber data or stream URLs: forbidden columns are
  dropped from generic sources and refused in curated ones; string values that point at private
  keyframes are redacted;
* small counts (default < 10) are suppressed with a marker (value NULL + ``suppressed = true``),
  with complementary suppression so that no group total can reveal a single suppressed cell;
* camera-level timestamps must sit on windows of at least 5 minutes;
* thumbnails come only from blurred ``public/keyframes/`` objects, never from ``keyframe_uri``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_THRESHOLD = 10
MIN_WINDOW_S = 300
REDACTED = "[redacted]"
SUPPRESSED_COLUMN = "suppressed"

FORBIDDEN_COLUMN = re.compile(
    r"(^|_)(user_id|user_hash|hash|subscriber|subscriber_id|subscription_id|keyframe|keyframe_uri|evidence|"
    r"stream_url|snapshot_url|hls_url|phone|email|nik|plate|plates|face|faces|target|ip|ip_address|"
    r"device_id|token|cap_xml_uri|reporter|pelapor|idempotency_key|last_error)($|_)",
    re.IGNORECASE,
)
# a private object reference: a keyframe key not under public/, or any raw storage URI
PRIVATE_VALUE = re.compile(r"(?<!public/)keyframes/|^s3://|^file://|^/", re.IGNORECASE)
PUBLIC_THUMBNAIL_KEY = re.compile(r"^public/keyframes/[A-Za-z0-9._-]+/[A-Za-z0-9._:+-]+\.jpe?g$")
JPEG_MAGIC = b"\xff\xd8\xff"


class PrivacyError(ValueError):
    """A table would break a privacy rule; the release is refused."""


def forbidden_columns(names: Sequence[str]) -> list[str]:
    return [n for n in names if FORBIDDEN_COLUMN.search(n)]


def drop_forbidden_columns(table: pa.Table) -> tuple[pa.Table, list[str]]:
    bad = forbidden_columns(table.column_names)
    return (table.drop_columns(bad) if bad else table), bad


def assert_no_forbidden_columns(table: pa.Table) -> None:
    bad = forbidden_columns(table.column_names)
    if bad:
        raise PrivacyError(f"private columns in an open-data table: {', '.join(bad)}")


def redact_private_values(table: pa.Table) -> tuple[pa.Table, int]:
    """Replace string cells that reference private objects with ``[redacted]``; returns (table, cells)."""
    total = 0
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        col = table.column(i)
        bad = [v for v in pc.unique(col).to_pylist() if v and PRIVATE_VALUE.search(v)]
        if bad:
            mask = pc.fill_null(pc.is_in(col, value_set=pa.array(bad, field.type)), False)
            total += int(pc.sum(mask).as_py() or 0)
            table = table.set_column(i, field, pc.if_else(mask, pa.scalar(REDACTED, field.type), col))
    return table, total


def assert_time_grain(table: pa.Table, column: str, min_window_s: int = MIN_WINDOW_S) -> None:
    """Every timestamp of ``column`` must start a window of at least ``min_window_s`` seconds."""
    if column not in table.column_names or table.num_rows == 0:
        return
    col = table.column(column)
    if pa.types.is_date(col.type):
        return
    if not pa.types.is_timestamp(col.type):
        raise PrivacyError(f"time column {column} is not a timestamp")
    per_s = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[col.type.unit]
    w = min_window_s * per_s
    ints = pc.cast(col, pa.int64())
    rem = pc.subtract(ints, pc.multiply(pc.divide(ints, w), w))
    if pc.any(pc.fill_null(pc.not_equal(rem, 0), False)).as_py():
        raise PrivacyError(f"{column}: camera-level timestamps finer than {min_window_s // 60}-minute windows")


def is_public_thumbnail_key(key: str | None) -> bool:
    return bool(key) and PUBLIC_THUMBNAIL_KEY.match(key or "") is not None and ".." not in (key or "")


@dataclass(frozen=True)
class Suppression:
    """Small-count suppression of ``counts`` (and blanking of ``dependents``) by cell.

    ``groups`` lists the dimension sets along which totals exist (e.g. per day and feature across
    kelurahan, per day and kelurahan across features); names missing from a table are ignored.
    """

    counts: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    dependents: tuple[str, ...] = ()
    threshold: int = DEFAULT_THRESHOLD


def suppress_small_counts(table: pa.Table, spec: Suppression, threshold: int | None = None) -> tuple[pa.Table, int]:
    """Blank cells whose counts are under the threshold, plus complementary cells.

    Primary: a row is suppressed when any of ``spec.counts`` is below the threshold.
    Complementary: for each group (rows sharing the group's dimension values), when exactly one
    row is suppressed and another exists, the smallest remaining row is suppressed too, repeated
    over all groups until stable, so no group total minus published cells yields one cell.
    Suppressed rows keep their dimensions, get NULL counts/dependents and ``suppressed = true``.
    Returns (table, number of suppressed rows).
    """
    k = spec.threshold if threshold is None else threshold
    counts = [c for c in spec.counts if c in table.column_names]
    if not counts:
        raise PrivacyError(f"suppression columns {spec.counts} missing from {table.column_names}")
    rows = table.to_pylist()
    n = len(rows)
    sup = [any(r[c] is None or r[c] < k for c in counts) for r in rows]
    groups: list[dict[tuple[object, ...], list[int]]] = []
    for dims in spec.groups:
        present = [d for d in dims if d in table.column_names]
        index: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            index[tuple(r[d] for d in present)].append(i)
        groups.append(index)
    changed = True
    while changed:
        changed = False
        for index in groups:
            for idxs in index.values():
                hidden = [i for i in idxs if sup[i]]
                if len(hidden) != 1:
                    continue
                shown = [i for i in idxs if not sup[i]]
                if shown:
                    j = min(shown, key=lambda i: (rows[i][counts[0]], i))
                    sup[j] = True
                    changed = True
    blank = counts + [d for d in spec.dependents if d in table.column_names]
    for i in range(n):
        if sup[i]:
            for c in blank:
                rows[i][c] = None
        rows[i][SUPPRESSED_COLUMN] = sup[i]
    schema = table.schema.append(pa.field(SUPPRESSED_COLUMN, pa.bool_()))
    if SUPPRESSED_COLUMN in table.column_names:
        schema = table.schema
    return pa.Table.from_pylist(rows, schema=schema), sum(sup)
