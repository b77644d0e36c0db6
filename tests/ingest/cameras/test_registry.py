from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.cameras.registry import (
    CameraSpec,
    Shard,
    filter_ids,
    guess_kind,
    load_cameras_file,
    load_cameras_lake,
    select_shard,
    stable_hash,
    with_interval,
)

CAMS = [CameraSpec(f"cctv-{i:04d}", f"http://127.0.0.1/{i}.jpg", "snapshot") for i in range(300)]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_shards_disjoint_and_complete(n: int) -> None:
    parts = [{c.camera_id for c in select_shard(CAMS, f"{i}/{n}")} for i in range(n)]
    assert sum(len(p) for p in parts) == len(CAMS)
    assert set().union(*parts) == {c.camera_id for c in CAMS}
    if n > 1:
        assert all(len(p) > len(CAMS) / n / 2 for p in parts)  # roughly balanced


def test_hash_is_stable_across_processes() -> None:
    code = "from ingest.cameras.registry import stable_hash; print(stable_hash('cctv-0042'))"
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert int(out.stdout) == stable_hash("cctv-0042")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0/2", Shard(0, 2)), ("1/2", Shard(1, 2)), (None, Shard(0, 1)), ((2, 3), Shard(2, 3))],
)
def test_shard_parse(text, expected) -> None:
    assert Shard.parse(text) == expected


@pytest.mark.parametrize("bad", ["2/2", "-1/2", "0/0", "1", "a/b"])
def test_shard_parse_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        Shard.parse(bad)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://cctv.jakarta.go.id/live/cam1/index.m3u8", "hls"),
        ("rtsp://10.0.0.1:554/stream", "rtsp"),
        ("http://host/video.mjpg", "mjpeg"),
        ("http://host/snapshot.jpg?x=1", "snapshot"),
        ("/data/videos/cam.mp4", "file"),
    ],
)
def test_guess_kind(url: str, kind: str) -> None:
    assert guess_kind(url) == kind


def test_load_csv_and_json(tmp_path: Path) -> None:
    csv_path = tmp_path / "cams.csv"
    csv_path.write_text(
        "camera_id,name,stream_url,stream_kind,interval_s,active,lat,lon\n"
        "c1,One,http://h/1.jpg,snapshot,5,true,-6.2,106.8\n"
        "c2,Two,http://h/2.m3u8,,,1,,\n"
        "c3,Off,http://h/3.jpg,snapshot,,false,,\n"
        "c4,NoUrl,,snapshot,,true,,\n"
        "c5,BadKind,http://h/5,webrtc,,true,,\n"
    )
    cams = load_cameras_file(csv_path)
    assert [c.camera_id for c in cams] == ["c1", "c2"]
    assert cams[0].interval_s == 5.0 and cams[0].lat == -6.2
    assert cams[1].stream_kind == "hls" and cams[1].interval_s is None
    assert [c.interval_s for c in with_interval(cams, 10.0)] == [5.0, 10.0]
    assert [c.camera_id for c in filter_ids(cams, ["c2"])] == ["c2"]

    js = tmp_path / "cams.json"
    js.write_text(json.dumps({"cameras": [{"camera_id": "x", "url": "rtsp://h/s", "interval_s": 2}]}))
    (c,) = load_cameras_file(js)
    assert (c.stream_kind, c.interval_s) == ("rtsp", 2.0)


def test_duplicates_and_bad_kinds_rejected(tmp_path: Path) -> None:
    p = tmp_path / "d.json"
    p.write_text(json.dumps([{"camera_id": "a", "stream_url": "http://h/a.jpg"}] * 2))
    with pytest.raises(ValueError, match="duplicate"):
        load_cameras_file(p)
    with pytest.raises(ValueError, match="stream kind"):
        CameraSpec("a", "x", "webrtc")


def test_load_from_lake(lake) -> None:
    lake.append(
        "cameras",
        pa.table(
            {
                "camera_id": ["k1", "k2", "k3"],
                "stream_url": ["https://h/k1/index.m3u8", "", "http://h/k3.jpg"],
                "stream_kind": ["hls", "hls", None],
                "active": [True, True, True],
                "lat": [-6.1, -6.2, -6.3],
                "lon": [106.8, 106.8, 106.9],
                "kelurahan_code": ["3171010001", None, "3171010002"],
            }
        ),
    )
    cams = load_cameras_lake(lake)
    assert [(c.camera_id, c.stream_kind) for c in cams] == [("k1", "hls"), ("k3", "snapshot")]
    assert cams[0].kelurahan_code == "3171010001"
