"""Panic presses: a real alert for the police and Satpol PP at the nearest camera, carrying the nearest cameras'
blurred keyframes (never a private frame), delivered through the outbox as valid CAP 1.2."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from alerts_testkit import T0, seed_reference
from lxml import etree

from alerts.cap import CAP_NS, CapSettings, validate_cap
from alerts.channels import ChannelRegistry
from alerts.db import OpsDB
from alerts.engine import AlertEngine
from alerts.lifecycle import list_alerts, transitions
from alerts.models import AGENCIES
from alerts.outbox import Dispatcher, RetryPolicy, outbox_counts
from alerts.panic import raise_panic_alerts
from alerts.subscriptions import ensure_agency_subscriptions
from warehouse.lake import Lake


def _requests(lake: Lake, panic_id: str, cams: list[tuple[str, float]], at) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"request_id": f"{panic_id}:{c}", "camera_id": c, "panic_id": panic_id, "pressed_at": at,
         "kelurahan_code": "31.71.01.1001", "kind": "crime", "distance_m": d, "radius_m": 300.0, "priority": 1,
         "reason": "panic", "status": "pending", "requested_at": at + timedelta(seconds=2)}
        for c, d in cams
    ]  # fmt: skip
    lake.append("camera_priority_requests", pa.Table.from_pylist(rows))


@pytest.fixture
def seeded(lake: Lake) -> Lake:
    seed_reference(lake)
    frames = [
        {"camera_id": "cam-crowd", "captured_at": T0, "keyframe_uri": "keyframes/cam-crowd/a.jpg",
         "public_uri": "public/keyframes/cam-crowd/a.jpg", "status": "ok"},
        {"camera_id": "cam-fire", "captured_at": T0, "keyframe_uri": "keyframes/cam-fire/b.jpg",
         "public_uri": "public/keyframes/cam-fire/b.jpg", "status": "ok"},
    ]  # fmt: skip
    lake.append("frames", pa.Table.from_pylist(frames))
    return lake


def test_a_panic_press_alerts_police_and_satpol_pp_with_blurred_keyframes(
    seeded: Lake, ops: OpsDB, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    ensure_agency_subscriptions(ops, {a.code: ("outbox", str(outbox / a.code)) for a in AGENCIES})
    _requests(seeded, "p1", [("cam-fire", 120.0), ("cam-crowd", 40.0)], T0 + timedelta(minutes=1))
    engine = AlertEngine(ops, seeded, cap_settings=CapSettings(public_base_url="https://data.example/"))
    res = raise_panic_alerts(engine)
    assert res.presses == 1 and [(t.hazard, t.camera_id, t.level) for t in res.transitions] == [
        ("panic", "cam-crowd", "Siaga")  # the nearest camera
    ]
    assert raise_panic_alerts(engine).presses == 0  # the cursor moved on: one alert per press

    tr = transitions(ops)[0]
    xml = tr["cap_xml"].encode()
    validate_cap(xml)
    doc = etree.fromstring(xml)
    uris = [u.text for u in doc.iter(f"{{{CAP_NS}}}uri")]
    assert uris and all(u.startswith("https://data.example/public/keyframes/") for u in uris)
    assert not any("/keyframes/" in u and "public" not in u for u in uris)  # private frames never leave
    assert doc.find(f".//{{{CAP_NS}}}category").text == "Security"

    d = Dispatcher(ops, ChannelRegistry.default(outbox_dir=outbox), RetryPolicy(max_attempts=2))
    d.run_until_idle()
    d.close()
    assert outbox_counts(ops) == {"sent": 2}
    assert {p.parent.name for p in outbox.rglob("*.cap.xml")} == {"polisi", "satpolpp"}
    (alert,) = list_alerts(ops)
    assert alert["hazard"] == "panic" and alert["camera_id"] == "cam-crowd"


@pytest.mark.parametrize(
    ("pressed_after_now", "alerted"),
    [(timedelta(minutes=-30), True), (timedelta(minutes=4), True), (timedelta(hours=3), False)],
)
def test_a_press_stamped_in_the_future_is_not_alerted(
    seeded: Lake, ops: OpsDB, pressed_after_now: timedelta, alerted: bool
) -> None:
    now = T0 + timedelta(hours=1)
    _requests(seeded, "p-future", [("cam-crowd", 40.0)], now + pressed_after_now)
    engine = AlertEngine(ops, seeded, cap_settings=CapSettings(public_base_url="https://data.example/"))
    res = raise_panic_alerts(engine, now=now)
    assert (res.presses, res.future) == ((1, 0) if alerted else (0, 1))
    assert len(transitions(ops)) == (1 if alerted else 0)
    assert raise_panic_alerts(engine, now=now + timedelta(days=1)).presses == 0  # skipped once, never replayed
