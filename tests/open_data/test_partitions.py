"""Partitioned datasets: incremental releases equal full rebuilds; the API's pruned searches equal plain scans."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from open_data.api import ApiServer
from open_data.datasets import DATASETS_BY_NAME
from open_data.release import build_release
from tests.open_data.conftest import make_lake
from warehouse.lake import Lake
from warehouse.object_store import LocalObjectStore, S3ObjectStore

SPEC = DATASETS_BY_NAME["risk_hourly_camera"]
# 6 cameras every 7 hours from 25 September to 4 November 2026: three monthly partitions; cam-5 has no
# kelurahan and two rows have no hour (a partition of their own)
FILL = """
INSERT INTO risk_hourly_camera BY NAME
SELECT TIMESTAMPTZ '2026-09-25 00:00:00+00' + to_hours(h * 7) AS hour, 'cam-' || c AS camera_id,
       CASE WHEN c = 5 THEN NULL ELSE '317101100' || (c % 3) END AS kelurahan_code,
       360 AS frames, 350 - c AS frames_ok, (350 - c) / 360 AS uptime, ((h * 7 + c) % 100) / 100.0 AS fire_max,
       0.1 AS smoke_max, ((h * 13 + c * 5) % 100) / 100.0 AS flood_max, 0.2 AS crowd_max, (h + c) % 9 AS persons_max,
       1.5 AS persons_mean, ['Normal', 'Waspada', 'Siaga', 'Awas'][1 + (h + c) % 4] AS risk_level_max,
       h % 3 AS motion_events, 0 AS fire_frames, 0 AS smoke_frames, (h + c) % 2 AS flood_frames
FROM range(0, ?) t(h), range(6) u(c)
"""
NULL_HOURS = """
INSERT INTO risk_hourly_camera BY NAME
SELECT NULL::TIMESTAMPTZ AS hour, 'cam-' || c AS camera_id, '3171011000' AS kelurahan_code, 1 AS frames,
       1 AS frames_ok, 1.0 AS uptime, 0.5 AS flood_max, 'Normal' AS risk_level_max
