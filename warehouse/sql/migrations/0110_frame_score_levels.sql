-- One level per hazard (analytics/levels.py): the confirmed level of fire, smoke, flood and crowd decided once in
-- the scoring path and shown everywhere (alerts follow these columns; the marts roll them up per hour).
ALTER TABLE frame_scores ADD COLUMN level_fire VARCHAR;
ALTER TABLE frame_scores ADD COLUMN level_smoke VARCHAR;
ALTER TABLE frame_scores ADD COLUMN level_flood VARCHAR;
ALTER TABLE frame_scores ADD COLUMN level_crowd VARCHAR;
