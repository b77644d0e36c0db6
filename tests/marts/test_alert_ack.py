"""Time to acknowledge per agency: alerts acknowledged through their links (the real ops DB path), exported to the
lake, rolled up by the mart, and shown as a figure on the Alerts page."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from alerts.ack import AckClaims, acknowledge_with_token, make_ack_token
from alerts.db import OpsDB, deliveries_t
from alerts.export import export_alerts_to_lake
from alerts.subscriptions import SubscriptionSpec, add_subscription
from marts.alerts import refresh_alert_ack_mart
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from alerts_testkit import open_alert

SECRET = "s"


def _ack(ops: OpsDB, alert_id: str, sub: str, at: datetime) -> None:
    token = make_ack_token(
        SECRET, AckClaims(alert_id, sub, f"d-{alert_id}", int((at + timedelta(hours=1)).timestamp()))
    )
    acknowledge_with_token(ops, alert_id, token, SECRET, now=at)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lk = Lake(LakeConfig(root=tmp_path / "pantau-data"))
    migrate(lk)
    yield lk
    lk.close()


def test_time_to_acknowledge_per_agency(lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ops = OpsDB(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    try:
        gk = add_subscription(ops, SubscriptionSpec(name="Gulkarmat", kind="agency", hazard="fire", channel="outbox",
                                                    target=str(tmp_path / "o")))["subscription_id"]  # fmt: skip
        bp = add_subscription(ops, SubscriptionSpec(name="BPBD", kind="agency", hazard="flood", channel="outbox",
                                                    target=str(tmp_path / "o")))["subscription_id"]  # fmt: skip
        t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        fires = [open_alert(ops, camera_id=f"cam-{i}", hazard="fire", level="Siaga", at=t0) for i in range(3)]
        flood = open_alert(ops, camera_id="cam-flood", hazard="flood", level="Awas", at=t0)
        open_alert(ops, camera_id="cam-late", hazard="flood", level="Siaga", at=t0)  # nobody acknowledges it
        with ops.begin() as conn:  # recipients were told at t0 (the outbox rows' creation)
            conn.execute(sa.update(deliveries_t).values(created_at=t0))
        for tr, minutes in zip(fires, (2, 4, 30), strict=True):
            _ack(ops, tr.alert_id, gk, t0 + timedelta(minutes=minutes))
        _ack(ops, flood.alert_id, bp, t0 + timedelta(minutes=10))
        export_alerts_to_lake(ops, lake)
    finally:
        ops.dispose()
    assert refresh_alert_ack_mart(lake) > 0
    rows = {(r["agency"], r["hazard"]): r for r in lake.query("SELECT * FROM alert_ack_daily").to_pylist()}
    g = rows[("Gulkarmat", "fire")]
    assert (g["alerts"], g["acknowledged"], g["tta_median_s"], g["tta_max_s"]) == (3, 3, 240.0, 1800.0)
    assert rows[("BPBD", "flood")]["tta_median_s"] == 600.0
    assert rows[(None, "flood")]["acknowledged"] == 0 and rows[(None, "flood")]["alerts"] == 1
    assert refresh_alert_ack_mart(lake) == len(rows)  # rebuilt whole: re-running changes nothing

    # the Alerts page shows the figure from the mart
    from streamlit.testing.v1 import AppTest

    from dashboards.i18n import translate

    lake.close()
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "pantau-data"))
    app = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
    from access.accounts import add_user
    from access.roles import SYSTEM
    from alerts.db import sqlite_url
    from dashboards.auth import PRINCIPAL

    accounts = OpsDB(sqlite_url(str(tmp_path / "pantau-data")))  # the page signs in against the data folder's ops DB
    try:
        add_user(accounts, "analyst", "a long test password", "analyst", by=SYSTEM)
    finally:
        accounts.dispose()
    at = AppTest.from_file(str(app), default_timeout=120)
    at.session_state[PRINCIPAL] = ("analyst", "local")
    at.switch_page("views/alerts.py").run()
    assert not at.exception, at.exception
    assert translate("time_to_ack") in [s.value for s in at.subheader]
    assert any("unacknowledged" in c.value.lower() or translate("unacknowledged_alerts") in c.value for c in at.caption)
