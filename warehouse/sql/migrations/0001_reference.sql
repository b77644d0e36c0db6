-- Reference data: administrative areas, population, CCTV inventory, hazards history, facilities.
-- Geometry columns hold GeoJSON geometry objects as text (WGS84 lon/lat).
CREATE TABLE kota (
    kode_kota VARCHAR, nama_kota VARCHAR, geometry VARCHAR
);
CREATE TABLE kecamatan (
    kode_kecamatan VARCHAR, nama_kecamatan VARCHAR, kode_kota VARCHAR, nama_kota VARCHAR, geometry VARCHAR
);
CREATE TABLE kelurahan (
    kode_kelurahan VARCHAR, nama_kelurahan VARCHAR, kode_kecamatan VARCHAR, nama_kecamatan VARCHAR,
    kode_kota VARCHAR, nama_kota VARCHAR, population BIGINT, households BIGINT, area_km2 DOUBLE,
    density_per_km2 DOUBLE, centroid_lat DOUBLE, centroid_lon DOUBLE, geometry_source VARCHAR, geometry VARCHAR
);
CREATE TABLE cameras (
    camera_id VARCHAR, name VARCHAR, operator VARCHAR, provider VARCHAR, stream_url VARCHAR,
    stream_kind VARCHAR, lat DOUBLE, lon DOUBLE, kelurahan_code VARCHAR, kelurahan VARCHAR,
    kecamatan VARCHAR, kota VARCHAR, kelurahan_method VARCHAR, view_radius_m DOUBLE, heading_deg DOUBLE,
    zones VARCHAR, installed_at TIMESTAMPTZ, active BOOLEAN, catalog_source VARCHAR, address VARCHAR,
    n_channels INTEGER
);
CREATE TABLE camera_channels (
    camera_id VARCHAR, channel_id VARCHAR, channel_label VARCHAR, hls_url VARCHAR, snapshot_url VARCHAR,
    lat DOUBLE, lon DOUBLE, kelurahan_code VARCHAR, name_stream_mismatch BOOLEAN
);
CREATE TABLE flood_events_2024 (
    kode_kelurahan VARCHAR, kelurahan VARCHAR, kecamatan VARCHAR, kota VARCHAR, quarter INTEGER,
    month INTEGER, events INTEGER, water_min_cm DOUBLE, water_max_cm DOUBLE, water_avg_cm DOUBLE,
    rw_affected INTEGER, kk_affected INTEGER, people_affected INTEGER, displaced INTEGER, shelters INTEGER
);
CREATE TABLE fire_incidents_2024 (
    kode_kelurahan VARCHAR, kelurahan VARCHAR, kecamatan VARCHAR, kota VARCHAR, incidents INTEGER,
    cause_gas INTEGER, cause_other INTEGER, cause_candle INTEGER, cause_electric INTEGER,
    cause_burning_waste INTEGER, cause_cigarette INTEGER
);
CREATE TABLE flood_extent_2017 (
    geom_id VARCHAR, max_state INTEGER, hours_flagged INTEGER, first_snapshot VARCHAR, last_snapshot VARCHAR,
    kode_kelurahan VARCHAR, geometry VARCHAR
);
CREATE TABLE flood_reports_2017 (
    created_at TIMESTAMPTZ, source VARCHAR, flood_depth_cm DOUBLE, lat DOUBLE, lon DOUBLE, kode_kelurahan VARCHAR
);
CREATE TABLE facilities (
    facility_id VARCHAR, kind VARCHAR, subtype VARCHAR, name VARCHAR, lat DOUBLE, lon DOUBLE,
    kode_kelurahan VARCHAR, attributes VARCHAR
);
CREATE TABLE water_gate_thresholds (
    gate_id VARCHAR, name VARCHAR, siaga3_min_cm DOUBLE, siaga2_min_cm DOUBLE, siaga1_min_cm DOUBLE,
    source VARCHAR, note VARCHAR
);
CREATE TABLE hospital_capacity (
    kode_rs VARCHAR, name VARCHAR, hospital_type VARCHAR, hospital_class VARCHAR, owner VARCHAR,
    total_beds INTEGER, kota VARCHAR
);
CREATE TABLE parking_locations (
    parking_id VARCHAR, name VARCHAR, kind VARCHAR, address VARCHAR, area_m2 DOUBLE, capacity_car INTEGER,
    capacity_motorcycle INTEGER, capacity_bus_truck INTEGER, lat DOUBLE, lon DOUBLE, kode_kelurahan VARCHAR
);
CREATE TABLE reference_issues (
    source_file VARCHAR, row_number INTEGER, field VARCHAR, value VARCHAR, reason VARCHAR, action VARCHAR,
    loaded_at TIMESTAMPTZ
);
