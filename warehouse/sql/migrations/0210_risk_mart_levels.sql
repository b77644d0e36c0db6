-- The hourly camera mart carries each hazard's highest confirmed level (frame_scores.level_<hazard>).
ALTER TABLE risk_hourly_camera ADD COLUMN fire_level_max VARCHAR;
ALTER TABLE risk_hourly_camera ADD COLUMN smoke_level_max VARCHAR;
ALTER TABLE risk_hourly_camera ADD COLUMN flood_level_max VARCHAR;
ALTER TABLE risk_hourly_camera ADD COLUMN crowd_level_max VARCHAR;
