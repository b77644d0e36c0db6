-- Time to acknowledge, per WIB day the alert opened, acknowledging agency and hazard (camera-health alerts excluded).
-- The clock starts when recipients were first told (first delivery), else at the opening; it stops at the first
-- acknowledgement (its actor: the agency whose link or account acknowledged). Alerts nobody acknowledged are
-- counted on rows with agency NULL.
WITH opened AS (
    SELECT alert_id, any_value(hazard) AS hazard, min(opened_at) AS opened_at
    FROM alerts WHERE hazard <> 'camera' GROUP BY alert_id
), told AS (
    SELECT alert_id, min(created_at) AS told_at FROM alert_deliveries GROUP BY alert_id
), acks AS (
    SELECT alert_id, arg_min(actor, updated_at) AS agency, min(updated_at) AS acked_at
    FROM alerts WHERE status = 'acknowledged' GROUP BY alert_id
), timed AS (
    SELECT o.alert_id, o.hazard, CAST(timezone('Asia/Jakarta', o.opened_at) AS DATE) AS day, a.agency,
           epoch(a.acked_at - coalesce(t.told_at, o.opened_at)) AS tta_s
    FROM opened o LEFT JOIN told t USING (alert_id) LEFT JOIN acks a USING (alert_id)
)
SELECT day, agency, hazard, count(*)::BIGINT AS alerts, count(tta_s)::BIGINT AS acknowledged,
       median(tta_s) AS tta_median_s, quantile_cont(tta_s, 0.9) AS tta_p90_s, max(tta_s) AS tta_max_s
FROM timed
GROUP BY ALL
ORDER BY day, agency NULLS LAST, hazard
