-- Complaint volume and resolution time (hours: median, p90) by category x kecamatan, per day and per week.
-- Params: start, end (TIMESTAMPTZ), start, end (repeated for the weekly grain).
-- kecamatan_code = first 8 characters of the Kemendagri kelurahan code (31.KK.CC).
WITH c AS (
    SELECT CAST(timezone('Asia/Jakarta', created_at) AS DATE) AS day,
           category,
           left(kelurahan_code, 8) AS kecamatan_code,
           status IN ('resolved', 'closed') AND resolved_at IS NOT NULL AS is_resolved,
           CASE WHEN status IN ('resolved', 'closed') AND resolved_at IS NOT NULL
                THEN epoch(resolved_at - created_at) / 3600.0 END AS resolution_h
    FROM jaki_complaints
    WHERE created_at >= ? AND created_at < ?
), names AS (
    SELECT kode_kecamatan, any_value(nama_kecamatan) AS nama_kecamatan FROM kecamatan GROUP BY 1
)
SELECT 'day' AS grain, c.day, c.category, c.kecamatan_code, n.nama_kecamatan AS kecamatan,
       count(*) AS complaints,
       count(*) FILTER (WHERE is_resolved) AS resolved,
       quantile_cont(resolution_h, 0.5) AS median_resolution_h,
       quantile_cont(resolution_h, 0.9) AS p90_resolution_h
FROM c LEFT JOIN names n ON n.kode_kecamatan = c.kecamatan_code
GROUP BY c.day, c.category, c.kecamatan_code, n.nama_kecamatan
UNION ALL
SELECT 'week' AS grain, CAST(date_trunc('week', c.day) AS DATE) AS day, c.category, c.kecamatan_code,
       n.nama_kecamatan AS kecamatan,
       count(*) AS complaints,
       count(*) FILTER (WHERE is_resolved) AS resolved,
       quantile_cont(resolution_h, 0.5) AS median_resolution_h,
       quantile_cont(resolution_h, 0.9) AS p90_resolution_h
FROM c LEFT JOIN names n ON n.kode_kecamatan = c.kecamatan_code
GROUP BY CAST(date_trunc('week', c.day) AS DATE), c.category, c.kecamatan_code, n.nama_kecamatan
