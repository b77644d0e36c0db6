"""Registry import: the 1,289 shipped CCTV sites plus 100 new rows (20 malformed) land exactly the valid rows,
every rejected row is reported with its reason, a failing write leaves nothing behind; GeoJSON and YAML too."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ingest.reference import loaders as L
from ingest.reference.pipeline import write_cameras
from ingest.registry import ops, sources, store

SITES = L.DATA_DIR / "cctv" / "jakarta_cctv_map_sites.csv"
# the shipped directory lists three cameras twice (same place, same name, two ids): the second entry is refused
REAL_DUPLICATES = {"streetside-10", "streetside-394", "streetside-2038"}


@pytest.fixture(scope="module")
def kel_table() -> pa.Table:
    return L.load_kelurahan().table


@pytest.fixture
def reg_lake(lake: Any, kel_table: pa.Table) -> Any:
    lake.replace("kelurahan", kel_table)
    return lake


def _new_rows(kel_table: pa.Table) -> tuple[list[dict[str, str]], dict[str, str]]:
    """80 valid new cameras at kelurahan representative points, and 20 malformed ones (id -> expected reason)."""
    kel = [r for r in kel_table.to_pylist() if r["centroid_lat"] is not None][:80]
    rows = [
        {"site_id": f"new-{i:03d}", "name": f"Kamera baru {i}", "lat": str(k["centroid_lat"]),
         "lng": str(k["centroid_lon"]), "first_channel_url": f"https://cams.example.go.id/new-{i:03d}/index.m3u8",
         "agency": "Diskominfotik"}
        for i, k in enumerate(kel)
    ]  # fmt: skip
    ok = rows[0]
    bad: list[tuple[dict[str, str], str]] = [
        ({**ok, "site_id": "bad-outside", "lat": "-7.25", "lng": "112.75"}, "outside Jakarta"),
        ({**ok, "site_id": "bad-sea", "lat": "-5.9", "lng": "106.9"}, "outside Jakarta"),
        ({**ok, "site_id": "bad-lat", "lat": "minus six"}, "not numbers"),
        ({**ok, "site_id": "bad-nolat", "lat": ""}, "lat/lon missing"),
        ({**ok, "site_id": "bad-range", "lat": "-96.2"}, "out of range"),
        ({**ok, "site_id": "bad-ftp", "first_channel_url": "ftp://cams.example/x.m3u8"}, "scheme 'ftp'"),
        ({**ok, "site_id": "bad-noscheme", "first_channel_url": "cams.example/x.m3u8"}, "scheme"),
        ({**ok, "site_id": "bad-js", "first_channel_url": "javascript:alert(1)"}, "scheme 'javascript'"),
        ({**ok, "site_id": "bad-nohost", "first_channel_url": "http:///x.m3u8"}, "no host"),
        ({**ok, "site_id": "bad-nourl", "first_channel_url": ""}, "needs a stream_url"),
        ({**ok, "site_id": "", "name": "no id"}, "camera_id missing"),
        ({**ok, "site_id": "bad id with spaces"}, "characters outside"),
        ({**ok, "site_id": "new-001"}, "duplicate camera_id"),
        ({**ok, "site_id": "new-002"}, "duplicate camera_id"),
        ({**ok, "site_id": "bad-dup-pos", "name": "Kamera baru 0"}, "duplicate position"),
        ({**ok, "site_id": "bad-status", "status": "broken"}, "status 'broken'"),
        ({**ok, "site_id": "bad-kind", "kind": "rtsp"}, "does not match"),
        ({**ok, "site_id": "bad-kind2", "kind": "webrtc"}, "stream_kind 'webrtc'"),
        ({**ok, "site_id": "bad-radius", "view_radius_m": "-5"}, "view_radius_m"),
        ({**ok, "site_id": "bad-existing", "lat": "-6.273009784", "lng": "106.8572427", "name": "Bale Kambang 001",
          "first_channel_url": "https://streetside.mugnimaestra.dev/camera/1377"}, "duplicate position"),
    ]  # fmt: skip
    expected = {}
    for i, (r, reason) in enumerate(bad):
        expected[r["site_id"] or f"<row {i}>"] = reason
        rows.append(r)
    return rows, expected


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow(r)


@pytest.mark.slow
def test_import_lands_exactly_the_valid_rows_and_reports_each_rejected_row(
    reg_lake: Any, kel_table: pa.Table, tmp_path: Path
) -> None:
    with SITES.open(newline="", encoding="utf-8") as fh:
        sites = list(csv.DictReader(fh))
    new, expected_bad = _new_rows(kel_table)
    path = tmp_path / "cameras.csv"
    _write_csv(path, sites + new)
    rows, first = sources.read_rows(path)
    assert len(rows) == 1289 + 100
    res = ops.import_cameras(reg_lake, rows, actor="importer", source=path.name, first_row_number=first)

    rejected = {r.camera_id or f"row {r.row_number}": r for r in res.rejected}
    assert set(res.added) == ({s["site_id"] for s in sites} - REAL_DUPLICATES) | {f"new-{i:03d}" for i in range(80)}
    assert len(res.added) == 1289 - 3 + 80
    assert len(res.rejected) == 3 + 20
    for cid in REAL_DUPLICATES:
        assert "duplicate position" in "; ".join(rejected[cid].reasons)
    for cid, reason in expected_bad.items():
        if cid.startswith("<row"):
            continue
        hits = [r for r in res.rejected if r.camera_id == cid]
        assert hits, cid
        assert any(reason in "; ".join(h.reasons) for h in hits), (cid, [h.reasons for h in hits])
    no_id = [r for r in res.rejected if not r.camera_id]
    assert len(no_id) == 1 and "camera_id missing" in no_id[0].reasons
    # row numbers are file lines (header = line 1)
    assert rejected["streetside-10"].row_number == 1 + 1 + [s["site_id"] for s in sites].index("streetside-10")

    cams = store.current_cameras(reg_lake)
    assert len(cams) == 1289 - 3 + 80
    assert all(c["status"] == "installed" and c["version"] == 1 for c in cams.values())
    assert cams["new-000"]["kelurahan_code"] == kel_table.to_pylist()[0]["kode_kelurahan"]  # derived, not given
    assert cams["new-000"]["stream_kind"] == "hls" and cams["streetside-1377"]["stream_kind"] == "viewer"
    assert reg_lake.scalar("SELECT count(*) FROM camera_registry_changes") == len(cams)
    assert reg_lake.scalar("SELECT count(*) FROM camera_import_rejects WHERE batch_id = ?", [res.batch_id]) == 23
    assert reg_lake.scalar("SELECT count(*) FROM camera_versions WHERE valid_to IS NULL") == len(cams)

    again = ops.import_cameras(reg_lake, rows, actor="importer", source=path.name, first_row_number=first)
    assert again.added == [] and len(again.unchanged) == len(cams) and len(again.rejected) == 23
    assert store.registry_version(reg_lake) == len(cams)  # an identical re-import changes nothing


def test_failing_write_leaves_nothing_half_written(reg_lake: Any, kel_table: pa.Table) -> None:
    new, _ = _new_rows(kel_table)
    first = ops.import_cameras(reg_lake, new[:5], actor="a", source="one.csv")
    assert len(first.added) == 5
    reg_lake.execute("DROP TABLE camera_versions")  # the third statement of the batch now fails
    with pytest.raises(Exception, match="camera_versions"):
        ops.import_cameras(reg_lake, new[5:40], actor="a", source="two.csv")
    assert sorted(store.current_cameras(reg_lake)) == sorted(first.added)
    assert store.registry_version(reg_lake) == 5
    assert reg_lake.scalar("SELECT count(*) FROM camera_import_rejects") == 0


def test_update_flag_edits_existing_cameras_and_dry_run_writes_nothing(reg_lake: Any, kel_table: pa.Table) -> None:
    new, _ = _new_rows(kel_table)
    ops.import_cameras(reg_lake, new[:3], actor="a")
    moved = [{**new[0], "name": "Renamed"}]
    refused = ops.import_cameras(reg_lake, moved, actor="a")
    assert refused.rejected and "already in the registry" in refused.rejected[0].reasons[0]
    dry = ops.import_cameras(reg_lake, moved, actor="a", update=True, dry_run=True)
    assert dry.updated == ["new-000"] and store.get_camera(reg_lake, "new-000")["name"] == "Kamera baru 0"
    done = ops.import_cameras(reg_lake, moved, actor="b", update=True)
    assert done.updated == ["new-000"]
    cam = store.get_camera(reg_lake, "new-000")
    assert cam["name"] == "Renamed" and cam["version"] == 2 and cam["updated_by"] == "b"
    hist = store.history(reg_lake, "new-000")
    assert [h["action"] for h in hist] == ["import", "import"] and hist[1]["fields"] == {
        "name": ["Kamera baru 0", "Renamed"]
    }


def test_geojson_and_yaml_sources_with_bad_entries(reg_lake: Any, tmp_path: Path) -> None:
    gj = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.8272, -6.1754]},
             "properties": {"camera_id": "monas-1", "name": "Monas", "stream_url": "http://cams.example/monas.jpg"}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[106.8, -6.2], [106.81, -6.2]]},
             "properties": {"camera_id": "line-1", "stream_url": "http://cams.example/l.jpg"}},
            {"type": "Feature", "id": "ancol-1", "geometry": {"type": "Point", "coordinates": [106.8416, -6.1261]},
             "properties": {"stream_url": "rtsp://cams.example/ancol", "status": "installed"}},
        ],
    }  # fmt: skip
    p = tmp_path / "cams.geojson"
    p.write_text(json.dumps(gj))
    rows, first = sources.read_rows(p)
    res = ops.import_cameras(reg_lake, rows, actor="gis", source=p.name, first_row_number=first)
    assert sorted(res.added) == ["ancol-1", "monas-1"]
    assert [(r.row_number, r.camera_id) for r in res.rejected] == [(2, "line-1")]
    assert "not a Point" in res.rejected[0].reasons[0]
    assert store.get_camera(reg_lake, "monas-1")["stream_kind"] == "snapshot"
    assert store.get_camera(reg_lake, "ancol-1")["kelurahan"] == "Ancol"

    y = tmp_path / "cams.yaml"
    y.write_text(
        "cameras:\n"
        "  - {camera_id: taman-1, name: Taman Suropati, lat: -6.1993, lon: 106.8325, status: planned}\n"
        "  - just a string\n"
        "  - {camera_id: taman-2, lat: -6.2, lon: 106.83, stream_url: 'http://cams.example/t2/mjpeg'}\n"
    )
    rows, first = sources.read_rows(y)
    res = ops.import_cameras(reg_lake, rows, actor="gis", source=y.name, first_row_number=first)
    assert sorted(res.added) == ["taman-1", "taman-2"]
    assert [(r.row_number, r.reasons[0]) for r in res.rejected] == [(2, "entry is not a mapping")]
    assert store.get_camera(reg_lake, "taman-1")["status"] == "planned"
    assert store.get_camera(reg_lake, "taman-2")["stream_kind"] == "mjpeg"


def test_history_answers_live_cameras_on_a_date(reg_lake: Any, kel_table: pa.Table) -> None:
    new, _ = _new_rows(kel_table)
    d1 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 10:00 WIB
    ops.import_cameras(reg_lake, new[:3], actor="a", now=d1)
    ops.edit_camera(reg_lake, "new-001", {"name": "Dipindah", "lat": new[5]["lat"], "lon": new[5]["lng"]},
                    actor="b", now=d1 + timedelta(days=2))  # fmt: skip
    ops.retire_camera(reg_lake, "new-000", actor="c", reason="tiang roboh", now=d1 + timedelta(days=4))

    def live(d: date) -> list[str]:
        return [r["camera_id"] for r in store.live_on(reg_lake, d)]

    assert live(date(2026, 11, 1)) == []
    assert live(date(2026, 11, 2)) == ["new-000", "new-001", "new-002"]
    assert live(date(2026, 11, 6)) == ["new-000", "new-001", "new-002"]  # retired during that day
    assert live(date(2026, 11, 7)) == ["new-001", "new-002"]
    then = {r["camera_id"]: r for r in store.cameras_as_of(reg_lake, d1 + timedelta(days=1))}
    assert then["new-001"]["name"] == "Kamera baru 1" and then["new-000"]["status"] == "installed"
    now = store.current_cameras(reg_lake)
    assert (
        now["new-001"]["name"] == "Dipindah"
        and now["new-001"]["kelurahan_code"] == kel_table.to_pylist()[5]["kode_kelurahan"]
    )
    assert now["new-000"]["status"] == "retired" and now["new-000"]["active"] is False
    hist = store.history(reg_lake, "new-000")
    assert [(h["action"], h["actor"], h["note"]) for h in hist] == [
        ("import", "a", None),
        ("retire", "c", "tiang roboh"),
    ]


def test_plan_loop_planned_then_installed_and_counts(reg_lake: Any, kel_table: pa.Table) -> None:
    k = kel_table.to_pylist()[10]
    reg_lake.append(
        "placement_candidates",
        pa.Table.from_pylist([
            {"rank": 1, "site_id": "site-a", "lat": k["centroid_lat"], "lon": k["centroid_lon"],
             "nama_kelurahan": k["nama_kelurahan"], "gain_total": 0.01, "run_id": "r1"},
            {"rank": 2, "site_id": "site-b", "lat": -5.5, "lon": 106.5, "nama_kelurahan": None, "gain_total": 0.005,
             "run_id": "r1"},
        ]),
    )  # fmt: skip
    with pytest.raises(ops.RegistryError, match="not in the latest plan"):
        ops.accept_plan(reg_lake, actor="planner", site_ids=["site-z"])
    res = ops.accept_plan(reg_lake, actor="planner", top=2)
    assert res.added == ["plan-site-a"]
    assert res.rejected and "outside Jakarta" in res.rejected[0].reasons[0]
    assert store.status_counts(reg_lake) == {"planned": 1}
    assert store.live_on(reg_lake, datetime.now(store.WIB).date()) == []
    from ingest.cameras.registry import load_cameras_lake

    assert load_cameras_lake(reg_lake) == []  # a planned camera is not captured
    with pytest.raises(ops.RegistryError, match="needs a stream_url"):
        ops.edit_camera(reg_lake, "plan-site-a", {"status": "installed"}, actor="field")
    ch = ops.install_camera(reg_lake, "plan-site-a", stream_url="http://cams.example/a.jpg", actor="field")
    assert ch.action == "install" and ch.fields["status"] == ["planned", "installed"]
    assert store.status_counts(reg_lake) == {"installed": 1}
    assert [c.camera_id for c in load_cameras_lake(reg_lake)] == ["plan-site-a"]
    assert [r["camera_id"] for r in store.live_on(reg_lake, datetime.now(store.WIB).date())] == ["plan-site-a"]


def test_reference_seed_and_reload_keep_registry_changes(reg_lake: Any) -> None:
    ref = pa.Table.from_pylist([
        {"camera_id": "r1", "name": "R1", "stream_url": "http://cams.example/r1.m3u8", "stream_kind": "hls",
         "lat": -6.2, "lon": 106.82, "active": True},
        {"camera_id": "r2", "name": "R2", "stream_url": "https://viewer.example/camera/2", "stream_kind": "viewer",
         "lat": -6.21, "lon": 106.83, "active": True},
    ])  # fmt: skip
    assert write_cameras(reg_lake, ref) == 2
    assert {c["camera_id"]: c["status"] for c in store.current_cameras(reg_lake).values()} == {
        "r1": "installed",
        "r2": "installed",
    }
    ops.retire_camera(reg_lake, "r1", actor="ops")
    more = pa.concat_tables([ref, pa.Table.from_pylist([{**ref.to_pylist()[0], "camera_id": "r3", "lat": -6.22}])])
    assert write_cameras(reg_lake, more) == 1  # only the new site is seeded; r1 stays retired
    cams = store.current_cameras(reg_lake)
    assert cams["r1"]["status"] == "retired" and cams["r3"]["version"] == 1
    assert [h["action"] for h in store.history(reg_lake, "r1")] == ["seed", "retire"]
