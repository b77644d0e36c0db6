"""Releases: Frictionless + DCAT validity, reproducibility, versions and changelogs, skipped datasets."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from frictionless import validate

from open_data.datasets import DATASETS, Variant
from open_data.dcat import validate_catalog
from open_data.release import ReleaseError, _sorted, build_release, list_releases, sha256
from tests.open_data.conftest import T0, fill_frames, fresh_store
from warehouse.lake import Lake
from warehouse.object_store import LocalObjectStore

ALL = {
    "camera_inventory",
    "risk_hourly_camera",
    "risk_hourly_kelurahan",
    "camera_uptime_daily",
    "alert_history",
    "jaki_daily_usage",
    "jaki_complaints",
    "parking_occupancy",
    "placement_recommendations",
}


def _with_variant(name: str, variant: Variant) -> tuple:  # type: ignore[type-arg]
    return tuple(dataclasses.replace(d, variants=(variant,)) if d.name == name else d for d in DATASETS)


def test_full_release_validates(ro_lake: Lake, store: LocalObjectStore) -> None:
    result = build_release(ro_lake, store)
    assert {d["name"] for d in result.datasets} == ALL
    assert set(result.skipped) == {"hospital_beds"} and "empty" in result.skipped["hospital_beds"]
    rel = store.root / result.prefix
    report = validate(str(rel / "datapackage.json"))
    assert report.valid, report.flatten(["resourcePath", "type", "note"])
    conforms, text = validate_catalog((rel / "catalog.ttl").read_bytes())
    assert conforms, text
    sums = dict(line.split("  ")[::-1] for line in (rel / "SHA256SUMS").read_text().splitlines())
    on_disk = {p.relative_to(rel).as_posix() for p in rel.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert set(sums) == on_disk
    for path, digest in sums.items():
        assert sha256((rel / path).read_bytes()) == digest
    pkg = json.loads((rel / "datapackage.json").read_text())
    assert pkg["licenses"][0]["name"] == "CC-BY-4.0"
    assert pkg["created"] == result.snapshot_time.strftime("%Y-%m-%dT%H:%M:%SZ")  # snapshot time, not build time
    attributions = json.dumps(pkg["sources"])
    assert "Streetside Jakarta" in attributions and "CC-BY-SA-4.0" in attributions
    assert "Streetside Jakarta" in (rel / "LICENSE.md").read_text()
    assert "hospital_beds" in (rel / "DATA_DICTIONARY.md").read_text()  # the skip note
    geo = json.loads((rel / "data" / "placement_recommendations.geojson").read_text())
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 3
    cams = json.loads((rel / "data" / "camera_inventory.geojson").read_text())
    assert [f["geometry"]["coordinates"] for f in cams["features"]] == [[106.823, -6.195], [106.866, -6.225]]


def test_same_snapshot_gives_identical_bytes(ro_lake: Lake, tmp_path: Path) -> None:
    a, b = fresh_store(tmp_path / "a"), fresh_store(tmp_path / "b")
    snap = ro_lake.snapshot_id()
    r1 = build_release(ro_lake, a, snap)
    r2 = build_release(ro_lake, b, snap)
    assert (r1.version, r1.files, r1.checksums_sha256) == (r2.version, r2.files, r2.checksums_sha256)
    for path in r1.files:
        assert (a.root / r1.prefix / path).read_bytes() == (b.root / r2.prefix / path).read_bytes()
    assert build_release(ro_lake, a, snap).files == r1.files  # rebuilding in place too


def test_schema_change_reported(ro_lake: Lake, store: LocalObjectStore) -> None:
    build_release(ro_lake, store, version="v1")
    narrow = Variant(
        ("cameras",),
        "SELECT camera_id, name, lat, lon, NULL::VARCHAR AS public_uri FROM cameras AT (VERSION => $snapshot)",
    )
    res = build_release(ro_lake, store, version="v2", datasets=_with_variant("camera_inventory", narrow))
    ch = res.changelog["camera_inventory"]
    assert ch["status"] == "changed" and "removed operator" in ch["schema_changes"]
    assert (ch["rows_added"], ch["rows_removed"]) == (
        1,
        1,
    )  # cam-a lost its thumbnail; cam-b unchanged on common columns
    assert res.changelog["risk_hourly_camera"]["status"] == "unchanged"


def test_unchanged_release_is_not_written(ro_lake: Lake, store: LocalObjectStore) -> None:
    first = build_release(ro_lake, store, version="v1")
    again = build_release(ro_lake, store, version="v2", skip_unchanged=True)
    assert again.unchanged and not again.written and again.previous == "v1"
    assert not (store.root / again.prefix).exists()
    assert [r["version"] for r in list_releases(store)] == [first.version]


@pytest.mark.parametrize(
    ("variant", "why"),
    [
        (Variant(("no_such_table",), "SELECT 1 AS a"), "missing at snapshot"),
        (
            Variant(("jaki_hospital_beds_daily",), "SELECT * FROM jaki_hospital_beds_daily AT (VERSION => $snapshot)"),
            "empty",
        ),
    ],
)
def test_missing_or_empty_sources_are_skipped(
    ro_lake: Lake, store: LocalObjectStore, variant: Variant, why: str
) -> None:
    result = build_release(ro_lake, store, datasets=_with_variant("alert_history", variant))
    assert why in result.skipped["alert_history"]
    assert "alert_history" not in {d["name"] for d in result.datasets}
    rel = store.root / result.prefix
    assert validate(str(rel / "datapackage.json")).valid
    assert "alert_history" in (rel / "DATA_DICTIONARY.md").read_text()
    assert result.changelog["alert_history"]["status"] == "skipped"


def test_jaki_usage_falls_back_to_raw_events(ro_lake: Lake, store: LocalObjectStore) -> None:
    spec = next(d for d in DATASETS if d.name == "jaki_daily_usage")
    fallback = dataclasses.replace(spec, variants=(Variant(("no_mart",), "SELECT 1"), spec.variants[1]))
    result = build_release(ro_lake, store, datasets=(fallback,))
    rows = pq.read_table(
        store.root / result.prefix / "data" / "jaki_daily_usage" / "parquet"
    ).to_pylist()  # a file a month
    assert rows == [
        {
            "day": T0.date(),
            "feature": "report",
            "kelurahan_code": "3171011001",
            "events": 40,
            "users": 12,
            "suppressed": False,
        }
    ]
    assert result.datasets[0]["source_tables"] == ["jaki_usage_events"]


def test_new_snapshot_new_version_and_changelog(filled_lake: Lake, store: LocalObjectStore) -> None:
    from marts.risk import refresh_risk_marts

    first = build_release(filled_lake, store)
    fill_frames(filled_lake, hours=1, start=T0 + timedelta(hours=3))  # one more hour of data
    refresh_risk_marts(filled_lake, T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    second = build_release(filled_lake, store)
    assert second.version != first.version and second.snapshot_id > first.snapshot_id
    assert second.previous == first.version
    cam = second.changelog["risk_hourly_camera"]
    assert (cam["status"], cam["rows_added"], cam["rows_removed"], cam["previous_rows"]) == ("changed", 2, 0, 6)
    assert second.changelog["camera_inventory"]["status"] == "unchanged"
    assert f"Compared with release {first.version}" in (store.root / second.prefix / "CHANGELOG.md").read_text()
    assert [r["version"] for r in list_releases(store)] == [first.version, second.version]
    # the first snapshot can still be released byte-identically (time travel)
    replay = build_release(filled_lake, store, first.snapshot_id, version="replay", previous=None)
    assert {k: v for k, v in replay.files.items() if k.startswith("data/")} == {
        k: v for k, v in first.files.items() if k.startswith("data/")
    }


@pytest.mark.parametrize(("version", "snapshot"), [("../x", None), ("a/b", None), ("v" * 70, None), (None, 10**9)])
def test_bad_version_or_snapshot_refused(
    ro_lake: Lake, store: LocalObjectStore, version: str | None, snapshot: int | None
) -> None:
    with pytest.raises(ReleaseError):
        build_release(ro_lake, store, snapshot, version)


UTC_TS = pa.timestamp("us", tz="UTC")
SORT_CASES = [
    # (rows as column -> values, leading sort columns); each row order is compared with DuckDB's ORDER BY
    ({"k": ["b", None, "a", "é", "B", "ab"], "x": [1.5, 2.0, None, 0.1, 3.0, 1.0]}, ("k",)),
    ({"d": [date(2026, 1, 2), None, date(2025, 12, 31)], "n": [3, 1, 2]}, ()),
    (
        {
            "t": [datetime(2026, 1, 1, h % 3, tzinfo=UTC) for h in range(9)] + [None],
            "cam": [f"cam-{h // 3}" for h in range(9)] + ["cam-0"],
            "v": [float(h) for h in range(10)],
        },
        ("cam", "t"),
    ),
    ({"k": ["a", "a", "b", None, None], "v": [2, 1, 0, 5, 4]}, ("k",)),  # ties on the leading column
    ({"f": [0.5, float("nan"), None, -1.0], "s": ["x", "y", "z", "w"]}, ("f",)),  # a float key
    ({"i": [3, -2, 7, None], "s": ["c", "a", "b", "d"]}, ()),
]


@pytest.mark.parametrize(("columns", "leading"), SORT_CASES)
def test_release_order_equals_duckdb_order_by_every_column(
    columns: dict[str, list[object]], leading: tuple[str, ...]
) -> None:
    table = pa.table(columns)
    for n in (0, 1, table.num_rows):  # every prefix of the rows, shuffled
        part = table.slice(0, n)
        part = part.take(pa.array(list(reversed(range(n))), pa.int64()))
        names = part.column_names
        keys = [c for c in leading if c in names] + [c for c in names if c not in leading]
        con = duckdb.connect()
        con.register("_t", part)
        expected = con.execute("SELECT * FROM _t ORDER BY " + ", ".join(f'"{c}"' for c in keys)).to_arrow_table()
        con.close()
        got = _sorted(part, leading)
        assert got.to_pylist() == expected.cast(got.schema).to_pylist() or _same_with_nan(got, expected)


def _same_with_nan(got: pa.Table, expected: pa.Table) -> bool:
    """Row lists equal, NaN equal to NaN."""

    def norm(v: object) -> object:
        return "nan" if isinstance(v, float) and v != v else v

    return [{k: norm(v) for k, v in r.items()} for r in got.to_pylist()] == [
        {k: norm(v) for k, v in r.items()} for r in expected.to_pylist()
    ]
