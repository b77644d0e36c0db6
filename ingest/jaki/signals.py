"""Cross-signals between Jaki and the cameras.

* :func:`panic_camera_requests`: each panic-button press asks every active camera within
  ``radius_m`` for an immediate frame at raised priority; requests land in the lake table
  ``camera_priority_requests`` (exactly once per press and camera) for the capture workers.
* :func:`flood_complaint_context`: flood complaints of a kelurahan, the context the flood-alert
  rules use next to the cameras' flood scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from warehouse.lake import Lake

SQL_DIR = Path(__file__).parent / "sql"
PANIC_SQL = (SQL_DIR / "panic_camera_requests.sql").read_text()
FLOOD_SQL = (SQL_DIR / "flood_complaint_context.sql").read_text()
# one row of camera_priority_requests as the panic signal writes it
PRIORITY_REQUEST_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("camera_id", pa.string()),
        ("panic_id", pa.string()),
        ("pressed_at", pa.timestamp("us", "UTC")),
        ("kelurahan_code", pa.string()),
        ("kind", pa.string()),
        ("distance_m", pa.float64()),
        ("radius_m", pa.float64()),
        ("priority", pa.int32()),
        ("reason", pa.string()),
        ("status", pa.string()),
        ("requested_at", pa.timestamp("us", "UTC")),
    ]
)


def panic_camera_requests(
    lake: Lake, radius_m: float = 300.0, since: datetime | None = None, now: datetime | None = None
) -> pa.Table:
    """Request an immediate, high-priority frame from each camera within ``radius_m`` of a press.

    Priority 1 (highest) when the camera is within a third of the radius, else 2. Returns the
    requests created now (presses already handled are not requested again).
    """
    if radius_m <= 0:
        raise ValueError("radius_m must be positive")
    now = now or datetime.now(UTC)
    since = since or datetime(1970, 1, 1, tzinfo=UTC)
    pairs = lake.query(PANIC_SQL, [since, radius_m, radius_m, radius_m])
    rows = []
    for r in pairs.to_pylist():
        rows.append(
            {
                "request_id": f"{r['panic_id']}:{r['camera_id']}",
                "camera_id": r["camera_id"],
                "panic_id": r["panic_id"],
                "pressed_at": r["pressed_at"],
                "kelurahan_code": r["kelurahan_code"],
                "kind": r["kind"],
                "distance_m": float(r["distance_m"]),
                "radius_m": float(radius_m),
                "priority": 1 if r["distance_m"] <= radius_m / 3 else 2,
                "reason": f"panic button ({r['kind']}) {r['distance_m']:.0f} m away",
                "status": "pending",
                "requested_at": now,
            }
        )
    table = pa.Table.from_pylist(rows, schema=PRIORITY_REQUEST_SCHEMA)
    if table.num_rows == 0:
        return table
    existing = {
        str(v)
        for v in lake.query("SELECT request_id FROM camera_priority_requests WHERE pressed_at >= ?", [since])
        .column(0)
        .to_pylist()
    }
    lake.insert_new("camera_priority_requests", table, ["request_id"])
    keep = pa.array([rid not in existing for rid in table.column("request_id").to_pylist()])
    return table.filter(keep)


@dataclass(frozen=True)
class FloodComplaintContext:
    kelurahan_code: str
    since: datetime
    complaints: int
    open_complaints: int
    first_at: datetime | None
    last_at: datetime | None
    hours_with_complaints: int

    @property
    def corroborates(self) -> bool:
        """At least one citizen flood complaint in the window."""
        return self.complaints > 0


def flood_complaint_context(
    lake: Lake, kelurahan_code: str, since: datetime | None = None, window: timedelta = timedelta(hours=6)
) -> FloodComplaintContext:
    """Flood complaints filed in ``kelurahan_code`` since ``since`` (default: the last ``window``)."""
    since = since or datetime.now(UTC) - window
    row = lake.query(FLOOD_SQL, [kelurahan_code, since]).to_pylist()[0]
    return FloodComplaintContext(
        kelurahan_code=kelurahan_code,
        since=since,
        complaints=int(row["complaints"] or 0),
        open_complaints=int(row["open_complaints"] or 0),
        first_at=row["first_at"],
        last_at=row["last_at"],
        hours_with_complaints=int(row["hours_with_complaints"] or 0),
    )
