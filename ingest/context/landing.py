"""Land flood-context documents: raw documents in the landing zone, parsed rows in the lake with history.

A poller (the Dagster sensors in ``assets/context.py``) puts each fetched document, unchanged, at
``landing/context/<source>/<UTC time>-<sha>.<ext>`` with :func:`land_document`. :func:`ingest_context_documents`
loads every landed document the ledger (``context_documents``) has not seen: readings go to
``water_gate_readings`` (key: gate and observation time) and warnings to ``weather_warnings`` (key: identifier and
area), inserted exactly once, so the tables keep the whole history. A malformed document is recorded as
``quarantined`` with the reason in the ledger and in ``context_quarantine`` (with the start of its text); bad rows
of a readable document are quarantined one by one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from ingest.context.readers import MalformedDocumentError, Parsed, parse_bmkg_cap, parse_posko_banjir
from warehouse.lake import Lake

log = logging.getLogger(__name__)

PREFIX = "landing/context/"
SOURCES = {"posko_banjir": ".json", "bmkg": ".xml"}
TS = pa.timestamp("us", tz="UTC")
READINGS = pa.schema(
    [("gate_id", pa.string()), ("name", pa.string()), ("observed_at", TS), ("height_cm", pa.float64()),
     ("status", pa.string()), ("gate_level", pa.string()), ("source_key", pa.string()), ("ingested_at", TS)]
)  # fmt: skip
WARNINGS = pa.schema(
    [("identifier", pa.string()), ("area_no", pa.int32()), ("sender", pa.string()), ("sent", TS),
     ("msg_type", pa.string()), ("event", pa.string()), ("severity", pa.string()), ("urgency", pa.string()),
     ("certainty", pa.string()), ("onset", TS), ("expires", TS), ("headline", pa.string()),
     ("area_desc", pa.string()), ("geometry", pa.string()), ("source_key", pa.string()), ("ingested_at", TS)]
)  # fmt: skip
LEDGER = pa.schema(
    [("key", pa.string()), ("source", pa.string()), ("status", pa.string()), ("rows_read", pa.int64()),
     ("rows_loaded", pa.int64()), ("rows_quarantined", pa.int64()), ("error", pa.string()), ("ingested_at", TS)]
)  # fmt: skip
QUARANTINE = pa.schema(
    [("source", pa.string()), ("key", pa.string()), ("row_no", pa.int32()), ("reason", pa.string()),
     ("raw", pa.string()), ("quarantined_at", TS)]
)  # fmt: skip
SELECT_SEEN = "SELECT key FROM context_documents"
SELECT_THRESHOLDS = "SELECT gate_id, name, siaga3_min_cm, siaga2_min_cm, siaga1_min_cm FROM water_gate_thresholds"


def land_document(store: Any, source: str, data: bytes, now: datetime | None = None) -> str:
    """Put one fetched document in the landing zone (atomic); returns its key."""
    if source not in SOURCES:
        raise ValueError(f"unknown context source {source!r} (one of {', '.join(SOURCES)})")
    now = now or datetime.now(UTC)
    digest = hashlib.sha256(data).hexdigest()[:12]
    key = f"{PREFIX}{source}/{now:%Y%m%dT%H%M%S}Z-{digest}{SOURCES[source]}"
    store.put_bytes(key, data)
    return key


def pending_documents(lake: Lake, store: Any) -> list[str]:
    """Landed documents the ledger has not seen, oldest first."""
    seen = set(lake.query(SELECT_SEEN).column(0).to_pylist()) if "context_documents" in lake.tables() else set()
    return sorted(o.key for o in store.list(PREFIX) if o.key not in seen)


@dataclass
class ContextIngest:
    documents: int = 0
    readings: int = 0
    warnings: int = 0
    quarantined_documents: int = 0
    quarantined_rows: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"errors": self.errors[:10]}


def ingest_context_documents(lake: Lake, store: Any, now: datetime | None = None) -> ContextIngest:
    """Load every pending document (see the module docstring); safe to re-run."""
    now = now or datetime.now(UTC)
    thresholds = lake.query(SELECT_THRESHOLDS).to_pylist() if "water_gate_thresholds" in lake.tables() else []
    parsers: dict[str, Callable[[bytes, str], Parsed]] = {
        "posko_banjir": lambda data, key: parse_posko_banjir(data, thresholds, source_key=key),
        "bmkg": lambda data, key: parse_bmkg_cap(data, source_key=key),
    }
    out = ContextIngest()
    for key in pending_documents(lake, store):
        source = key[len(PREFIX) :].split("/", 1)[0]
        quarantine: list[dict[str, Any]] = []
        parsed = Parsed()
        error = None
        if source not in parsers:
            error = f"unknown source folder {source!r}"
        else:
            try:
                parsed = parsers[source](store.get_bytes(key), key)
            except MalformedDocumentError as exc:
                error = str(exc)
        if error is not None:
            quarantine.append(
                {"source": source, "key": key, "row_no": 0, "reason": error, "raw": _head(store, key),
                 "quarantined_at": now}
            )  # fmt: skip
            out.quarantined_documents += 1
            out.errors.append(f"{key}: {error}")
            log.warning("context document %s quarantined: %s", key, error)
        quarantine += [
            {"source": source, "key": key, "row_no": n, "reason": reason, "raw": raw, "quarantined_at": now}
            for n, reason, raw in parsed.rejects
        ]
        rows = [{**r, "ingested_at": now} for r in parsed.rows]
        loaded = 0
        if rows and source == "posko_banjir":
            loaded = lake.insert_new(
                "water_gate_readings", pa.Table.from_pylist(rows, schema=READINGS), ["gate_id", "name", "observed_at"]
            )
            out.readings += loaded
        elif rows:
            loaded = lake.insert_new(
                "weather_warnings", pa.Table.from_pylist(rows, schema=WARNINGS), ["identifier", "area_no"]
            )
            out.warnings += loaded
        if quarantine:
            lake.append("context_quarantine", pa.Table.from_pylist(quarantine, schema=QUARANTINE))
        out.quarantined_rows += len(parsed.rejects)
        ledger = {
            "key": key, "source": source, "status": "quarantined" if error else "loaded",
            "rows_read": len(parsed.rows) + len(parsed.rejects), "rows_loaded": loaded,
            "rows_quarantined": len(parsed.rejects), "error": error, "ingested_at": now,
        }  # fmt: skip
        lake.append("context_documents", pa.Table.from_pylist([ledger], schema=LEDGER))
        out.documents += 1
    return out


def _head(store: Any, key: str) -> str:
    try:
        return store.get_bytes(key)[:2000].decode("utf-8", errors="replace")
    except Exception:  # the ledger records the document either way
        return ""
