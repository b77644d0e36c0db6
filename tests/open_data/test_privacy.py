"""Every privacy rule, on crafted and adversarial data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from open_data.datasets import DATASETS
from open_data.metadata import dataset_licence
from open_data.privacy import (
    REDACTED,
    PrivacyError,
    Suppression,
    assert_no_forbidden_columns,
    assert_time_grain,
    drop_forbidden_columns,
    is_public_thumbnail_key,
    redact_private_values,
    suppress_small_counts,
)
from open_data.release import build_release
from tests.open_data.conftest import PRIVATE_JPEG
from warehouse.lake import Lake
from warehouse.object_store import LocalObjectStore

GROUPS = (("day", "feature"), ("day", "kelurahan_code"))
SPEC = Suppression(counts=("events",), groups=GROUPS)


def _grid(cells: dict[tuple[str, str], int]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"day": "d1", "feature": f, "kelurahan_code": k, "events": n} for (f, k), n in sorted(cells.items())]
    )


def _assert_not_back_computable(table: pa.Table) -> None:
    rows = table.to_pylist()
    for dims in GROUPS:
        groups: dict[tuple, list[dict]] = {}  # type: ignore[type-arg]
        for r in rows:
            groups.setdefault(tuple(r[d] for d in dims), []).append(r)
        for members in groups.values():
            hidden = [r for r in members if r["suppressed"]]
            assert len(hidden) != 1 or len(members) == 1, f"a lone suppressed cell in {dims}: {members}"


@pytest.mark.parametrize(
    ("cells", "expected_hidden"),
    [
        # nothing small: nothing hidden
        ({("a", "k1"): 20, ("a", "k2"): 30, ("b", "k1"): 40, ("b", "k2"): 50}, set()),
        # one tiny cell: its row partner and column partner go too, then the 4th closes the square
        (
            {("a", "k1"): 3, ("a", "k2"): 30, ("b", "k1"): 40, ("b", "k2"): 50},
            {("a", "k1"), ("a", "k2"), ("b", "k1"), ("b", "k2")},
        ),
        # two tiny cells in one row, three columns: complementary picks the smallest in each column
        (
            {("a", "k1"): 1, ("a", "k2"): 2, ("a", "k3"): 90, ("b", "k1"): 11, ("b", "k2"): 12, ("b", "k3"): 80},
            {("a", "k1"), ("a", "k2"), ("b", "k1"), ("b", "k2")},
        ),
        # zero counts and exactly-threshold counts: 0 hidden, 10 kept
        ({("a", "k1"): 0, ("a", "k2"): 10, ("a", "k3"): 10}, {("a", "k1"), ("a", "k2")}),
    ],
)
def test_suppression_with_complementary_cells(cells: dict, expected_hidden: set) -> None:  # type: ignore[type-arg]
    out, n = suppress_small_counts(_grid(cells), SPEC)
    hidden = {(r["feature"], r["kelurahan_code"]) for r in out.to_pylist() if r["suppressed"]}
    assert hidden == expected_hidden and n == len(expected_hidden)
    for r in out.to_pylist():
        assert (r["events"] is None) == r["suppressed"]
        if r["events"] is not None:
            assert r["events"] >= 10
    _assert_not_back_computable(out)


def test_suppression_threshold_is_configurable() -> None:
    out, n = suppress_small_counts(_grid({("a", "k1"): 3, ("a", "k2"): 4}), SPEC, threshold=3)
    assert n == 0 and out.column("events").to_pylist() == [3, 4]


@pytest.mark.parametrize("size", [3, 6, 9])
def test_suppression_random_grids_never_leave_a_lone_cell(size: int) -> None:
    import random

    rng = random.Random(size)
    cells = {(f"f{i}", f"k{j}"): rng.choice([0, 1, 2, 5, 9, 10, 15, 40, 300]) for i in range(size) for j in range(size)}
    out, _ = suppress_small_counts(_grid(cells), SPEC)
    _assert_not_back_computable(out)
    assert all(r["events"] is None or r["events"] >= 10 for r in out.to_pylist())


@pytest.mark.parametrize(
    ("columns", "dropped"),
    [
        (["day", "users", "events"], []),
        (["day", "user_hash", "events"], ["user_hash"]),
        (["alert_id", "evidence", "subscriber_id", "target"], ["evidence", "subscriber_id", "target"]),
        (
            ["camera_id", "keyframe_uri", "stream_url", "plate_text", "faces"],
            ["keyframe_uri", "stream_url", "plate_text", "faces"],
        ),
        (["reporter_phone", "email", "nik"], ["reporter_phone", "email", "nik"]),
    ],
)
def test_forbidden_columns(columns: list[str], dropped: list[str]) -> None:
    table = pa.table({c: [1] for c in columns})
    out, bad = drop_forbidden_columns(table)
    assert bad == dropped and set(out.column_names) == set(columns) - set(dropped)
    if dropped:
        with pytest.raises(PrivacyError):
            assert_no_forbidden_columns(table)


@pytest.mark.parametrize(
    ("value", "redacted"),
    [
        ("keyframes/cam-a/2026.jpg", True),
        ("see s3://pantau/keyframes/cam-a/x.jpg", True),
        ("s3://pantau/anything", True),
        ("/var/data/frame.jpg", True),
        ("public/keyframes/cam-a/x.jpg", False),
        ("uncovered flood risk", False),
        (None, False),
    ],
)
def test_private_values_redacted(value: str | None, redacted: bool) -> None:
    out, n = redact_private_values(pa.table({"reason": pa.array([value], pa.string()), "n": [1]}))
    assert n == int(redacted)
    assert out.column("reason")[0].as_py() == (REDACTED if redacted else value)


@pytest.mark.parametrize(
    ("ts", "ok"),
    [
        (datetime(2026, 11, 20, 1, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 20, 1, 5, tzinfo=UTC), True),
        (datetime(2026, 11, 20, 1, 7, tzinfo=UTC), False),
        (datetime(2026, 11, 20, 1, 5, 1, tzinfo=UTC), False),
        (datetime(2026, 11, 20, 1, 5, 0, 1, tzinfo=UTC), False),
    ],
)
def test_camera_time_grain(ts: datetime, ok: bool) -> None:
    table = pa.table({"hour": pa.array([ts], pa.timestamp("us", tz="UTC"))})
    if ok:
        assert_time_grain(table, "hour")
    else:
        with pytest.raises(PrivacyError):
            assert_time_grain(table, "hour")


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("public/keyframes/cam-a/20261120T001000Z.jpg", True),
        ("keyframes/cam-a/20261120T001000Z.jpg", False),
        ("public/keyframes/../keyframes/cam-a/x.jpg", False),
        ("public/keyframes/cam-a/x.png", False),
        ("s3://bucket/public/keyframes/cam-a/x.jpg", False),
        (None, False),
    ],
)
def test_thumbnail_keys(key: str | None, ok: bool) -> None:
    assert is_public_thumbnail_key(key) is ok


def test_share_alike_licence_kept_when_polygons_are_embedded() -> None:
    import dataclasses

    inv = next(d for d in DATASETS if d.name == "camera_inventory")
    assert dataset_licence(inv).name == "CC-BY-4.0"
    with_polygons = dataclasses.replace(inv, embedded_sources=("jakarta_boundaries",))
    assert dataset_licence(with_polygons).name == "CC-BY-SA-4.0"


def test_release_keeps_every_rule(ro_lake: Lake, store: LocalObjectStore) -> None:
    """End to end on adversarial lake content: nothing private leaves, small cells are hidden."""
    # adversarial: a frame whose public_uri points at the private raw keyframe of cam-b
    result = build_release(ro_lake, store)
    rel = store.root / result.prefix
    blobs = {p.relative_to(rel).as_posix(): p.read_bytes() for p in rel.rglob("*") if p.is_file()}
    everything = b"\n".join(blobs.values())
    # no raw keyframes, subscriber ids, user hashes, stream URLs, evidence or CAP links anywhere
    for needle in (
        PRIVATE_JPEG,
        b"RAW-FACES",
        b"userhash-",
        b"example.invalid/private",
        b"s-9",
        b"keyframe_uri",
        b"alerts/cap/",
        b"flood 0.7 for 10 min",
    ):
        assert needle not in everything, needle
    assert b"keyframes/cam-" not in everything.replace(b"public/keyframes/", b"")
    # only the blurred public thumbnail of cam-a was copied; cam-b has none
    thumbs = sorted(k for k in blobs if k.startswith("thumbnails/"))
    assert thumbs == ["thumbnails/cam-a.jpg"]
    inv = pq.read_table(rel / "data" / "camera_inventory.parquet").to_pylist()
    assert {r["camera_id"]: r["thumbnail"] for r in inv} == {"cam-a": "thumbnails/cam-a.jpg", "cam-b": None}
    assert "stream_url" not in inv[0] and "zones" not in inv[0]
    # Jaki: the 3-event cell and its complements are suppressed, with a marker
    usage = pq.read_table(rel / "data" / "jaki_daily_usage" / "parquet").to_pylist()
    hidden = {(r["feature"], r["kelurahan_code"]) for r in usage if r["suppressed"]}
    assert ("report", "3172011001") in hidden and len(hidden) >= 4
    assert all((r["events"] is None and r["users"] is None) == r["suppressed"] for r in usage)
    assert all(r["events"] is None or (r["events"] >= 10 and r["users"] >= 10) for r in usage)
    # complaints: the 2-complaint cell and its dependents are hidden
    comp = pq.read_table(rel / "data" / "jaki_complaints.parquet").to_pylist()
    tiny = next(r for r in comp if r["category"] == "banjir" and r["kecamatan_code"] == "317201")
    assert tiny["suppressed"] and tiny["complaints"] is None and tiny["median_resolution_h"] is None
    # camera-level times: hours and 5-minute alert times only
    alerts = pq.read_table(rel / "data" / "alert_history.parquet").to_pylist()
    assert {r["opened_at"].minute for r in alerts} == {10} and {r["opened_at"].second for r in alerts} == {0}
    assert set(alerts[0]) >= {"alert_id", "hazard", "level", "status"} and "evidence" not in alerts[0]
    for r in pq.read_table(rel / "data" / "risk_hourly_camera" / "parquet").to_pylist():
        assert (r["hour"].minute, r["hour"].second) == (0, 0)
    # the datapackage documents the marker
    pkg = json.loads((rel / "datapackage.json").read_text())
    usage_res = next(r for r in pkg["resources"] if r["name"] == "jaki_daily_usage-csv")
    assert any(f["name"] == "suppressed" for f in usage_res["schema"]["fields"])


def test_thumbnail_from_private_key_is_refused(filled_lake: Lake, store: LocalObjectStore) -> None:
    from tests.open_data.conftest import add

    # adversarial: a row whose public_uri names the private, unblurred keyframe
    add(
        filled_lake,
        "frames",
        [
            {
                "camera_id": "cam-b",
                "captured_at": datetime(2026, 11, 21, tzinfo=UTC),
                "status": "ok",
                "keyframe_uri": "keyframes/cam-b/20261120T001000Z.jpg",
                "public_uri": "keyframes/cam-b/20261120T001000Z.jpg",
            }
        ],
    )
    import dataclasses

    inv = next(d for d in DATASETS if d.name == "camera_inventory")
    result = build_release(filled_lake, store, datasets=(dataclasses.replace(inv),))
    rel = store.root / result.prefix
    assert not (rel / "thumbnails" / "cam-b.jpg").exists()
    assert all(PRIVATE_JPEG not in p.read_bytes() for p in rel.rglob("*") if p.is_file())
