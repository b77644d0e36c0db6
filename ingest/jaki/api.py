"""Pull adapter for a paged JSON HTTP API of Jaki.

Protocol (what Jaki's export API returns): ``GET <base>/<endpoint>?limit=N[&cursor=C]`` answers
``{"items": [...], "next_cursor": "C2" | null}``. Each page is ingested like a JSONL file (same
contract, quarantine and accounting) and the cursor to continue from is stored in the lake table
``jaki_api_cursors`` *in the same transaction* as the page's rows, so a pull that dies anywhere
resumes exactly after the last committed page. Timeouts, connection errors, HTTP 429 and 5xx are
retried with exponential backoff and jitter; other 4xx fail at once.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import requests

from ingest.jaki.ingest import IngestStats, JakiConfig, ingest_bytes
from ingest.jaki.schemas import spec_for
from warehouse.lake import Lake

log = logging.getLogger(__name__)


class JakiApiError(RuntimeError):
    """The API kept failing after all retries, or answered something that is not a page."""


@dataclass(frozen=True)
class ApiConfig:
    base_url: str
    timeout_s: float = 10.0
    max_retries: int = 5
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    page_size: int = 1000
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PullResult:
    endpoint: str
    pages: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    retries: int = 0
    start_cursor: str | None = None
    cursor: str | None = None
    stats: list[IngestStats] = field(default_factory=list)


def load_cursor(lake: Lake, endpoint: str) -> str | None:
    rows = lake.query(
        "SELECT cursor FROM jaki_api_cursors WHERE endpoint = ? ORDER BY updated_at DESC LIMIT 1", [endpoint]
    ).to_pylist()
    return rows[0]["cursor"] if rows else None


def _save_cursor(cur: duckdb.DuckDBPyConnection, endpoint: str, table: str, cursor: str | None, rows: int) -> None:
    prev = cur.execute(
        "SELECT coalesce(max(pages), 0), coalesce(max(rows), 0) FROM jaki_api_cursors WHERE endpoint = ?", [endpoint]
    ).fetchone()
    pages, total = (int(prev[0]), int(prev[1])) if prev else (0, 0)
    cur.execute("DELETE FROM jaki_api_cursors WHERE endpoint = ?", [endpoint])
    cur.execute(
        "INSERT INTO jaki_api_cursors VALUES (?, ?, ?, ?, ?, ?)",
        [endpoint, table, cursor, pages + 1, total + rows, datetime.now(UTC)],
    )


class JakiApiClient:
    def __init__(
        self,
        config: ApiConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.sleep = sleep
        self.retries = 0

    def get_page(self, endpoint: str, cursor: str | None) -> dict[str, Any]:
        cfg = self.config
        url = cfg.base_url.rstrip("/") + "/" + endpoint.lstrip("/")
        params: dict[str, Any] = {"limit": cfg.page_size}
        if cursor is not None:
            params["cursor"] = cursor
        last: str = ""
        for attempt in range(cfg.max_retries + 1):
            try:
                resp = self.session.get(url, params=params, timeout=cfg.timeout_s, headers=cfg.headers)
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 200:
                    try:
                        page = resp.json()
                    except ValueError as exc:
                        raise JakiApiError(f"{url}: response is not JSON ({exc})") from exc
                    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                        raise JakiApiError(f"{url}: response has no 'items' list")
                    return page
                if resp.status_code != 429 and resp.status_code < 500:
                    raise JakiApiError(f"{url}: HTTP {resp.status_code} {resp.text[:200]!r} (not retried)")
                last = f"HTTP {resp.status_code}"
            if attempt == cfg.max_retries:
                break
            delay = min(cfg.backoff_max_s, cfg.backoff_s * 2**attempt) * (0.5 + random.random() / 2)
            self.retries += 1
            log.warning("Jaki API %s (cursor %s): %s; retry %d in %.2fs", endpoint, cursor, last, attempt + 1, delay)
            self.sleep(delay)
        raise JakiApiError(f"{url} cursor={cursor!r}: gave up after {cfg.max_retries + 1} attempts ({last})")


def pull(
    lake: Lake,
    table: str,
    endpoint: str,
    api: ApiConfig,
    config: JakiConfig,
    *,
    max_pages: int | None = None,
    client: JakiApiClient | None = None,
) -> PullResult:
    """Pull pages from ``endpoint`` into ``table``, resuming from the stored cursor."""
    spec = spec_for(table)
    client = client or JakiApiClient(api)
    cursor = load_cursor(lake, endpoint)
    result = PullResult(endpoint=endpoint, start_cursor=cursor, cursor=cursor)
    while max_pages is None or result.pages < max_pages:
        page = client.get_page(endpoint, cursor)
        items = page["items"]
        next_cursor = page.get("next_cursor")
        if next_cursor is not None and not isinstance(next_cursor, str):
            next_cursor = str(next_cursor)
        store_cursor = next_cursor if next_cursor is not None else cursor
        if items:
            data = ("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n").encode("utf-8")
            source = f"api://{endpoint}?cursor={cursor or ''}"

            def _cursor(cur: duckdb.DuckDBPyConnection, c: str | None = store_cursor, n: int = len(items)) -> None:
                _save_cursor(cur, endpoint, spec.table, c, n)

            st = ingest_bytes(lake, data, spec.table, source, config, fmt="jsonl", extra_write=_cursor)
            if st.status == "skipped":  # same page content already committed: only move the cursor
                lake.write(lambda cur, c=store_cursor: _save_cursor(cur, endpoint, spec.table, c, 0))
            result.stats.append(st)
            result.rows_read += st.rows_read
            result.rows_accepted += st.rows_accepted
            result.rows_quarantined += st.rows_quarantined
        elif store_cursor != cursor:
            lake.write(lambda cur, c=store_cursor: _save_cursor(cur, endpoint, spec.table, c, 0))
        result.pages += 1
        result.cursor = store_cursor
        if next_cursor is None or not items:
            break
        cursor = next_cursor
    result.retries = client.retries
    log.info("pulled %s: %d pages, %d rows (%d retries)", endpoint, result.pages, result.rows_read, result.retries)
    return result
