-- Cameras within a radius of each panic press (haversine, metres).
-- Params: since (TIMESTAMPTZ), radius_m, radius_m (latitude pre-filter), radius_m.
WITH p AS (
    SELECT panic_id, pressed_at, lat, lon, kelurahan_code, kind FROM jaki_panic_button WHERE pressed_at >= ?
), c AS (
    SELECT camera_id, lat AS clat, lon AS clon FROM cameras
    WHERE lat IS NOT NULL AND lon IS NOT NULL AND coalesce(active, true)
), pairs AS (
    SELECT p.*, c.camera_id,
           2 * 6371008.8 * asin(sqrt(
               pow(sin(radians(c.clat - p.lat) / 2), 2)
               + cos(radians(p.lat)) * cos(radians(c.clat)) * pow(sin(radians(c.clon - p.lon) / 2), 2)
           )) AS distance_m
    FROM p JOIN c
      ON c.clat BETWEEN p.lat - ? / 111000.0 AND p.lat + ? / 111000.0
)
SELECT * FROM pairs WHERE distance_m <= ? ORDER BY panic_id, distance_m
