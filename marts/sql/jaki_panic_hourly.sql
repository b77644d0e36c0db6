-- Panic-button presses by kelurahan and hour (UTC hour start). Params: start, end (TIMESTAMPTZ).
SELECT kelurahan_code,
       date_trunc('hour', pressed_at) AS hour,
       count(*) AS presses,
       string_agg(DISTINCT kind, ',' ORDER BY kind) AS kinds
FROM jaki_panic_button
WHERE pressed_at >= ? AND pressed_at < ?
GROUP BY ALL
