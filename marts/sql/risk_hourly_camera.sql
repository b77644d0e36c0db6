-- Hourly risk and event counts per camera for hours in [$start, $end).
-- Sources: frames (sampling/health), frame_scores (detector scores and confirmed levels), camera_events.
-- $levels: the level labels in rank order (analytics.levels.LEVELS); a level's rank is its position - 1.
WITH f AS (
    SELECT camera_id, date_trunc('hour', captured_at) AS hour,
           count(*) AS frames, count(*) FILTER (WHERE status = 'ok') AS frames_ok
    FROM frames WHERE captured_at >= $start AND captured_at < $end
    GROUP BY ALL
), s AS (
    SELECT camera_id, date_trunc('hour', captured_at) AS hour, count(*) AS scored,
           max(fire) AS fire_max, max(smoke) AS smoke_max, max(flood) AS flood_max, max(crowd) AS crowd_max,
           max(persons) AS persons_max, avg(persons) AS persons_mean,
           max(vehicles) AS vehicles_max, avg(vehicles) AS vehicles_mean, avg(cars) AS cars_mean,
           avg(motorcycles) AS motorcycles_mean, avg(buses_trucks) AS buses_trucks_mean,
           max(list_position($levels, risk_level)) AS risk_rank,
           max(list_position($levels, level_fire)) AS fire_rank,
           max(list_position($levels, level_smoke)) AS smoke_rank,
           max(list_position($levels, level_flood)) AS flood_rank,
           max(list_position($levels, level_crowd)) AS crowd_rank
    FROM frame_scores WHERE captured_at >= $start AND captured_at < $end
    GROUP BY ALL
), e AS (
    SELECT camera_id, date_trunc('hour', window_start) AS hour,
           sum(frames_ok) AS ev_ok, sum(frames_failed) AS ev_failed,
           sum(motion_events) AS motion_events, sum(fire_frames) AS fire_frames,
           sum(smoke_frames) AS smoke_frames, sum(flood_frames) AS flood_frames,
           max(persons_max) AS ev_persons_max
    FROM camera_events WHERE window_start >= $start AND window_start < $end
    GROUP BY ALL
), k AS (
    SELECT camera_id, hour FROM f UNION SELECT camera_id, hour FROM s UNION SELECT camera_id, hour FROM e
), cam AS (
    SELECT camera_id, min(kelurahan_code) AS kelurahan_code FROM cameras GROUP BY camera_id
)
SELECT k.hour, k.camera_id, cam.kelurahan_code,
       coalesce(f.frames, e.ev_ok + e.ev_failed, s.scored, 0)::BIGINT AS frames,
       coalesce(f.frames_ok, e.ev_ok, s.scored, 0)::BIGINT AS frames_ok,
       s.fire_max, s.smoke_max, s.flood_max, s.crowd_max,
       greatest(s.persons_max, e.ev_persons_max) AS persons_max, s.persons_mean,
       s.vehicles_max, s.vehicles_mean, s.cars_mean, s.motorcycles_mean, s.buses_trucks_mean,
       $levels[s.risk_rank] AS risk_level_max,
       CASE WHEN f.frames > 0 THEN f.frames_ok / f.frames
            WHEN e.ev_ok + e.ev_failed > 0 THEN e.ev_ok / (e.ev_ok + e.ev_failed) END AS uptime,
       coalesce(e.motion_events, 0)::BIGINT AS motion_events, coalesce(e.fire_frames, 0)::BIGINT AS fire_frames,
       coalesce(e.smoke_frames, 0)::BIGINT AS smoke_frames, coalesce(e.flood_frames, 0)::BIGINT AS flood_frames,
       $levels[s.fire_rank] AS fire_level_max, $levels[s.smoke_rank] AS smoke_level_max,
       $levels[s.flood_rank] AS flood_level_max, $levels[s.crowd_rank] AS crowd_level_max
FROM k
LEFT JOIN f USING (camera_id, hour)
LEFT JOIN s USING (camera_id, hour)
LEFT JOIN e USING (camera_id, hour)
LEFT JOIN cam USING (camera_id)
ORDER BY k.hour, k.camera_id
