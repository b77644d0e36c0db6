"""Copy asset-check evaluations from Dagster's event log into the lake table ``asset_check_results``.

The data-quality dashboard reads that table (dashboards never talk to Dagster). Called by the run-status sensors in
``assets/quality.py`` for every finished run (success or failure: a failed blocking check fails its run), and by the
demo after each job it executes in-process. Rows are keyed by (run_id, asset_key, check_name, partition_key) and
written with ``insert_new``, so recording a run twice changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from warehouse.lake import Lake

TABLE = "asset_check_results"
KEYS = ("run_id", "asset_key", "check_name", "partition_key")
SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("job_name", pa.string()),
        ("asset_key", pa.string()),
        ("check_name", pa.string()),
        ("passed", pa.bool_()),
        ("severity", pa.string()),
        ("blocking", pa.bool_()),
        ("description", pa.string()),
        ("metadata_json", pa.string()),
        ("partition_key", pa.string()),
        ("evaluated_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _metadata_json(metadata: Any) -> str:
    plain = {str(k): getattr(v, "value", v) for k, v in dict(metadata or {}).items()}
    return json.dumps(plain, default=str, sort_keys=True)


def check_result_rows(instance: Any, run_id: str) -> list[dict[str, Any]]:
    """One row per ASSET_CHECK_EVALUATION event of ``run_id`` in ``instance``'s event log."""
    import dagster as dg

    run = instance.get_run_by_id(run_id)
    job_name = run.job_name if run is not None else None
    rows = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = entry.dagster_event.event_specific_data
        rows.append(
            {
                "run_id": run_id,
                "job_name": job_name,
                "asset_key": ev.asset_key.to_user_string(),
                "check_name": ev.check_name,
                "passed": bool(ev.passed),
                "severity": ev.severity.value,
                "blocking": bool(ev.blocking) if ev.blocking is not None else None,
                "description": ev.description,
                "metadata_json": _metadata_json(ev.metadata),
                "partition_key": ev.partition,
                "evaluated_at": datetime.fromtimestamp(entry.timestamp, tz=UTC),
            }
        )
    return rows


def record_check_results(lake: Lake, rows: list[dict[str, Any]]) -> int:
    """Insert rows not yet recorded; returns how many were new."""
    if not rows:
        return 0
    return lake.insert_new(TABLE, pa.Table.from_pylist(rows, schema=SCHEMA), keys=list(KEYS))


def record_run_checks(instance: Any, run_id: str, lake: Lake) -> int:
    return record_check_results(lake, check_result_rows(instance, run_id))
