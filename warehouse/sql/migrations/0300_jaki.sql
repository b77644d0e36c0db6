-- Jaki feature tables. Identifiers are stored only as HMAC-SHA256 hashes (user_hash);
-- names, phone numbers and personal free text are never stored. Every row keeps its source file and line.
CREATE TABLE jaki_complaints (
    ticket_id VARCHAR, created_at TIMESTAMPTZ, category VARCHAR, description VARCHAR, lat DOUBLE, lon DOUBLE,
    kelurahan_code VARCHAR, status VARCHAR, resolved_at TIMESTAMPTZ, channel VARCHAR, user_hash VARCHAR,
    source_file VARCHAR, source_line BIGINT, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_health_requests (
    request_id VARCHAR, created_at TIMESTAMPTZ, service VARCHAR, kelurahan_code VARCHAR, status VARCHAR,
    completed_at TIMESTAMPTZ, kode_rs VARCHAR, user_hash VARCHAR,
    source_file VARCHAR, source_line BIGINT, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_hospital_beds (
    snapshot_at TIMESTAMPTZ, kode_rs VARCHAR, hospital_name VARCHAR, bed_type VARCHAR, capacity BIGINT,
    available BIGINT, source_file VARCHAR, source_line BIGINT, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_fast_cash (
    application_id VARCHAR, submitted_at TIMESTAMPTZ, program VARCHAR, amount_idr BIGINT, kelurahan_code VARCHAR,
    status VARCHAR, decided_at TIMESTAMPTZ, user_hash VARCHAR,
    source_file VARCHAR, source_line BIGINT, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_parking_occupancy (
    snapshot_at TIMESTAMPTZ, parking_id VARCHAR, vehicle_type VARCHAR, capacity BIGINT, occupied BIGINT,
    source_file VARCHAR, source_line BIGINT, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_panic_button (
    panic_id VARCHAR, pressed_at TIMESTAMPTZ, lat DOUBLE, lon DOUBLE, kelurahan_code VARCHAR, kind VARCHAR,
    user_hash VARCHAR, source_file VARCHAR, source_line BIGINT, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_usage_events (
    event_id VARCHAR, event_time TIMESTAMPTZ, feature VARCHAR, action VARCHAR, kelurahan_code VARCHAR,
    platform VARCHAR, user_hash VARCHAR, source_file VARCHAR, source_line BIGINT, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_quarantine (
    table_name VARCHAR, source_file VARCHAR, line BIGINT, column_name VARCHAR, value VARCHAR, reason VARCHAR,
    check_name VARCHAR, checksum VARCHAR, quarantined_at TIMESTAMPTZ
);
CREATE TABLE jaki_ingested_files (
    source_file VARCHAR, checksum VARCHAR, table_name VARCHAR, format VARCHAR, size_bytes BIGINT, rows_read BIGINT,
    rows_accepted BIGINT, rows_quarantined BIGINT, fields_redacted BIGINT, status VARCHAR, message VARCHAR,
    ge_success BOOLEAN, ge_rows_validated BIGINT, duration_s DOUBLE, ingested_at TIMESTAMPTZ
);
CREATE TABLE jaki_api_cursors (
    endpoint VARCHAR, table_name VARCHAR, cursor VARCHAR, pages BIGINT, rows BIGINT, updated_at TIMESTAMPTZ
);
