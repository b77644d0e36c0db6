"""The open-data API and portal as an attacker sends requests: fuzzed parameters, oversized and
malformed requests, path traversal, floods. Real uvicorn server on loopback, real HTTP.

The hypothesis fuzz covers every action's parameters (known names with hostile values, unknown
names, GET and POST): no answer is a 500 or carries a trace, and no client text reaches DuckDB as
SQL (every statement run is recorded: quoted identifiers must be the resource's columns, and no
fuzzed string appears in the SQL text).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from open_data.api import ACTIONS, MAX_LIMIT, PARAMS, ApiServer
from open_data.hardening import RateLimiter

VERSION = "2026.12.01-s7"
COLUMNS = ["kelurahan_code", "hour", "risk", "level", "persons"]
SECRET = "ops-db-must-never-be-served-" + "x" * 8
HOSTILE = [
    "'; DROP TABLE x; --",
    '" OR 1=1 --',
    "risk\"; SELECT * FROM read_csv('/etc/passwd') --",
    "../../../../etc/passwd",
    "..%2f..%2fops.sqlite",
    "%00",
    "\x00",
    "\ud800",
    "kelurahan_code asc, (SELECT 1)",
    '{"kelurahan_code": {"$ne": 1}}',
    "[" * 5000,
    "9" * 5000,
    "NaN",
    "é" * 2000,
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _release(root: Path) -> None:
    """A release as ``open_data.release`` writes one: manifest, datapackage and a Parquet file."""
    rel = root / "releases" / VERSION
    (rel / "data").mkdir(parents=True)
    table = pa.table(
        {
            "kelurahan_code": [f"31.71.0{i % 9}.100{i % 7}" for i in range(300)],
            "hour": pa.array(
                [1_764_547_200_000_000 + i * 3_600_000_000 for i in range(300)], pa.timestamp("us", "UTC")
            ),
            "risk": [i / 300 for i in range(300)],
            "level": [("Normal", "Waspada", "Siaga", "Awas")[i % 4] for i in range(300)],
            "persons": list(range(300)),
        }
    )
    pq.write_table(table, rel / "data" / "risk.parquet")
    raw = (rel / "data" / "risk.parquet").read_bytes()
    files = {"parquet": {"path": "data/risk.parquet", "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}}
    ds = {
        "name": "risk_hourly_kelurahan",
        "title": "Risk per kelurahan per hour",
        "rows": 300,
        "schema": [
            ["kelurahan_code", "string"],
            ["hour", "datetime"],
            ["risk", "number"],
            ["level", "string"],
            ["persons", "integer"],
        ],
        "files": files,
    }
    (rel / "release.json").write_text(
        json.dumps({"version": VERSION, "snapshot_id": 7, "snapshot_time": "2026-12-01T00:00:00Z", "datasets": [ds]})
    )
    (rel / "datapackage.json").write_text(
        json.dumps(
            {
                "resources": [
                    {
                        "name": "risk_hourly_kelurahan-csv",
                        "description": "d",
                        "licenses": [{"name": "CC-BY-4.0", "title": "CC BY 4.0"}],
                    }
                ]
            }
        )
    )
    (root / "releases" / "index.html").write_text("<!doctype html><title>portal</title>")
    (root / "ops.sqlite").write_text(SECRET)  # beside releases/: must never be reachable
    (root / "releases" / "escape").symlink_to(root / "ops.sqlite")


class RecordingCursor:
    def __init__(self, cur: Any, log: list[str]) -> None:
        self._cur, self._log = cur, log

    def execute(self, sql: str, params: Any = None) -> RecordingCursor:
        self._log.append(sql)
        self._cur.execute(sql, params) if params is not None else self._cur.execute(sql)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class RecordingConnection(RecordingCursor):
    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self._cur.cursor(), self._log)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    root = tmp_path_factory.mktemp("api-attack")
    _release(root)
    sql: list[str] = []
    real_connect = duckdb.connect
    mp = pytest.MonkeyPatch()
    mp.setattr(duckdb, "connect", lambda *a, **k: RecordingConnection(real_connect(*a, **k), sql))
    try:
        with ApiServer(root, free_port(), rate=10_000, burst=10_000) as srv:
            yield srv.url, root, sql
    finally:
        mp.undo()


def assert_safe(resp: requests.Response, sent: list[str] | None = None) -> dict[str, Any]:
    assert resp.status_code in (200, 400, 404, 409, 413, 414), (resp.status_code, resp.text[:500])
    body = resp.json()
    assert isinstance(body, dict) and "success" in body
    text = resp.text
    for leak in ("Traceback", 'File "', "duckdb", "DuckDB", "SELECT", "read_parquet", "/tmp/", "Exception"):
        # only what the server added counts: a refused value may be quoted back (short, ASCII-escaped)
        assert leak not in text or any(leak in v for v in sent or []), (leak, text[:500])
    assert (
        resp.headers["X-Content-Type-Options"] == "nosniff"
        and "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    )
    return body


def assert_sql_clean(sql: list[str], sent: list[str]) -> None:
    for stmt in sql:
        for ident in re.findall(r'"([^"]*)"', stmt):
            assert ident in COLUMNS, stmt
        for value in sent:
            if len(value) >= 4 and value not in COLUMNS and value.lower() not in ("asc", "desc"):
                assert value not in stmt, (value, stmt)
    sql.clear()


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(k) + _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(HOSTILE + COLUMNS + ["kelurahan_code desc", "risk asc, level desc", "Awas", "31.71.01.1001"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=10)), inner, max_size=4),
    ),
    max_leaves=8,
)


def _as_query(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


@pytest.mark.parametrize("action", ACTIONS)
def test_fuzzed_parameters_never_break_the_api(server: tuple[str, Path, list[str]], action: str) -> None:
    url, _root, sql = server
    known = sorted(PARAMS[action]) or ["id"]

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        params=st.dictionaries(st.one_of(st.sampled_from(known), st.text(max_size=12)), values, max_size=5),
        method=st.sampled_from(["GET", "POST"]),
    )
    def run(params: dict[str, Any], method: str) -> None:
        if method == "GET":
            query = {k: _as_query(v) for k, v in params.items()}
            try:
                resp = requests.get(f"{url}/api/3/action/{action}", params=query, timeout=30)
            except UnicodeEncodeError:  # the client itself cannot send a lone surrogate
                return
        else:
            try:
                data = json.dumps(params, allow_nan=True).encode()
            except UnicodeEncodeError:
                return
            resp = requests.post(
                f"{url}/api/3/action/{action}", data=data, headers={"Content-Type": "application/json"}, timeout=30
            )
        assert_safe(resp, _strings(params))
        assert_sql_clean(sql, _strings(params))

    run()


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("param", ["resource_id", "fields", "sort", "q", "filters", "limit", "offset"])
def test_hostile_values_in_each_datastore_parameter(
    server: tuple[str, Path, list[str]], param: str, hostile: str
) -> None:
    url, _root, sql = server
    params = {"resource_id": "risk_hourly_kelurahan", param: hostile}
    if param == "filters":
        params[param] = json.dumps({"level": hostile})
    try:
        resp = requests.get(f"{url}/api/3/action/datastore_search", params=params, timeout=30)
    except UnicodeEncodeError:
        resp = requests.post(f"{url}/api/3/action/datastore_search", data=json.dumps(params), timeout=30)
    body = assert_safe(resp, [hostile])
    assert body["success"] is False or param in ("q", "filters")  # text search/filters just find nothing
    assert_sql_clean(sql, [hostile])


def test_row_limits_and_unknown_parameters_answer_clearly(server: tuple[str, Path, list[str]]) -> None:
    url, _root, sql = server
    sql.clear()
    ok = requests.get(
        f"{url}/api/3/action/datastore_search", params={"resource_id": "risk_hourly_kelurahan", "limit": 5}
    ).json()
    assert ok["success"] and len(ok["result"]["records"]) == 5 and ok["result"]["total"] == 300
    assert any("read_parquet" in stmt for stmt in sql)  # the SQL spy sees what the engine runs
    big = requests.get(
        f"{url}/api/3/action/datastore_search", params={"resource_id": "risk_hourly_kelurahan", "limit": MAX_LIMIT + 1}
    )
    assert big.status_code == 409 and f"between 0 and {MAX_LIMIT}" in big.json()["error"]["message"]
    typo = requests.get(
        f"{url}/api/3/action/datastore_search", params={"resource_id": "risk_hourly_kelurahan", "limt": 5}
    )
    assert typo.status_code == 409 and "unknown parameter 'limt'" in typo.json()["error"]["message"]
    twice = requests.get(f"{url}/api/3/action/package_show?id=a&id=b")
    assert twice.status_code == 409 and "more than once" in twice.json()["error"]["message"]


def _raw(
    url: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None and "Transfer-Encoding" not in (headers or {}):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body is not None:
            if (headers or {}).get("Transfer-Encoding") == "chunked":
                for i in range(0, len(body), 8192):
                    chunk = body[i : i + 8192]
                    conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                conn.send(b"0\r\n\r\n")
            else:
                conn.send(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_request_size_limits(server: tuple[str, Path, list[str]]) -> None:
    url, _root, _sql = server
    big = json.dumps({"q": "a" * 70_000}).encode()
    status, _h, body = _raw(url, "POST", "/api/3/action/package_search", big, {"Content-Type": "application/json"})
    assert status == 413 and b"limited to 65536 bytes" in body
    status, _h, body = _raw(
        url,
        "POST",
        "/api/3/action/package_search",
        big,
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    assert status == 413, body  # no Content-Length: counted while it streams in
    status, _h, body = _raw(url, "GET", "/api/3/action/package_list?q=" + "a" * 9000)
    assert status == 414 and b"query string" in body
    deep = b"[" * 50_000 + b"]" * 50_000
    status, _h, body = _raw(
        url, "POST", "/api/3/action/package_list", deep[:60_000], {"Content-Type": "application/json"}
    )
    assert status == 400 and b"Traceback" not in body


TRAVERSALS = [
    "/releases/../ops.sqlite",
    "/releases/%2e%2e/ops.sqlite",
    "/releases/..%2fops.sqlite",
    "/releases/%2e%2e%2fops.sqlite",
    "/releases/%2E%2E%5Cops.sqlite",
    "/releases/..\\ops.sqlite",
    "/releases//ops.sqlite",
    "/releases/escape",
    "/releases/" + "%2e%2e/" * 8 + "etc/passwd",
    "/releases/%00",
    "/releases/" + VERSION + "/../../ops.sqlite",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_traversal_in_file_routes(server: tuple[str, Path, list[str]], path: str) -> None:
    url, _root, _sql = server
    status, headers, body = _raw(url, "GET", path)
    assert status in (400, 404), (path, status)
    assert SECRET.encode() not in body and b"root:" not in body
    assert headers["x-content-type-options"] == "nosniff"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    segments=st.lists(
        st.sampled_from(
            ["..", ".", "%2e%2e", "%2f", "ops.sqlite", "escape", VERSION, "data", "%00", "~", "\\", "risk.parquet"]
        ),
        max_size=6,
    )
)
def test_fuzzed_file_paths_stay_inside_releases(server: tuple[str, Path, list[str]], segments: list[str]) -> None:
    url, _root, _sql = server
    status, _h, body = _raw(url, "GET", "/releases/" + "/".join(segments))
    assert status != 500 and SECRET.encode() not in body


def test_security_headers_cors_and_the_portal_policy(server: tuple[str, Path, list[str]]) -> None:
    url, _root, _sql = server
    page = requests.get(f"{url}/releases/index.html", timeout=30)
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    api = requests.get(f"{url}/api/3/action/package_list", headers={"Origin": "https://evil.example"}, timeout=30)
    assert api.headers["Access-Control-Allow-Origin"] == "*"  # open data: anyone may read
    assert "Access-Control-Allow-Credentials" not in api.headers  # never with credentials
    pre = requests.options(
        f"{url}/api/3/action/package_list",
        headers={"Origin": "https://x.example", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


def test_an_internal_failure_carries_no_trace(tmp_path: Path) -> None:
    _release(tmp_path)
    (tmp_path / "releases" / VERSION / "data" / "risk.parquet").write_bytes(b"PAR1 not really parquet")
    with ApiServer(tmp_path, free_port()) as srv:
        resp = requests.get(
            f"{srv.url}/api/3/action/datastore_search", params={"resource_id": "risk_hourly_kelurahan"}, timeout=30
        )
    assert resp.status_code == 500
    assert resp.json()["error"] == {"__type": "Internal Error", "message": "internal error"}
    assert "Traceback" not in resp.text and str(tmp_path) not in resp.text


def test_rate_limit_per_client(tmp_path: Path) -> None:
    _release(tmp_path)
    with ApiServer(tmp_path, free_port(), rate=0.01, burst=3) as srv:
        codes = [requests.get(f"{srv.url}/api/3/action/status_show", timeout=30).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        flood = requests.get(f"{srv.url}/api/3/action/status_show", timeout=30)
        assert flood.json()["error"]["__type"] == "Rate Limit" and int(flood.headers["Retry-After"]) >= 1
        # a forged X-Forwarded-For does not buy a fresh bucket unless a trusted proxy is configured
        forged = requests.get(
            f"{srv.url}/api/3/action/status_show", headers={"X-Forwarded-For": "10.9.9.9"}, timeout=30
        )
        assert forged.status_code == 429


def test_rate_limiter_buckets_and_bounded_memory() -> None:
    now = [0.0]
    rl = RateLimiter(2.0, 2, max_clients=100, clock=lambda: now[0])
    assert [rl.take("a"), rl.take("a")] == [0.0, 0.0] and rl.take("a") == pytest.approx(0.5)
    assert rl.take("b") == 0.0  # another client has its own bucket
    now[0] = 0.5
    assert rl.take("a") == 0.0
    for i in range(10_000):
        rl.take(f"spoofed-{i}")
    assert len(rl._buckets) == 100


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(tmp_path: Path) -> None:
    _release(tmp_path)
    with ApiServer(tmp_path, free_port(), rate=0.01, burst=1, trust_forwarded_for=True) as srv:
        url = f"{srv.url}/api/3/action/status_show"

        def get(client: str) -> int:
            return requests.get(url, headers={"X-Forwarded-For": f"{client}, 10.0.0.1"}, timeout=30).status_code

        assert [get("203.0.113.5"), get("203.0.113.5"), get("198.51.100.7")] == [200, 429, 200]
