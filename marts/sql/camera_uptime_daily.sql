-- Daily camera uptime (UTC days) for frames captured in [$start, $end); status counts per camera and day.
SELECT CAST(date_trunc('day', captured_at) AS DATE) AS day, camera_id, count(*)::BIGINT AS samples,
       count(*) FILTER (WHERE status = 'ok')::BIGINT AS ok,
       count(*) FILTER (WHERE status = 'ok') / count(*) AS uptime,
       count(*) FILTER (WHERE status = 'offline')::BIGINT AS offline,
       count(*) FILTER (WHERE status = 'frozen')::BIGINT AS frozen,
       count(*) FILTER (WHERE status = 'tampered')::BIGINT AS tampered,
       count(*) FILTER (WHERE status = 'black')::BIGINT AS black,
       count(*) FILTER (WHERE status = 'overexposed')::BIGINT AS overexposed,
       count(*) FILTER (WHERE status = 'decode_error')::BIGINT AS decode_error
FROM frames
WHERE captured_at >= $start AND captured_at < $end
GROUP BY ALL
ORDER BY day, camera_id
