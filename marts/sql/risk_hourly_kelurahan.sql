-- Hourly risk per kelurahan for hours in [$start, $end), rolled up from risk_hourly_camera.
-- $levels: the level labels in rank order (analytics.levels.LEVELS).
SELECT hour, kelurahan_code, count(DISTINCT camera_id) AS cameras,
       max(fire_max) AS fire_max, max(smoke_max) AS smoke_max, max(flood_max) AS flood_max,
       max(crowd_max) AS crowd_max, max(persons_max) AS persons_max,
       $levels[max(list_position($levels, risk_level_max))] AS risk_level_max,
       sum(frames)::BIGINT AS frames, avg(uptime) AS uptime_mean,
       sum(motion_events)::BIGINT AS motion_events, sum(fire_frames)::BIGINT AS fire_frames,
       sum(smoke_frames)::BIGINT AS smoke_frames, sum(flood_frames)::BIGINT AS flood_frames
FROM risk_hourly_camera
WHERE hour >= $start AND hour < $end AND kelurahan_code IS NOT NULL
GROUP BY hour, kelurahan_code
ORDER BY hour, kelurahan_code
