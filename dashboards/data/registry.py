"""Camera registry queries for the operator page and the planning counts (planned vs live)."""

from __future__ import annotations

from dashboards.data.query import Q

REGISTRY_STATUS = Q(
    "SELECT coalesce(status, 'installed') AS status, count(*) AS n, "
    "count(*) FILTER (WHERE stream_kind IN ('hls', 'rtsp', 'mjpeg', 'snapshot')) AS capturable, "
    "count(*) FILTER (WHERE stream_kind = 'viewer') AS viewer_only FROM cameras GROUP BY 1 ORDER BY 1",
    ("cameras",),
    ("status", "n", "capturable", "viewer_only"),
)
REGISTRY_BY_KOTA = Q(
    "SELECT coalesce(kota, '-') AS kota, coalesce(status, 'installed') AS status, count(*) AS n FROM cameras "
    "GROUP BY ALL ORDER BY 1, 2",
    ("cameras",),
    ("kota", "status", "n"),
    empty_if_empty=True,
)
REGISTRY_CAMERAS = Q(
    "SELECT camera_id, name, coalesce(status, 'installed') AS status, stream_kind, kota, kelurahan, operator, "
    "stream_url, secret_ref IS NOT NULL AS has_secret, version, updated_by, updated_at FROM cameras "
    "ORDER BY updated_at DESC NULLS LAST, camera_id",
    ("cameras",),
    ("camera_id", "name", "status", "stream_kind", "kota", "kelurahan", "operator", "stream_url", "has_secret",
     "version", "updated_by", "updated_at"),
    empty_if_empty=True,
)  # fmt: skip
REGISTRY_CHANGES = Q(
    "SELECT changed_at, camera_id, action, actor, status, version, fields, note FROM camera_registry_changes "
    "ORDER BY changed_at DESC, camera_id LIMIT ?",
    ("camera_registry_changes",),
    ("changed_at", "camera_id", "action", "actor", "status", "version", "fields", "note"),
    empty_if_empty=True,
)
# live at any moment of [start, end): status installed in a version overlapping the day
REGISTRY_LIVE_DURING = Q(
    "SELECT count(DISTINCT camera_id) AS n FROM camera_versions WHERE status = 'installed' AND valid_from < ? "
    "AND (valid_to IS NULL OR valid_to > ?)",
    ("camera_versions",),
    ("n",),
)
REGISTRY_REJECTS = Q(
    "SELECT rejected_at, source, row_number, camera_id, reasons, actor FROM camera_import_rejects "
    "ORDER BY rejected_at DESC, row_number LIMIT 200",
    ("camera_import_rejects",),
    ("rejected_at", "source", "row_number", "camera_id", "reasons", "actor"),
    empty_if_empty=True,
)