FROM range(2) u(c)
"""
HOURS = 141  # 25 Sep 00:00 .. 4 Nov 20:00 in steps of 7 hours


def _fill(lake: Lake, hours: int) -> None:
    lake.write(lambda cur: (cur.execute(FILL, [hours]), cur.execute(NULL_HOURS)))


def _data_digests(files: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if k.startswith("data/")}


def test_day_added_reuses_partitions_and_equals_a_full_rebuild(tmp_path: Path) -> None:
    lake = make_lake(tmp_path / "lake")
    try:
        _fill(lake, HOURS)
        store = LocalObjectStore(tmp_path / "store")
        v1 = build_release(lake, store, version="v1", datasets=(SPEC,))
        assert (v1.partitions_built, v1.partitions_reused) == (4, 0)  # 2026-09, 2026-10, 2026-11, none
        assert v1.partitions_checked == 4
        parts = v1.datasets[0]["partitions"]
        assert [p["key"] for p in parts] == ["2026-09", "2026-10", "2026-11", "none"]
        assert sum(p["rows"] for p in parts) == v1.datasets[0]["rows"] == HOURS * 6 + 2

        # a day later: four more time steps, all in November
        lake.write(lambda cur: cur.execute(FILL.replace("range(0, ?)", "range(?, ?)"), [HOURS, HOURS + 4]))
        v2 = build_release(lake, store, version="v2", datasets=(SPEC,))
        assert (v2.partitions_built, v2.partitions_reused) == (1, 3)
        assert v2.partitions_checked == 1  # only November's rows were scanned: the new lake file holds only them
        change = v2.changelog["risk_hourly_camera"]
        assert (change["status"], change["rows_added"], change["rows_removed"]) == ("changed", 24, 0)
        rel1, rel2 = store.root / "releases" / "v1", store.root / "releases" / "v2"
        for fmt in ("csv", "parquet"):  # reused partitions are links to the same bytes
            same = f"data/risk_hourly_camera/{fmt}/2026-10.{fmt}"
            assert os.stat(rel1 / same).st_ino == os.stat(rel2 / same).st_ino
            new = f"data/risk_hourly_camera/{fmt}/2026-11.{fmt}"
            assert (rel1 / new).read_bytes() != (rel2 / new).read_bytes()

        # the same snapshot released from scratch gives the same bytes, counts included
        scratch = build_release(
            lake, LocalObjectStore(tmp_path / "scratch"), version="v2", previous=None, datasets=(SPEC,)
        )
        assert (scratch.partitions_built, scratch.partitions_reused) == (4, 0)
        assert _data_digests(scratch.files) == _data_digests(v2.files)
        assert len(_data_digests(v2.files)) == 4 * 2 + 1

        # an edited row in September: only that partition is rebuilt, and the changelog sees the edit
        lake.execute(
            "UPDATE risk_hourly_camera SET flood_max = 0.999 WHERE camera_id = 'cam-1' "
            "AND hour = TIMESTAMPTZ '2026-09-25 07:00:00+00'"
        )
        v3 = build_release(lake, store, version="v3", datasets=(SPEC,))
        assert (v3.partitions_built, v3.partitions_reused) == (1, 3)
        assert v3.partitions_checked >= 1  # every partition of the rewritten lake file is scanned again
        change = v3.changelog["risk_hourly_camera"]
        assert (change["rows_added"], change["rows_removed"]) == (1, 1)
        again = build_release(lake, LocalObjectStore(tmp_path / "again"), version="v3", previous=None, datasets=(SPEC,))
        assert _data_digests(again.files) == _data_digests(v3.files)
        # nothing changed since: nothing is written
        v4 = build_release(lake, store, version="v4", datasets=(SPEC,), skip_unchanged=True)
        assert v4.unchanged and not v4.written and v4.partitions_reused == 4
        assert v4.partitions_checked == 0  # no lake file changed: nothing to scan
        assert not (store.root / "releases" / "v4").exists()
    finally:
        lake.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    root = tmp_path_factory.mktemp("parts")
    lake = make_lake(root / "lake")
    try:
        _fill(lake, HOURS)
        store = LocalObjectStore(root / "store")
        rel = build_release(lake, store, version="p1", datasets=(SPEC,))
    finally:
        lake.close()
    files = [str(store.root / rel.prefix / p) for p in rel.datasets[0]["files"]["parquet"]["parts"]]
    with ApiServer(store.root, _free_port()) as server:
        yield server.url, files


FIRST = 6 * 21  # rows of the September partition: 21 time steps of 6 cameras
ALL = "hour, camera_id, kelurahan_code, flood_max, risk_level_max"
# (API parameters, WHERE, ORDER BY, fields) for the reference query over every partition
CASES: list[tuple[dict[str, Any], str, str, str]] = [
    ({"limit": 5}, "", "", "*"),
    ({"limit": 5, "offset": FIRST - 2}, "", "", "*"),  # a page across the first partition boundary
    ({"limit": 7, "offset": 6 * HOURS - 3}, "", "", "*"),  # into the NULL-hour partition
    ({"limit": 5, "offset": 6 * HOURS + 5}, "", "", "*"),  # past the end
    ({"limit": 6, "sort": "hour desc, camera_id"}, "", "hour DESC, camera_id", ALL),
    ({"limit": 6, "offset": 400, "sort": "hour desc, camera_id"}, "", "hour DESC, camera_id", ALL),
    ({"limit": 9, "offset": 6 * HOURS - 4, "sort": "hour desc, camera_id"}, "", "hour DESC, camera_id", ALL),
    ({"limit": 6, "offset": FIRST - 3, "sort": "hour, camera_id desc"}, "", "hour, camera_id DESC", ALL),
    ({"filters": {"camera_id": "cam-3"}, "limit": 4, "offset": 20}, "camera_id = 'cam-3'", "", "*"),
    (
        {"filters": {"camera_id": ["cam-1", "cam-4"]}, "limit": 5, "offset": 40, "sort": "hour, camera_id"},
        "camera_id IN ('cam-1', 'cam-4')",
        "hour, camera_id",
        "*",
    ),
    ({"filters": {"kelurahan_code": None}, "limit": 3, "offset": 30}, "kelurahan_code IS NULL", "", "*"),
    (
        {"filters": {"camera_id": "cam-2", "risk_level_max": "Siaga"}, "limit": 50},
        "camera_id = 'cam-2' AND risk_level_max = 'Siaga'",
        "",
        "*",
    ),
    ({"filters": {"camera_id": "cam-none"}}, "camera_id = 'cam-none'", "", "*"),
    ({"filters": {"frames_ok": 348}, "limit": 3, "offset": 100}, "frames_ok = 348", "", "*"),
    (
        {"filters": {"risk_level_max": ["Siaga", "Awas"]}, "fields": ["hour", "flood_max"], "limit": 4, "offset": 99},
        "risk_level_max IN ('Siaga', 'Awas')",
        "",
        "hour, flood_max",
    ),
    (
        {"q": "cam-3", "limit": 5, "sort": "flood_max desc, hour, camera_id"},
        "camera_id ILIKE '%cam-3%' OR kelurahan_code ILIKE '%cam-3%' OR risk_level_max ILIKE '%cam-3%'",
        "flood_max DESC, hour, camera_id",
        ALL,
    ),
    (
        {"q": "1100", "limit": 5, "offset": 10},
        "camera_id ILIKE '%1100%' OR kelurahan_code ILIKE '%1100%' OR risk_level_max ILIKE '%1100%'",
        "",
        "*",
    ),
    ({"q": "zzz"}, "camera_id ILIKE '%zzz%' OR kelurahan_code ILIKE '%zzz%' OR risk_level_max ILIKE '%zzz%'", "", "*"),
    ({"q": {"camera_id": "m-1"}, "limit": 3, "offset": 2}, "camera_id ILIKE '%m-1%'", "", "*"),
    ({"limit": 0, "filters": {"camera_id": "cam-0"}}, "camera_id = 'cam-0'", "", "*"),
    # filters on the partition column read only the partitions of their values
    ({"filters": {"hour": "2026-10-03T04:00:00Z"}}, "hour = TIMESTAMPTZ '2026-10-03 04:00:00+00'", "", "*"),
    (
        {"filters": {"hour": ["2026-09-30T20:00:00", "2026-10-01T03:00:00+00:00", None]}, "sort": "hour, camera_id"},
        "hour IN (TIMESTAMPTZ '2026-09-30 20:00:00+00', TIMESTAMPTZ '2026-10-01 03:00:00+00') OR hour IS NULL",
        "hour, camera_id",
        ALL,
    ),
    (  # 1 October 03:00 in Jakarta is still September in UTC: the row is in the September partition
        {"filters": {"hour": "2026-10-01T03:00:00+07:00", "camera_id": "cam-1"}},
        "hour = TIMESTAMPTZ '2026-09-30 20:00:00+00' AND camera_id = 'cam-1'",
        "",
        "*",
    ),
]


@pytest.mark.parametrize(("params", "where", "order", "fields"), CASES)
def test_search_over_partitions_equals_a_plain_scan(
    served: tuple[str, list[str]], params: dict[str, Any], where: str, order: str, fields: str
) -> None:
    url, files = served
    r = requests.post(f"{url}/api/3/action/datastore_search", json={"resource_id": "risk_hourly_camera", **params})
    assert r.status_code == 200, r.text
    got = r.json()["result"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    w = f" WHERE {where}" if where else ""
    o = f" ORDER BY {order}" if order else ""
    total = con.execute(f"SELECT count(*) FROM read_parquet(?){w}", [files]).fetchone()
    assert got["total"] == (total[0] if total else None)
    assert got["total"] > 0 or "none" in json.dumps(params) or "zzz" in json.dumps(params)  # cases that match rows
    expected = con.execute(
        f"SELECT * FROM read_parquet(?){w}{o} LIMIT ? OFFSET ?",
        [files, params.get("limit", 100), params.get("offset", 0)],
    ).to_arrow_table()
    keep = list(params["fields"]) if "fields" in params else None
    rows = [
        {k: v.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(v, "strftime") else v for k, v in rec.items()}
        for rec in expected.to_pylist()
    ]
    if keep:
        rows = [{k: rec[k] for k in keep} for rec in rows]
    if order:  # compare the columns that make the order total
        cols = [c.strip() for c in fields.split(",")] if fields != "*" else list(rows[0]) if rows else []
        got_rows = [{k: rec[k] for k in cols} for rec in got["records"]]
        rows = [{k: rec[k] for k in cols} for rec in rows]
    else:
        got_rows = got["records"]
    assert got_rows == rows
    con.close()


@pytest.mark.services
def test_partitioned_release_and_search_on_s3(s3_server: dict[str, str], s3_bucket: str, tmp_path: Path) -> None:
    """On S3 a reused partition is a server-side copy, and the API fetches and checks every part it queries."""
    store = S3ObjectStore(
        s3_server["endpoint"], s3_bucket, s3_server["access_key"], s3_server["secret_key"], prefix="od"
    )
    lake = make_lake(tmp_path / "lake")
    try:
        _fill(lake, HOURS)
        v1 = build_release(lake, store, version="v1", datasets=(SPEC,))
        lake.write(lambda cur: cur.execute(FILL.replace("range(0, ?)", "range(?, ?)"), [HOURS, HOURS + 4]))
        v2 = build_release(lake, store, version="v2", datasets=(SPEC,))
    finally:
        lake.close()
    assert (v2.partitions_built, v2.partitions_reused) == (1, 3)
    key = "data/risk_hourly_camera/parquet/2026-10.parquet"
    assert store.get_bytes(f"releases/v2/{key}") == store.get_bytes(f"releases/v1/{key}")
    assert v1.files[key] == v2.files[key]
    with ApiServer(store, _free_port()) as server, requests.Session() as http:
        url = f"{server.url}/api/3/action/datastore_search"
        r = http.post(url, json={"resource_id": "risk_hourly_camera", "filters": {"camera_id": "cam-2"}, "limit": 2})
        assert r.status_code == 200, r.text
        assert r.json()["result"]["total"] == HOURS + 4
        r = http.post(url, json={"resource_id": "risk_hourly_camera:v1:parquet", "sort": "hour desc", "limit": 1})
        assert r.json()["result"]["total"] == HOURS * 6 + 2
        assert r.json()["result"]["records"][0]["hour"] == "2026-11-04T20:00:00Z"
