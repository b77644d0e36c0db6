"""``pantau publish``: build a release, record it in the lake ledger, refresh the portal and, on
S3/MinIO, make the ``releases/`` prefix anonymously readable (everything else stays private).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from open_data.portal import build_portal
from open_data.privacy import DEFAULT_THRESHOLD
from open_data.release import AUTO, DEFAULT_BASE_URL, RELEASES_PREFIX, ReleaseResult, build_release
from warehouse.lake import Lake
from warehouse.object_store import ObjectStore, S3ObjectStore

log = logging.getLogger(__name__)


def public_read_policy(bucket: str, prefix: str) -> dict[str, Any]:
    """Bucket policy: anonymous s3:GetObject on ``<prefix>*`` only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PantauPublicReleases",
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"],
            }
        ],
    }


def make_releases_public(store: S3ObjectStore) -> dict[str, Any]:
    """Set the bucket policy so that only the releases prefix is anonymously readable."""
    prefix = (store.prefix + "/" if store.prefix else "") + RELEASES_PREFIX + "/"
    policy = public_read_policy(store.bucket, prefix)
    store.client.set_bucket_policy(store.bucket, json.dumps(policy))
    return policy


def record_release(lake: Lake, result: ReleaseResult, target: str) -> None:
    row = {
        "version": result.version,
        "snapshot_id": result.snapshot_id,
        "snapshot_time": result.snapshot_time,
        "created_at": datetime.now(UTC),
        "previous_version": result.previous,
        "target": target,
        "prefix": result.prefix,
        "checksums_sha256": result.checksums_sha256,
        "datasets": json.dumps({d["name"]: d["rows"] for d in result.datasets}, sort_keys=True),
        "skipped": json.dumps(result.skipped, sort_keys=True),
        "total_rows": result.total_rows,
        "total_bytes": result.total_bytes,
    }
    if "releases" in lake.tables():
        lake.upsert("releases", pa.Table.from_pylist([row]), ["version"])


def run_publish(
    lake: Lake,
    store: ObjectStore,
    snapshot: int | None = None,
    *,
    version: str | None = None,
    previous: str | None = AUTO,
    base_url: str = DEFAULT_BASE_URL,
    force: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Build and publish one release; returns a summary. Without ``force``, an unchanged release is skipped."""
    result = build_release(
        lake, store, snapshot, version, previous, base_url=base_url, threshold=threshold, skip_unchanged=not force
    )
    target = "s3" if isinstance(store, S3ObjectStore) else "local"
    if result.written:
        record_release(lake, result, target)
    portal = build_portal(store)
    policy = make_releases_public(store) if isinstance(store, S3ObjectStore) else None
    summary = {
        "version": result.version,
        "snapshot_id": result.snapshot_id,
        "written": result.written,
        "unchanged": result.unchanged,
        "previous": result.previous,
        "prefix": result.prefix,
        "uri": store.uri(result.prefix + "datapackage.json"),
        "datasets": {d["name"]: d["rows"] for d in result.datasets},
        "skipped": result.skipped,
        "checksums_sha256": result.checksums_sha256,
        "portal": store.uri(portal[0]),
        "public_policy": policy is not None,
        "notes": result.notes,
    }
    log.info("published %s: %s", result.version, summary["datasets"])
    return summary
