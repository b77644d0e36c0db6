-- Jaki marts (refreshed by marts.jaki from marts/sql/jaki_*.sql) and cross-signal outputs.
-- day columns are calendar days in Asia/Jakarta (WIB); hour columns are TIMESTAMPTZ (UTC) hour starts.
CREATE TABLE jaki_daily_usage (
    day DATE, feature VARCHAR, kelurahan_code VARCHAR, events BIGINT, users BIGINT
);
CREATE TABLE jaki_complaints_summary (
    grain VARCHAR, day DATE, category VARCHAR, kecamatan_code VARCHAR, kecamatan VARCHAR, complaints BIGINT,
    resolved BIGINT, median_resolution_h DOUBLE, p90_resolution_h DOUBLE
);
CREATE TABLE jaki_hospital_beds_daily (
    day DATE, kode_rs VARCHAR, hospital_name VARCHAR, bed_type VARCHAR, snapshots BIGINT, capacity BIGINT,
    available_min BIGINT, available_mean DOUBLE, available_last BIGINT, occupancy_rate_mean DOUBLE
);
CREATE TABLE jaki_parking_hourly (
    parking_id VARCHAR, vehicle_type VARCHAR, hour TIMESTAMPTZ, snapshots BIGINT, capacity BIGINT,
    occupied_mean DOUBLE, occupied_max BIGINT, occupancy DOUBLE
);
CREATE TABLE jaki_panic_hourly (
    kelurahan_code VARCHAR, hour TIMESTAMPTZ, presses BIGINT, kinds VARCHAR
);
CREATE TABLE camera_priority_requests (
    request_id VARCHAR, camera_id VARCHAR, panic_id VARCHAR, pressed_at TIMESTAMPTZ, kelurahan_code VARCHAR,
    kind VARCHAR, distance_m DOUBLE, radius_m DOUBLE, priority INTEGER, reason VARCHAR, status VARCHAR,
    requested_at TIMESTAMPTZ
);
