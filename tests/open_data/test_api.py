"""The CKAN-compatible read API, driven by the real ``ckanapi`` client against a running server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import pytest
import requests

from open_data.api import ApiServer
from open_data.portal import build_portal
from open_data.release import build_release
from tests.open_data.conftest import fresh_store
from warehouse.lake import Lake


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def api(ro_lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    root = tmp_path_factory.mktemp("api")
    store = fresh_store(root)
    first = build_release(ro_lake, store, version="2026.11.20-s1")
    second = build_release(ro_lake, store, version="2026.11.21-s2")
    assert first.written and second.written
    build_portal(store)
    with ApiServer(root, free_port()) as server:
        yield server.url, root, second.version


def test_ckanapi_lists_shows_searches(api: tuple[str, Path, str]) -> None:
    url, _root, latest = api
    ckan = ckanapi.RemoteCKAN(url)
    names = ckan.action.package_list()
    assert "risk_hourly_camera" in names and "jaki_daily_usage" in names and "hospital_beds" not in names
    pkg = ckan.action.package_show(id="risk_hourly_camera")
    assert pkg["name"] == "risk_hourly_camera" and pkg["version"] == latest
    assert pkg["license_id"] == "CC-BY-4.0"
    versions = {r["release_version"] for r in pkg["resources"]}
    assert versions == {"2026.11.20-s1", latest}  # downloads of every version
    found = ckan.action.package_search(q="kelurahan")
    assert "risk_hourly_kelurahan" in {p["name"] for p in found["results"]} and found["count"] >= 1
    assert ckan.action.package_search(q="no-such-words-anywhere")["count"] == 0
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="nope")


def test_ckanapi_pages_through_a_dataset(api: tuple[str, Path, str]) -> None:
    url, _root, _latest = api
    ckan = ckanapi.RemoteCKAN(url)
    seen = []
    offset = 0
    while True:
        page = ckan.action.datastore_search(
            resource_id="risk_hourly_camera", limit=4, offset=offset, sort="hour desc, camera_id"
        )
        seen += page["records"]
        assert page["total"] == 6
        if len(page["records"]) < 4:
            break
        offset += 4
    assert len(seen) == 6
    assert [(r["hour"], r["camera_id"]) for r in seen][:2] == [
        ("2026-11-20T02:00:00Z", "cam-a"),
        ("2026-11-20T02:00:00Z", "cam-b"),
    ]
    sub = ckan.action.datastore_search(
        resource_id="risk_hourly_camera", filters={"camera_id": "cam-b"}, fields=["hour", "flood_max"], sort="hour"
    )
    assert sub["total"] == 3 and list(sub["records"][0]) == ["hour", "flood_max"]
    assert [f["id"] for f in sub["fields"]] == ["hour", "flood_max"]
    q = ckan.action.datastore_search(resource_id="camera_inventory", q="melayu")
    assert [r["camera_id"] for r in q["records"]] == ["cam-b"]
    multi = ckan.action.datastore_search(
        resource_id="risk_hourly_camera", filters={"camera_id": ["cam-a", "cam-b"]}, limit=0
    )
    assert multi["total"] == 6 and multi["records"] == []


def test_older_version_resource_is_searchable(api: tuple[str, Path, str]) -> None:
    url, _root, _ = api
    res = ckanapi.RemoteCKAN(url).action.datastore_search(resource_id="camera_inventory:2026.11.20-s1:csv")
    assert res["resource_id"] == "camera_inventory:2026.11.20-s1:parquet" and res["total"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "hour; DROP TABLE x"}, "sort"),
        ({"sort": "hour desc, (SELECT 1)"}, "sort"),
        ({"sort": "no_such_column"}, "sort"),
        ({"fields": ["hour", "1; SELECT * FROM read_csv('/etc/passwd')"]}, "fields"),
        ({"filters": {"camera_id = camera_id OR 1=1 --": "x"}}, "filters"),
        ({"filters": {"frames": "not-a-number"}}, "filters"),
        ({"filters": {"camera_id": {"$gt": 1}}}, "filters"),
        ({"filters": "[1,2"}, "filters"),
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 10**9}, "limit"),
        ({"offset": -5}, "offset"),
        ({"q": {"'; DROP": "x"}}, "q"),
    ],
)
def test_bad_parameters_give_ckan_validation_errors(api: tuple[str, Path, str], params: dict, field: str) -> None:  # type: ignore[type-arg]
    url, _root, _ = api
    r = requests.post(
        f"{url}/api/3/action/datastore_search", json={"resource_id": "risk_hourly_camera", **params}, timeout=10
    )
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["success"] is False and body["error"]["__type"] == "Validation Error" and field in body["error"]
    assert "Traceback" not in r.text and "read_parquet" not in r.text and "duckdb" not in r.text.lower()
    with pytest.raises(ckanapi.ValidationError):
        ckanapi.RemoteCKAN(url).call_action("datastore_search", {"resource_id": "risk_hourly_camera", **params})


def test_injection_in_values_is_just_data(api: tuple[str, Path, str]) -> None:
    url, _root, _ = api
    ckan = ckanapi.RemoteCKAN(url)
    for evil in ["cam-a' OR '1'='1", "%", 'cam-a"; DROP TABLE t; --']:
        res = ckan.action.datastore_search(resource_id="risk_hourly_camera", filters={"camera_id": evil})
        assert res["total"] == 0
    res = ckan.action.datastore_search(resource_id="camera_inventory", q="' OR 1=1 --")
    assert res["total"] == 0


@pytest.mark.parametrize(
    ("path", "status", "etype"),
    [
        ("/api/3/action/package_show?id=missing", 404, "Not Found Error"),
        ("/api/3/action/datastore_search?resource_id=missing", 404, "Not Found Error"),
        ("/api/3/action/datastore_search", 409, "Validation Error"),
        ("/api/3/action/resource_delete", 404, "Not Found Error"),
        ("/api/3/action/package_show", 409, "Validation Error"),
    ],
)
def test_error_shape(api: tuple[str, Path, str], path: str, status: int, etype: str) -> None:
    url, _root, _ = api
    r = requests.get(url + path, timeout=10)
    assert r.status_code == status and r.json()["error"]["__type"] == etype and r.json()["success"] is False


def test_bad_json_body(api: tuple[str, Path, str]) -> None:
    url, _root, _ = api
    r = requests.post(
        f"{url}/api/3/action/package_show", data=b"{not json", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert r.status_code == 400 and r.json()["success"] is False


def test_get_with_query_parameters_and_bulk_download(api: tuple[str, Path, str]) -> None:
    url, root, latest = api
    r = requests.get(
        f"{url}/api/3/action/datastore_search",
        params={
            "resource_id": "risk_hourly_camera",
            "filters": '{"camera_id": "cam-a"}',
            "fields": "hour,camera_id",
            "limit": "2",
        },
        timeout=10,
    )
    assert r.status_code == 200 and len(r.json()["result"]["records"]) == 2
    part = "data/risk_hourly_camera/csv/2026-11.csv"  # one file per month
    full = requests.get(f"{url}/releases/{latest}/{part}", timeout=10)
    assert full.status_code == 200 and full.content == (root / "releases" / latest / part).read_bytes()
    assert full.text.count("\n") == 7  # header + every row: no cap on bulk downloads
    portal = requests.get(url + "/", timeout=10)
    assert portal.status_code == 200 and "Pantau open data" in portal.text
