-- Capture workers serve panic-button priority requests (ingest/cameras/priority.py): when and by which worker.
-- status: pending -> served (sampled faster for a bounded time) | expired (too old when first seen).
ALTER TABLE camera_priority_requests ADD COLUMN served_at TIMESTAMPTZ;
ALTER TABLE camera_priority_requests ADD COLUMN served_by VARCHAR;
