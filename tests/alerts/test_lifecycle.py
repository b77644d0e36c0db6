from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_testkit import T0, camera_info, open_alert
from lxml import etree

from alerts.cap import CAP_NS, validate_cap
from alerts.db import OpsDB
from alerts.lifecycle import AlertLifecycle, AlertNotFoundError, get_alert, list_alerts, transitions
from alerts.models import CameraInfo, Decision, Level
from alerts.outbox import outbox_counts
from alerts.routing import area_matches, idempotency_key, subscription_matches
from alerts.rules import RuleState
from alerts.subscriptions import (
    SubscriptionSpec,
    add_subscription,
    ensure_agency_subscriptions,
    list_subscriptions,
    remove_subscription,
)


def _cap(tr: dict) -> etree._Element:
    xml = tr["cap_xml"].encode()
    validate_cap(xml)
    return etree.fromstring(xml)


def _text(doc: etree._Element, tag: str) -> str | None:
    el = doc.find(f"{{{CAP_NS}}}{tag}")
    return None if el is None else el.text


def test_open_update_resolve_with_references(ops: OpsDB) -> None:
    add_subscription(
        ops, SubscriptionSpec(name="Gulkarmat", kind="agency", hazard="fire", channel="outbox", target="x")
    )
    add_subscription(
        ops,
        SubscriptionSpec(
            name="Awas only", area_type="kota", area_code="31.71", min_level="Awas", channel="outbox", target="y"
        ),
    )
    tr = open_alert(ops, level="Waspada")
    lc = AlertLifecycle(ops)
    cam = camera_info()
    up = lc.apply(
        Decision("cam-fire", "fire", "update", Level.AWAS, T0 + timedelta(minutes=1), "escalated", {"score": 0.95}), cam
    )
    res = lc.apply(
        Decision("cam-fire", "fire", "resolve", Level.NORMAL, T0 + timedelta(minutes=5), "cleared", {"score": 0.1}), cam
    )
    assert (tr.version, up.version, res.version) == (1, 2, 3)
    # Waspada -> agency only; Awas -> agency + Awas subscriber; resolve -> both who got it
    assert (tr.deliveries, up.deliveries, res.deliveries) == (1, 2, 2)
    trs = transitions(ops, tr.alert_id)
    docs = [_cap(t) for t in trs]
    assert [_text(d, "msgType") for d in docs] == ["Alert", "Update", "Update"]
    assert _text(docs[0], "references") is None
    refs = _text(docs[2], "references").split()
    assert [r.split(",")[1] for r in refs] == [trs[0]["cap_identifier"], trs[1]["cap_identifier"]]
    assert docs[2].find(f".//{{{CAP_NS}}}responseType").text == "AllClear"
    langs = [e.text for e in docs[1].iter(f"{{{CAP_NS}}}language")]
    assert langs == ["id-ID", "en-US"]
    sev = [e.text for e in docs[1].iter(f"{{{CAP_NS}}}severity")]
    assert sev == ["Extreme", "Extreme"]
    assert get_alert(ops, tr.alert_id)["status"] == "resolved"
    # idempotency keys are per (alert version, subscriber)
    assert outbox_counts(ops) == {"pending": 5}


def test_dedup_one_active_alert_per_camera_and_hazard(ops: OpsDB) -> None:
    first = open_alert(ops)
    again = open_alert(ops)  # same level: nothing
    other = open_alert(ops, level="Awas")  # an 'open' for an active alert becomes an update
    assert again is None and other.alert_id == first.alert_id and other.version == 2
    assert len(list_alerts(ops)) == 1
    assert open_alert(ops, hazard="flood").alert_id != first.alert_id


def test_acknowledge_and_cancel(ops: OpsDB) -> None:
    add_subscription(
        ops, SubscriptionSpec(name="Gulkarmat", kind="agency", hazard="fire", channel="outbox", target="x")
    )
    tr = open_alert(ops)
    lc = AlertLifecycle(ops)
    ack = lc.acknowledge(tr.alert_id, "gulkarmat-posko-gambir", "unit 12 on its way")
    assert ack.status == "acknowledged" and ack.deliveries == 0 and ack.cap_identifier is None
    assert get_alert(ops, tr.alert_id)["acknowledged_by"] == "gulkarmat-posko-gambir"
    can = lc.cancel(tr.alert_id, "false alarm: welding work", "operator-1")
    assert can.deliveries == 1
    trs = transitions(ops, tr.alert_id)
    assert [t["status"] for t in trs] == ["open", "acknowledged", "cancelled"]
    doc = _cap(trs[-1])
    assert _text(doc, "msgType") == "Cancel" and trs[0]["cap_identifier"] in _text(doc, "references")
    assert trs[-1]["actor"] == "operator-1" and "welding" in trs[-1]["reason"]
    # the rules start a cooldown: their state no longer thinks an alert is active
    with ops.read() as conn:
        from alerts.db import rule_state_t

        st = RuleState.from_json(conn.execute(rule_state_t.select()).first().state)
    assert st.active == 0 and st.last_resolved_at is not None
    with pytest.raises(ValueError):
        lc.acknowledge(tr.alert_id, "late")
    with pytest.raises(AlertNotFoundError):
        lc.cancel("nope", "false alarm", "y")


CAM = CameraInfo(
    "c",
    lat=-6.176,
    lon=106.827,
    kelurahan_code="31.71.01.1001",
    kelurahan="Gambir",
    kecamatan_code="31.71.01",
    kecamatan="Gambir",
    kota_code="31.71",
    kota="Jakarta Pusat",
)


