from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from alerts_testkit import CAMERAS, T0, land_scores, score_row, seed_reference, series

from alerts.cap import CAP_NS, validate_cap
from alerts.db import OpsDB
from alerts.engine import CURSOR_KEY, AlertEngine
from alerts.export import export_alerts_to_lake, publish_cap_and_feed
from alerts.lifecycle import list_alerts, transitions
from alerts.subscriptions import SubscriptionSpec, add_subscription
from warehouse.lake import Lake


@pytest.fixture
def seeded(lake: Lake) -> Lake:
    seed_reference(lake)
    return lake


def _subscribe_outbox(ops: OpsDB, tmp_path: Path) -> None:
    add_subscription(
        ops,
        SubscriptionSpec(name="Gulkarmat", kind="agency", hazard="fire", channel="outbox", target=str(tmp_path / "gk")),
    )
    add_subscription(
        ops,
        SubscriptionSpec(name="BPBD", kind="agency", hazard="flood", channel="outbox", target=str(tmp_path / "bpbd")),
    )
    add_subscription(
        ops,
        SubscriptionSpec(
            name="Lurah Gambir",
            area_type="kelurahan",
            area_code="31.71.01.1001",
            min_level="Siaga",
            channel="outbox",
            target=str(tmp_path / "lurah"),
        ),
    )


def test_flicker_then_sustained_fire_lifecycle_through_the_lake(seeded: Lake, ops: OpsDB, tmp_path: Path) -> None:
    _subscribe_outbox(ops, tmp_path)
    engine = AlertEngine(ops, seeded)
    # 1) flicker: alternate frames above/below the threshold -> nothing
    land_scores(seeded, series("cam-fire", [0.9, 0.0] * 6, "fire"))
    r1 = engine.run_cycle()
    assert r1.rows == 12 and r1.transitions == []
    # 2) sustained Awas -> one open (Waspada streak min) ... then escalation, both in one cycle
    start = T0 + timedelta(seconds=60)
    land_scores(seeded, series("cam-fire", [0.9] * 8, "fire", start=start))
    r2 = engine.run_cycle()
    # the smoothed score climbs through Waspada before it holds Awas: the alert follows the level exactly
    assert [(t.status, t.level) for t in r2.transitions] == [("open", "Waspada"), ("updated", "Awas")]
    # 3) re-running without new rows changes nothing (overlap rows are ignored by the rule state)
    assert engine.run_cycle().transitions == []
    # 4) flicker while open keeps exactly one alert; sustained clear resolves it
    land_scores(seeded, series("cam-fire", [0.9, 0.05] * 4 + [0.0] * 3, "fire", start=start + timedelta(seconds=60)))
    r3 = engine.run_cycle()
    assert [t.status for t in r3.transitions] == ["resolved"]
    alerts = list_alerts(ops)
    assert len(alerts) == 1 and alerts[0]["status"] == "resolved" and alerts[0]["dedup_key"] is None
    trs = transitions(ops, alerts[0]["alert_id"])
    assert [t["status"] for t in trs] == ["open", "updated", "resolved"]
    # every transition: reason + evidence + valid CAP with references on the update
    for t in trs:
        assert t["reason"]
        validate_cap(t["cap_xml"].encode())
    assert "references" in trs[2]["cap_xml"] and trs[1]["cap_identifier"] in trs[2]["cap_xml"]
    ev = json.loads(trs[1]["evidence"])
    assert ev["score"] == pytest.approx(0.9) and ev["fire"] == pytest.approx(0.9) and ev["level"] == "Awas"
    # routed: Gulkarmat (fire agency) at every level, the Gambir lurah from Siaga on (and its all-clear); not BPBD
    from alerts.outbox import outbox_counts

    assert outbox_counts(ops) == {"pending": 5}
    assert ops.get_kv(CURSOR_KEY) is not None


