-- Open-data releases ledger (owner: open-data). One row per published release.
CREATE TABLE releases (
    version VARCHAR, snapshot_id BIGINT, snapshot_time TIMESTAMPTZ, created_at TIMESTAMPTZ,
    previous_version VARCHAR, target VARCHAR, prefix VARCHAR, checksums_sha256 VARCHAR,
    datasets VARCHAR, skipped VARCHAR, total_rows BIGINT, total_bytes BIGINT
);
