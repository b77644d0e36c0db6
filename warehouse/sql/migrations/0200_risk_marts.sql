-- Risk and uptime marts (owner: open-data). Built from frames, frame_scores and camera_events
-- by the SQL in marts/sql/, incrementally by hour (touched hours are replaced).
CREATE TABLE risk_hourly_camera (
    hour TIMESTAMPTZ, camera_id VARCHAR, kelurahan_code VARCHAR, frames BIGINT, frames_ok BIGINT,
    fire_max DOUBLE, smoke_max DOUBLE, flood_max DOUBLE, crowd_max DOUBLE, persons_max DOUBLE,
    persons_mean DOUBLE, risk_level_max VARCHAR, uptime DOUBLE, motion_events BIGINT, fire_frames BIGINT,
    smoke_frames BIGINT, flood_frames BIGINT
);
CREATE TABLE risk_hourly_kelurahan (
    hour TIMESTAMPTZ, kelurahan_code VARCHAR, cameras BIGINT, fire_max DOUBLE, smoke_max DOUBLE,
    flood_max DOUBLE, crowd_max DOUBLE, persons_max DOUBLE, risk_level_max VARCHAR, frames BIGINT,
    uptime_mean DOUBLE, motion_events BIGINT, fire_frames BIGINT, smoke_frames BIGINT, flood_frames BIGINT
);
CREATE TABLE camera_uptime_daily (
    day DATE, camera_id VARCHAR, samples BIGINT, ok BIGINT, uptime DOUBLE, offline BIGINT, frozen BIGINT,
    tampered BIGINT, black BIGINT, overexposed BIGINT, decode_error BIGINT
);
