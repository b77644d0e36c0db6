-- Lake upkeep log (warehouse/upkeep.py): one row per compaction, snapshot expiry or retention action with what it
-- removed. action: compact | expire_snapshots | delete_rows | clear_columns; detail: JSON (columns, purpose, ...).
CREATE TABLE upkeep_log (
    run_at TIMESTAMPTZ, action VARCHAR, table_name VARCHAR, rows_affected BIGINT, files_before BIGINT,
    files_after BIGINT, bytes_before BIGINT, bytes_after BIGINT, cutoff TIMESTAMPTZ, detail VARCHAR
);
