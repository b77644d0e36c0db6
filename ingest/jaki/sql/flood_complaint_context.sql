-- Flood complaints of one kelurahan since a time. Params: kelurahan_code, since (TIMESTAMPTZ).
SELECT count(*) AS complaints,
       count(*) FILTER (WHERE status IN ('open', 'in_progress')) AS open_complaints,
       min(created_at) AS first_at,
       max(created_at) AS last_at,
       count(DISTINCT date_trunc('hour', created_at)) AS hours_with_complaints
FROM jaki_complaints
WHERE category = 'flood' AND kelurahan_code = ? AND created_at >= ?
