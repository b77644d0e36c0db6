-- Hospital bed availability per day, hospital and bed type. Params: start, end (TIMESTAMPTZ).
SELECT CAST(timezone('Asia/Jakarta', snapshot_at) AS DATE) AS day,
       kode_rs,
       any_value(hospital_name) AS hospital_name,
       bed_type,
       count(*) AS snapshots,
       max(capacity) AS capacity,
       min(available) AS available_min,
       avg(available) AS available_mean,
       arg_max(available, snapshot_at) AS available_last,
       avg(CASE WHEN capacity > 0 THEN 1.0 - available / capacity END) AS occupancy_rate_mean
FROM jaki_hospital_beds
WHERE snapshot_at >= ? AND snapshot_at < ?
GROUP BY ALL
