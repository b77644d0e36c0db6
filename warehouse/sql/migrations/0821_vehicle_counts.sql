-- Vehicle counts beside person counts: per frame from the road_users detector (cars, motorcycles,
-- buses/trucks and their sum), per 5-minute camera window and per camera-hour (mean and max of the per-frame sum).
ALTER TABLE frame_scores ADD COLUMN cars DOUBLE;
ALTER TABLE frame_scores ADD COLUMN motorcycles DOUBLE;
ALTER TABLE frame_scores ADD COLUMN buses_trucks DOUBLE;
ALTER TABLE frame_scores ADD COLUMN vehicles DOUBLE;
ALTER TABLE camera_events ADD COLUMN vehicles_max DOUBLE;
ALTER TABLE camera_events ADD COLUMN vehicles_mean DOUBLE;
ALTER TABLE camera_events ADD COLUMN cars_mean DOUBLE;
ALTER TABLE camera_events ADD COLUMN motorcycles_mean DOUBLE;
ALTER TABLE camera_events ADD COLUMN buses_trucks_mean DOUBLE;
ALTER TABLE risk_hourly_camera ADD COLUMN vehicles_max DOUBLE;
ALTER TABLE risk_hourly_camera ADD COLUMN vehicles_mean DOUBLE;
ALTER TABLE risk_hourly_camera ADD COLUMN cars_mean DOUBLE;
ALTER TABLE risk_hourly_camera ADD COLUMN motorcycles_mean DOUBLE;
ALTER TABLE risk_hourly_camera ADD COLUMN buses_trucks_mean DOUBLE;
