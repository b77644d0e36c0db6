-- Daily usage by feature x kelurahan. Params: start, end (TIMESTAMPTZ, WIB-midnight bounds).
-- day = calendar day in Asia/Jakarta; users = distinct hashed users.
SELECT CAST(timezone('Asia/Jakarta', event_time) AS DATE) AS day,
       feature,
       kelurahan_code,
       count(*) AS events,
       count(DISTINCT user_hash) AS users
FROM jaki_usage_events
WHERE event_time >= ? AND event_time < ?
GROUP BY ALL
