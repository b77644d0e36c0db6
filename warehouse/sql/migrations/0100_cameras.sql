-- Camera capture: frame samples, their scores, 5-minute camera windows, health transitions and the
-- exactly-once ledger of landed micro-batches. Times are UTC.
CREATE TABLE frames (
    camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR, seq BIGINT, keyframe_uri VARCHAR,
    public_uri VARCHAR, width INTEGER, height INTEGER, status VARCHAR, decode_ms DOUBLE, fetch_ms DOUBLE,
    worker_id VARCHAR, reason VARCHAR
);
CREATE TABLE frame_scores (
    camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR, fire DOUBLE, smoke DOUBLE, flood DOUBLE,
    flood_depth_class INTEGER, persons DOUBLE, crowd_density DOUBLE, crowd_level VARCHAR, crowd DOUBLE,
    motion DOUBLE, health VARCHAR, risk_level VARCHAR, risk_hazard VARCHAR, model_version VARCHAR,
    features VARCHAR
);
CREATE TABLE camera_events (
    camera_id VARCHAR, window_start TIMESTAMPTZ, window_end TIMESTAMPTZ, frames_ok INTEGER,
    frames_failed INTEGER, persons_max DOUBLE, persons_mean DOUBLE, motion_events INTEGER, fire_frames INTEGER,
    smoke_frames INTEGER, flood_frames INTEGER, uptime DOUBLE, frames_offline INTEGER, frames_frozen INTEGER,
    frames_tampered INTEGER, fire_max DOUBLE, smoke_max DOUBLE, flood_max DOUBLE
);
CREATE TABLE camera_health_transitions (
    camera_id VARCHAR, "at" TIMESTAMPTZ, from_status VARCHAR, to_status VARCHAR, reason VARCHAR, batch_id VARCHAR
);
CREATE TABLE landed_batches (
    batch_id VARCHAR, key VARCHAR, camera_count INTEGER, rows BIGINT, landed_at TIMESTAMPTZ,
    ingested_at TIMESTAMPTZ, worker_id VARCHAR
);
CREATE TABLE camera_events_daily (
    day DATE, camera_id VARCHAR, samples INTEGER, frames_ok INTEGER, frames_failed INTEGER, uptime DOUBLE,
    frames_offline INTEGER, frames_frozen INTEGER, frames_tampered INTEGER, persons_max DOUBLE,
    motion_events INTEGER, fire_frames INTEGER, smoke_frames INTEGER, flood_frames INTEGER, fire_max DOUBLE,
    smoke_max DOUBLE, flood_max DOUBLE, computed_at TIMESTAMPTZ
);
