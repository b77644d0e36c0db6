"""The flood-context sensors poll a real (loopback) feed, land each new document once, and the asset loads it;
a malformed document is quarantined with its reason (and the asset check warns)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from assets.context import flood_context, flood_context_documents_not_quarantined, posko_banjir_feed_sensor
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest" / "context"))
from context_fixtures import THRESHOLDS, posko_banjir_document

FEED: dict[str, bytes] = {}


class _Feed(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = FEED["doc"]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def feed_url() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/posko"
    srv.shutdown()
    srv.server_close()


def test_feed_sensor_lands_documents_and_the_asset_loads_them(
    tmp_path: Path, feed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "pantau-data"
    lk = Lake(LakeConfig(root=data))
    migrate(lk)
    lk.append("water_gate_thresholds", pa.Table.from_pylist(THRESHOLDS))
    lk.close()
    monkeypatch.setenv("PANTAU_POSKO_BANJIR_URL", feed_url)
    res = {
        "lake": LakeResource(data_dir=str(data)),
        "store": ObjectStoreResource(root=str(data / "store")),
        "settings": SettingsResource(data_dir=str(data)),
    }
    FEED["doc"] = posko_banjir_document(datetime.now(UTC), 860.0)
    first = posko_banjir_feed_sensor(dg.build_sensor_context(resources=res))
    assert isinstance(first, dg.SensorResult) and len(first.run_requests or []) == 1
    unchanged = posko_banjir_feed_sensor(dg.build_sensor_context(resources=res, cursor=first.cursor))
    assert isinstance(unchanged, dg.SkipReason) and "unchanged" in str(unchanged.skip_message)
    FEED["doc"] = b"<html>502 Bad Gateway</html>"
    second = posko_banjir_feed_sensor(dg.build_sensor_context(resources=res, cursor=first.cursor))
    assert isinstance(second, dg.SensorResult)

    out = dg.materialize([flood_context, flood_context_documents_not_quarantined], resources=res)
    assert out.success
    md = out.asset_materializations_for_node("flood_context")[0].metadata
    assert md["readings"].value == 2 and md["quarantined_documents"].value == 1 and md["quarantined_rows"].value == 3
    (check,) = out.get_asset_check_evaluations()
    assert not check.passed  # the 502 page is quarantined, and the check says so
    lk = Lake(LakeConfig(root=data), read_only=True)
    try:
        assert lk.scalar("SELECT gate_level FROM water_gate_readings WHERE gate_id = '122'") == "Siaga 2"
        assert "neither JSON nor CSV" in lk.scalar("SELECT error FROM context_documents WHERE status = 'quarantined'")
    finally:
        lk.close()
