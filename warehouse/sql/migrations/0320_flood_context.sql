-- Flood context (ingest/context): water-gate heights from the Posko Banjir feed and BMKG CAP 1.2 weather warnings,
-- landed with history (one row per gate and observation time / per warning and area), every document in a ledger,
-- malformed documents and rows quarantined with the reason.
CREATE TABLE water_gate_readings (
    gate_id VARCHAR, name VARCHAR, observed_at TIMESTAMPTZ, height_cm DOUBLE, status VARCHAR, gate_level VARCHAR,
    source_key VARCHAR, ingested_at TIMESTAMPTZ
);
CREATE TABLE weather_warnings (
    identifier VARCHAR, area_no INTEGER, sender VARCHAR, sent TIMESTAMPTZ, msg_type VARCHAR, event VARCHAR,
    severity VARCHAR, urgency VARCHAR, certainty VARCHAR, onset TIMESTAMPTZ, expires TIMESTAMPTZ, headline VARCHAR,
    area_desc VARCHAR, geometry VARCHAR, source_key VARCHAR, ingested_at TIMESTAMPTZ
);
CREATE TABLE context_documents (
    key VARCHAR, source VARCHAR, status VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    error VARCHAR, ingested_at TIMESTAMPTZ
);
CREATE TABLE context_quarantine (
    source VARCHAR, key VARCHAR, row_no INTEGER, reason VARCHAR, raw VARCHAR, quarantined_at TIMESTAMPTZ
);
