"""Pull adapter against a tiny paged JSON API on 127.0.0.1: retries, timeouts, resumable cursor."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from ingest.jaki.api import ApiConfig, JakiApiClient, JakiApiError, load_cursor, pull
from ingest.jaki.ingest import JakiConfig

CFG = JakiConfig(salt="api-test-salt-123", run_ge=False)
PAGES = 5
PER_PAGE = 20


def _item(i: int, tag: str) -> dict[str, Any]:
    return {
        "panic_id": f"API-{tag}-{i:04d}",
        "pressed_at": f"2026-11-23T{i % 24:02d}:15:00+07:00",
        "lat": -6.2 + i * 1e-4,
        "lon": 106.8,
        "kelurahan_code": "31.71.01.1001",
        "kind": "medical",
        "user_id": f"62812{i:06d}",
    }


class FakeJaki:
    """Pages p0..p4; scripted failures per cursor: 'err' = HTTP 500, 'slow' = sleep past the timeout."""

    def __init__(self) -> None:
        self.script: dict[str, list[str]] = {}
        self.requests: list[str | None] = []
        self.down = False
        self.tag = "a"
        self.lock = threading.Lock()

    def respond(self, cursor: str | None) -> tuple[int, dict[str, Any] | None, float]:
        with self.lock:
            self.requests.append(cursor)
            key = cursor or "p0"
            todo = self.script.get(key, [])
            action = todo.pop(0) if todo else ("down" if self.down and key != "p0" else "ok")
        if action in ("err", "down"):
            return 500, None, 0.0
        if action == "slow":
            return 200, None, 1.0
        page = int(key[1:])
        items = [_item(page * PER_PAGE + j, self.tag) for j in range(PER_PAGE)]
        nxt = f"p{page + 1}" if page + 1 < PAGES else None
        return 200, {"items": items, "next_cursor": nxt}, 0.0


@pytest.fixture
def server() -> Iterator[tuple[str, FakeJaki]]:
    fake = FakeJaki()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            q = parse_qs(urlparse(self.path).query)
            status, body, delay = fake.respond(q.get("cursor", [None])[0])
            if delay:
                time.sleep(delay)
                body = {"items": [], "next_cursor": None}
            data = json.dumps(body or {"error": "boom"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", fake
    httpd.shutdown()
    httpd.server_close()


def _api(url: str, retries: int = 4) -> ApiConfig:
    return ApiConfig(base_url=url, timeout_s=0.4, max_retries=retries, backoff_s=0.01, page_size=PER_PAGE)


def test_server_errors_and_timeouts_are_retried(lake, server) -> None:
    url, fake = server
    fake.script = {"p0": ["err", "err"], "p2": ["slow"], "p3": ["err"]}
    res = pull(lake, "panic_button", "panic-a", _api(url), CFG)
    assert res.pages == PAGES and res.rows_read == PAGES * PER_PAGE == res.rows_accepted
    assert res.retries == 4
    assert lake.scalar("SELECT count(DISTINCT panic_id) FROM jaki_panic_button WHERE panic_id LIKE 'API-%'") == 100
    assert load_cursor(lake, "panic-a") == "p4"


def test_client_gives_up_with_clear_error(server) -> None:
    url, fake = server
    fake.script = {"p0": ["err"] * 10}
    client = JakiApiClient(_api(url, retries=2), sleep=lambda s: None)
    with pytest.raises(JakiApiError, match=r"gave up after 3 attempts \(HTTP 500\)"):
        client.get_page("x", None)


def test_resumed_pull_continues_from_cursor(lake, server) -> None:
    url, fake = server
    fake.tag = "b"
    fake.down = True  # everything after the first page fails
    with pytest.raises(JakiApiError):
        pull(lake, "panic_button", "panic-b", _api(url, retries=1), CFG)
    assert load_cursor(lake, "panic-b") == "p1"  # page 0 committed with its cursor
    fake.down = False
    fake.requests.clear()
    res = pull(lake, "panic_button", "panic-b", _api(url), CFG)
    assert fake.requests[0] == "p1"  # resumed, not restarted
    assert res.start_cursor == "p1" and res.pages == PAGES - 1
    rows = lake.query(
        "SELECT count(*) AS n, count(DISTINCT source_file) AS files FROM jaki_panic_button WHERE source_file LIKE 'api://panic-b%'"
    ).to_pylist()[0]
    assert rows == {"n": PAGES * PER_PAGE, "files": PAGES}
    # raw user ids never stored
    assert lake.scalar("SELECT count(*) FROM jaki_panic_button WHERE user_hash LIKE '62812%'") == 0
