-- Asset-check results (data-quality page): one row per check evaluation of a Dagster run, copied from
-- Dagster's event log by orchestration/check_results.py (run-status sensors, and the demo after each job).
-- passed = the check's verdict; severity ERROR blocks downstream assets; metadata_json = the check's metadata.
CREATE TABLE asset_check_results (
    run_id VARCHAR, job_name VARCHAR, asset_key VARCHAR, check_name VARCHAR, passed BOOLEAN, severity VARCHAR,
    blocking BOOLEAN, description VARCHAR, metadata_json VARCHAR, partition_key VARCHAR, evaluated_at TIMESTAMPTZ
);
