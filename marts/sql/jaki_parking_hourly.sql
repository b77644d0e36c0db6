-- Parking occupancy by location, vehicle type and hour (UTC hour start). Params: start, end (TIMESTAMPTZ).
SELECT parking_id,
       vehicle_type,
       date_trunc('hour', snapshot_at) AS hour,
       count(*) AS snapshots,
       max(capacity) AS capacity,
       avg(occupied) AS occupied_mean,
       max(occupied) AS occupied_max,
       CASE WHEN max(capacity) > 0 THEN avg(occupied) / max(capacity) END AS occupancy
FROM jaki_parking_occupancy
WHERE snapshot_at >= ? AND snapshot_at < ?
GROUP BY ALL