@pytest.mark.parametrize(
    ("sub", "ok"),
    [
        ({"area_type": None}, True),
        ({"area_type": "kelurahan", "area_code": "31.71.01.1001"}, True),
        ({"area_type": "kelurahan", "area_code": "gambir"}, True),
        ({"area_type": "kelurahan", "area_code": "31.71.01.1002"}, False),
        ({"area_type": "kecamatan", "area_code": "31.71.01"}, True),
        ({"area_type": "kecamatan", "area_code": "31.71.02"}, False),
        ({"area_type": "kota", "area_code": "31.71"}, True),
        ({"area_type": "kota", "area_code": "Jakarta Pusat"}, True),
        ({"area_type": "kota", "area_code": "31.74"}, False),
        ({"area_type": "point", "lat": -6.176, "lon": 106.832, "radius_m": 600}, True),  # ~550 m away
        ({"area_type": "point", "lat": -6.176, "lon": 106.832, "radius_m": 500}, False),
    ],
)
def test_area_matching(sub: dict, ok: bool) -> None:
    assert area_matches(sub, CAM) is ok


@pytest.mark.parametrize(
    ("sub", "hazard", "level", "ok"),
    [
        ({"hazard": "fire", "min_level": "Waspada"}, "fire", Level.WASPADA, True),
        ({"hazard": "fire", "min_level": "Waspada"}, "flood", Level.AWAS, False),
        ({"hazard": None, "min_level": "Siaga"}, "crowd", Level.WASPADA, False),
        ({"hazard": None, "min_level": "Siaga"}, "crowd", Level.SIAGA, True),
        ({"hazard": "fire", "min_level": "Waspada", "active": False}, "fire", Level.AWAS, False),
    ],
)
def test_subscription_matching(sub: dict, hazard: str, level: Level, ok: bool) -> None:
    assert subscription_matches(sub, hazard, level, CAM) is ok


def test_idempotency_key_is_stable_and_distinct() -> None:
    assert idempotency_key("a", 1, "s") == idempotency_key("a", 1, "s")
    assert len({idempotency_key("a", v, s) for v in (1, 2) for s in ("s", "t")}) == 4


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"hazard": "earthquake"}, "hazard"),
        ({"min_level": "merah"}, "level"),
        ({"area_type": None}, "area"),
        ({"area_type": "point", "lat": -6.1, "lon": None, "radius_m": 100}, "point"),
        ({"area_type": "point", "lat": -6.1, "lon": 106.8, "radius_m": 0}, "point"),
        ({"area_type": "kelurahan", "area_code": None}, "code"),
        ({"channel": "webhook", "target": "http://127.0.0.1/x"}, "scheme"),
        ({"channel": "webhook", "target": "https://127.0.0.1/x"}, "non-public"),
        ({"channel": "email", "target": "nobody"}, "address"),
    ],
)
def test_subscription_validation(ops: OpsDB, kwargs: dict, error: str) -> None:
    base = {"name": "x", "channel": "outbox", "target": "t", "area_type": "kota", "area_code": "31.71"}
    with pytest.raises(ValueError, match=error):
        add_subscription(ops, SubscriptionSpec(**{**base, **kwargs}))
    assert list_subscriptions(ops) == []


def test_subscription_crud_and_agency_seed(ops: OpsDB) -> None:
    made = ensure_agency_subscriptions(
        ops,
        {"gulkarmat": ("outbox", "a"), "bpbd": ("outbox", "b"), "satpolpp": ("outbox", "c"), "polisi": ("outbox", "d")},
    )
    assert sorted(s["hazard"] for s in made) == ["crowd", "crowd", "fire", "flood", "panic", "panic", "smoke"]
    assert ensure_agency_subscriptions(ops, {"gulkarmat": ("outbox", "a")}) == []  # idempotent
    web = add_subscription(
        ops,
        SubscriptionSpec(
            name="w", area_type="kota", area_code="31.71", channel="webhook", target="https://93.184.216.34/h"
        ),
    )
    assert web["secret"]  # a signing secret is generated for webhooks
    assert len(list_subscriptions(ops, hazard="fire")) == 2
    assert remove_subscription(ops, web["subscription_id"]) is True
    assert remove_subscription(ops, web["subscription_id"]) is False
    assert len(list_subscriptions(ops)) == 7 and len(list_subscriptions(ops, include_inactive=True)) == 8


def test_cli_ops_round_trip(tmp_path) -> None:
    from rich.console import Console

    from alerts.cli_ops import (
        alerts_ack,
        alerts_dispatch,
        alerts_list,
        alerts_table,
        subscribe_add,
        subscribe_list,
        subscribe_remove,
        subscriptions_table,
    )

    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    sub = subscribe_add(
        url,
        name="Warga Gambir",
        channel="outbox",
        target=str(tmp_path / "out"),
        area_type="point",
        lat=-6.176,
        lon=106.827,
        radius_m=300,
    )
    assert [s["subscription_id"] for s in subscribe_list(url)] == [sub["subscription_id"]]
    ops = OpsDB(url)
    tr = open_alert(ops)
    ops.dispose()
    stats, counts = alerts_dispatch(url, outbox_dir=str(tmp_path / "out"))
    assert stats.sent == 1 and counts == {"sent": 1}
    assert alerts_ack(url, tr.alert_id, actor="lurah").status == "acknowledged"
    console = Console(record=True, width=200)
    console.print(subscriptions_table(subscribe_list(url)))
    console.print(alerts_table(alerts_list(url)))
    out = console.export_text()
    assert "Warga Gambir" in out and "acknowledged" in out
    assert subscribe_remove(url, sub["subscription_id"]) and subscribe_list(url) == []
