-- Camera registry: ``cameras`` is the registry's current state; every change is one row of
-- ``camera_registry_changes`` (who, when, what: JSON {field: [old, new]}) and one row of ``camera_versions``
-- (the record as it was from valid_from until valid_to; NULL = current). Status: planned | installed | retired.
-- Credentials never appear here: ``secret_ref`` names an environment variable or a key of the secrets file.
ALTER TABLE cameras ADD COLUMN status VARCHAR;
ALTER TABLE cameras ADD COLUMN secret_ref VARCHAR;
ALTER TABLE cameras ADD COLUMN plan_site_id VARCHAR;
ALTER TABLE cameras ADD COLUMN retired_at TIMESTAMPTZ;
ALTER TABLE cameras ADD COLUMN version INTEGER;
ALTER TABLE cameras ADD COLUMN updated_at TIMESTAMPTZ;
ALTER TABLE cameras ADD COLUMN updated_by VARCHAR;
CREATE TABLE camera_versions (
    camera_id VARCHAR, version INTEGER, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ, change_id VARCHAR,
    status VARCHAR, active BOOLEAN, name VARCHAR, operator VARCHAR, provider VARCHAR, stream_url VARCHAR,
    stream_kind VARCHAR, secret_ref VARCHAR, lat DOUBLE, lon DOUBLE, kelurahan_code VARCHAR, kelurahan VARCHAR,
    kecamatan VARCHAR, kota VARCHAR, kelurahan_method VARCHAR, view_radius_m DOUBLE, heading_deg DOUBLE,
    zones VARCHAR, installed_at TIMESTAMPTZ, catalog_source VARCHAR, address VARCHAR, n_channels INTEGER,
    plan_site_id VARCHAR, retired_at TIMESTAMPTZ, updated_by VARCHAR
);
CREATE TABLE camera_registry_changes (
    change_id VARCHAR, batch_id VARCHAR, camera_id VARCHAR, action VARCHAR, actor VARCHAR,
    changed_at TIMESTAMPTZ, version INTEGER, status VARCHAR, fields VARCHAR, source VARCHAR, note VARCHAR
);
CREATE TABLE camera_import_rejects (
    batch_id VARCHAR, source VARCHAR, row_number INTEGER, camera_id VARCHAR, reasons VARCHAR, actor VARCHAR,
    rejected_at TIMESTAMPTZ
);
