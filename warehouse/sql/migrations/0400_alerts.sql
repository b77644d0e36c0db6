-- Alerts history exported from the operational DB (alerts.export.export_alerts_to_lake).
-- One row per alert version (every transition); deliveries by delivery_id.
CREATE TABLE alerts (
    alert_id VARCHAR, version INTEGER, camera_id VARCHAR, kelurahan_code VARCHAR, kecamatan_code VARCHAR,
    kota_code VARCHAR, hazard VARCHAR, level VARCHAR, status VARCHAR, msg_type VARCHAR, reason VARCHAR,
    evidence VARCHAR, actor VARCHAR, opened_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, cap_identifier VARCHAR,
    cap_xml_uri VARCHAR, lat DOUBLE, lon DOUBLE, exported_at TIMESTAMPTZ
);
CREATE TABLE alert_deliveries (
    delivery_id VARCHAR, alert_id VARCHAR, version INTEGER, subscriber_id VARCHAR, channel VARCHAR,
    idempotency_key VARCHAR, state VARCHAR, attempts INTEGER, last_error VARCHAR, next_attempt_at TIMESTAMPTZ,
    sent_at TIMESTAMPTZ, created_at TIMESTAMPTZ, exported_at TIMESTAMPTZ
);