def test_flood_without_context_reaches_awas_and_carries_the_polygon(seeded: Lake, ops: OpsDB, tmp_path: Path) -> None:
    _subscribe_outbox(ops, tmp_path)
    engine = AlertEngine(ops, seeded)
    # no complaint, no rain, no water gate: the image evidence alone (Awas) is enough
    land_scores(seeded, series("cam-flood", [0.95] * 8, "flood"))
    res = engine.run_cycle()
    assert [(t.status, t.level) for t in res.transitions] == [("open", "Awas")]
    tr = transitions(ops)[0]
    from lxml import etree

    doc = etree.fromstring(tr["cap_xml"].encode())
    polys = doc.findall(f".//{{{CAP_NS}}}polygon")
    assert polys, "kelurahan polygon missing"
    pts = polys[0].text.split()
    assert 4 <= len(pts) <= 60 and pts[0] == pts[-1]  # simplified from 201 vertices, closed
    circle = doc.find(f".//{{{CAP_NS}}}circle").text
    assert circle.startswith("-6.22400,106.86600 0.150")
    assert doc.find(f".//{{{CAP_NS}}}category").text == "Met"


def test_camera_offline_alerts_operators(seeded: Lake, ops: OpsDB, tmp_path: Path) -> None:
    add_subscription(
        ops,
        SubscriptionSpec(
            name="Operators", kind="agency", hazard="camera", channel="outbox", target=str(tmp_path / "ops")
        ),
    )
    engine = AlertEngine(ops, seeded)
    rows = [score_row("cam-crowd", T0 + timedelta(seconds=5 * i), health="offline") for i in range(4)]
    rows += [score_row("cam-crowd", T0 + timedelta(seconds=20 + 5 * i)) for i in range(3)]
    land_scores(seeded, rows)
    res = engine.run_cycle()
    assert [(t.hazard, t.status) for t in res.transitions] == [("camera", "open"), ("camera", "resolved")]
    assert res.deliveries == 2


def test_export_to_lake_and_feed(seeded: Lake, ops: OpsDB, tmp_path: Path, local_store) -> None:
    _subscribe_outbox(ops, tmp_path)
    engine = AlertEngine(ops, seeded)
    land_scores(seeded, series("cam-fire", [0.75] * 4, "fire") + series("cam-crowd", [0.95] * 4, "crowd"))
    engine.run_cycle()
    res = export_alerts_to_lake(ops, seeded)
    assert res.alert_rows == 2
    again = export_alerts_to_lake(ops, seeded)  # idempotent
    assert again.alert_rows == 2
    assert seeded.scalar("SELECT count(*) FROM alerts") == 2
    assert seeded.scalar("SELECT count(*) FROM alert_deliveries") == res.delivery_rows > 0
    assert set(seeded.query("SELECT hazard FROM alerts").column(0).to_pylist()) == {"fire", "crowd"}
    feed = publish_cap_and_feed(ops, local_store)
    assert feed["active"] == 2 and feed["cap_written"] == 2
    from lxml import etree

    atom = etree.fromstring(local_store.get_bytes("public/alerts/feed.atom"))
    links = [
        e.get("href") for e in atom.iter("{http://www.w3.org/2005/Atom}link") if e.get("type") == "application/cap+xml"
    ]
    assert len(links) == 2
    # links are the API's stable public addresses of each alert's latest CAP (alerts.http serves them from the
    # store key public/alerts/<alert_id>.cap.xml), never a local path or s3:// URI
    assert all(h.startswith("http://127.0.0.1:8765/alerts/") and h.endswith(".cap.xml") for h in links)
    assert {"public/" + h.removeprefix("http://127.0.0.1:8765/") for h in links} <= {
        k.key for k in local_store.list("public/alerts/")
    }
    for key in [k.key for k in local_store.list("public/alerts/") if k.key.endswith(".xml")]:
        validate_cap(local_store.get_bytes(key))


