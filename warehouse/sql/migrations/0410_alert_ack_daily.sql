-- Time to acknowledge per WIB day, acknowledging agency and hazard (marts/sql/alert_ack_daily.sql).
CREATE TABLE alert_ack_daily (
    day DATE, agency VARCHAR, hazard VARCHAR, alerts BIGINT, acknowledged BIGINT, tta_median_s DOUBLE,
    tta_p90_s DOUBLE, tta_max_s DOUBLE
);
