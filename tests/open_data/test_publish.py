"""``run_publish``: local folder and S3 (moto server) targets, ledger, portal, public prefix policy."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests

from open_data.publish import public_read_policy, run_publish
from tests.open_data.conftest import JPEG, PRIVATE_JPEG, T0, fill_frames
from warehouse.lake import Lake
from warehouse.object_store import LocalObjectStore, S3ObjectStore


def test_publish_local_records_ledger_and_portal(filled_lake: Lake, store: LocalObjectStore) -> None:
    from marts.risk import refresh_risk_marts

    first = run_publish(filled_lake, store)
    assert first["written"] and first["datasets"]["risk_hourly_camera"] == 6
    again = run_publish(filled_lake, store)  # nothing changed but the ledger: skipped
    assert again["unchanged"] and not again["written"] and again["previous"] == first["version"]
    fill_frames(filled_lake, hours=1, start=T0.replace(hour=5))
    refresh_risk_marts(filled_lake)
    second = run_publish(filled_lake, store)
    assert second["written"] and second["previous"] == first["version"]
    ledger = filled_lake.query(
        "SELECT version, snapshot_id, checksums_sha256, previous_version FROM releases ORDER BY snapshot_id"
    ).to_pylist()
    assert [r["version"] for r in ledger] == [first["version"], second["version"]]
    assert (
        ledger[1]["previous_version"] == first["version"] and ledger[0]["checksums_sha256"] == first["checksums_sha256"]
    )
    index = (store.root / "releases" / "index.html").read_text()
    assert first["version"] in index and second["version"] in index
    page = (store.root / "releases" / "datasets" / "risk_hourly_camera.html").read_text()
    for v in (first["version"], second["version"]):  # downloads for every version
        assert f"../{v}/data/risk_hourly_camera/parquet/2026-11.parquet" in page
    assert "Preview" in page and "flood_max" in page
    assert json.loads((store.root / "releases" / "versions.json").read_text())[-1]["version"] == second["version"]


def test_policy_covers_only_the_releases_prefix() -> None:
    policy = public_read_policy("pantau", "releases/")
    [stmt] = policy["Statement"]
    assert stmt["Action"] == ["s3:GetObject"] and stmt["Resource"] == ["arn:aws:s3:::pantau/releases/*"]


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


@pytest.mark.services
def test_publish_to_s3_public_release_private_rest(ro_lake: Lake, moto_endpoint: str) -> None:
    store = S3ObjectStore(moto_endpoint, "pantau", "AKIAIOSFODNN7EXAMPLE", "secret-key")
    store.put_bytes("public/keyframes/cam-a/20261120T001000Z.jpg", JPEG)
    store.put_bytes("keyframes/cam-a/20261120T001000Z.jpg", PRIVATE_JPEG)
    base = f"http://{moto_endpoint}/pantau/"
    summary = run_publish(ro_lake, store)
    assert summary["public_policy"] and summary["written"]
    anon = requests.get(base + summary["prefix"] + "datapackage.json", timeout=10)  # no credentials at all
    assert anon.status_code == 200 and anon.json()["version"] == summary["version"]
    assert requests.get(base + "releases/index.html", timeout=10).status_code == 200
    thumb = requests.get(base + summary["prefix"] + "thumbnails/cam-a.jpg", timeout=10)
    assert thumb.status_code == 200 and thumb.content == JPEG
    for private in ("keyframes/cam-a/20261120T001000Z.jpg", "public/keyframes/cam-a/20261120T001000Z.jpg"):
        assert requests.get(base + private, timeout=10).status_code == 403
    # moto 5.2.5 does not evaluate policies for anonymous ListObjects (it answers 200), so bucket listing is not
    # asserted here; the policy grants s3:GetObject only, which MinIO/S3 enforce for listing as well.
    # the owner still reads everything
    assert store.get_bytes("keyframes/cam-a/20261120T001000Z.jpg") == PRIVATE_JPEG