def test_run_alerts_demo(seeded: Lake, tmp_path: Path, local_store) -> None:
    from alerts.demo import run_alerts_demo

    rows = series("cam-fire", [0.9] * 5, "fire") + series("cam-flood", [0.95] * 5, "flood")
    land_scores(seeded, rows)
    summary = run_alerts_demo(seeded, tmp_path / "data", store=local_store)
    text = str(summary)
    assert "fire" in text and "flood" in text
    assert summary.outbox == {"sent": 2}
    assert summary.files == 2
    # second run: nothing new, nothing re-sent
    again = run_alerts_demo(seeded, tmp_path / "data", store=local_store)
    assert again.transitions == [] and again.outbox == {"sent": 2}
    assert {c[0] for c in CAMERAS} >= {a["camera_id"] for a in summary.alerts}


@pytest.mark.services
def test_same_engine_on_postgres(seeded: Lake, pg_url: str, tmp_path: Path) -> None:
    """Scale-out: the identical code with a PostgreSQL URL."""
    from alerts.channels import ChannelRegistry
    from alerts.outbox import Dispatcher, outbox_counts

    ops = OpsDB(pg_url)
    try:
        _subscribe_outbox(ops, tmp_path)
        engine = AlertEngine(ops, seeded)
        land_scores(seeded, series("cam-fire", [0.8] * 4 + [0.0] * 3, "fire"))
        res = engine.run_cycle()
        assert [t.status for t in res.transitions] == ["open", "resolved"]
        for t in transitions(ops):
            validate_cap(t["cap_xml"].encode())
        d = Dispatcher(ops, ChannelRegistry.default(outbox_dir=tmp_path / "o"))
        d.run_until_idle()
        d.close()
        assert outbox_counts(ops) == {"sent": 4}
        assert export_alerts_to_lake(ops, seeded).alert_rows == 2
    finally:
        ops.dispose()


def test_context_confirms_a_flood_sooner(seeded: Lake, ops: OpsDB) -> None:
    engine = AlertEngine(ops, seeded)
    gate = {"flood": "water gate Manggarai at Siaga 2"}
    land_scores(seeded, series("cam-flood", [0.95] * 8, "flood"), context=lambda r: gate)
    land_scores(seeded, series("cam-fire", [0.95] * 8, "flood"))
    engine.run_cycle()
    first = {}
    for t in transitions(ops):
        a = next(x for x in list_alerts(ops) if x["alert_id"] == t["alert_id"])
        if t["level"] == "Awas":
            first.setdefault(a["camera_id"], t["at"])
    assert first["cam-flood"] < first["cam-fire"]
    ev = next(json.loads(t["evidence"]) for t in transitions(ops) if t["level"] == "Awas")
    assert ev["level"] == "Awas"


def test_silent_camera_is_reported_offline_and_recovers(seeded: Lake, ops: OpsDB, tmp_path: Path) -> None:
    add_subscription(
        ops,
        SubscriptionSpec(
            name="Operators", kind="agency", hazard="camera", channel="outbox", target=str(tmp_path / "ops")
        ),
    )
    engine = AlertEngine(ops, seeded)
    both = [score_row(c, T0 + timedelta(seconds=10 * i)) for i in range(3) for c in ("cam-fire", "cam-crowd")]
    land_scores(seeded, both)
    assert engine.run_cycle().transitions == []
    # cam-crowd goes silent; cam-fire keeps reporting for 6 minutes
    land_scores(seeded, [score_row("cam-fire", T0 + timedelta(seconds=30 + 10 * i)) for i in range(36)])
    res = engine.run_cycle()
    assert [(t.camera_id, t.hazard, t.status) for t in res.transitions] == [("cam-crowd", "camera", "open")]
    assert "no frames" in transitions(ops)[0]["reason"]
    assert engine.run_cycle().transitions == []  # reported once
    # frames resume: healthy frames resolve it
    land_scores(seeded, [score_row("cam-crowd", T0 + timedelta(seconds=400 + 5 * i)) for i in range(3)])
    res = engine.run_cycle()
    assert [(t.camera_id, t.status) for t in res.transitions] == [("cam-crowd", "resolved")]
