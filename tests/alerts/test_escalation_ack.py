"""Escalation and outside acknowledgement end to end: a real outbox dispatcher delivers to loopback webhook
receivers, an unacknowledged Awas escalates to the next tier (repeat delivery), and the recipient acknowledges
through the signed link of its delivery on the real API server; tampered, expired and replayed links are refused
with a clear error and change nothing. The public feeds are served by the same server and validated (CAP XSD)."""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from alerts_testkit import WebhookReceiver, loopback, open_alert
from lxml import etree

from alerts.ack import AckClaims, make_ack_token
from alerts.cap import ATOM_NS, validate_cap
from alerts.channels import ChannelRegistry
from alerts.db import OpsDB, alerts_t, deliveries_t, transitions_t
from alerts.escalation import EscalationPolicy, escalate_due
from alerts.export import publish_cap_and_feed
from alerts.http import alert_routes
from alerts.outbox import Dispatcher, RetryPolicy
from alerts.subscriptions import SubscriptionSpec, add_subscription
from open_data.api import ApiServer
from warehouse.object_store import LocalObjectStore

SECRET = "test-ack-secret"
# escalation runs on the wall clock from the first delivery: alerts of these tests open now
T0 = datetime.now(UTC).replace(microsecond=0)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _state(ops: OpsDB, alert_id: str) -> tuple[Any, ...]:
    with ops.read() as conn:
        a = conn.execute(sa.select(alerts_t).where(alerts_t.c.alert_id == alert_id)).one()
        n = conn.execute(sa.select(sa.func.count()).where(transitions_t.c.alert_id == alert_id)).scalar()
    return a.status, a.version, a.acknowledged_by, n


def _bodies(rx: WebhookReceiver) -> list[dict[str, Any]]:
    return [json.loads(b) for _h, b in rx.requests]


def test_escalation_and_link_acknowledgement_end_to_end(ops: OpsDB, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    port = _port()
    base = f"http://127.0.0.1:{port}"
    with WebhookReceiver() as duty, WebhookReceiver() as chief:
        add_subscription(
            ops,
            SubscriptionSpec(name="Gulkarmat piket", kind="agency", hazard="fire", channel="webhook", target=duty.url),
            webhook_policy=loopback(ops),
        )
        add_subscription(
            ops,
            SubscriptionSpec(name="Kepala Gulkarmat", kind="agency", hazard="fire", channel="webhook",
                             target=chief.url, escalation_tier=1),
            webhook_policy=loopback(ops),
        )  # fmt: skip
        tr = open_alert(ops, level="Awas", at=T0)
        from alerts.ack import AckLinks

        links = AckLinks(SECRET, base, ttl=timedelta(hours=1))
        d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=loopback(ops)), RetryPolicy(), ack_links=links)
        try:
            d.run_until_idle()
            first = _bodies(duty)
            assert len(first) == 1 and not chief.requests  # tier 1 hears nothing yet
            assert first[0]["ack_url"].startswith(f"{base}/alerts/{tr.alert_id}/ack?token=")

            # not acknowledged within Awas's 300 s: escalate to tier 1 (repeat to the duty officer + the chief)
            policy = EscalationPolicy()
            with ops.read() as conn:  # the clock starts when the recipients were told
                told = conn.execute(sa.select(sa.func.min(deliveries_t.c.created_at))).scalar()
            assert escalate_due(ops, now=told + timedelta(seconds=299), policy=policy) == []
            up = escalate_due(ops, now=told + timedelta(seconds=301), policy=policy)
            assert [(e.alert_id, e.level) for e in up] == [(tr.alert_id, "Awas")]
            d.run_until_idle()
            assert len(_bodies(duty)) == 2 and len(_bodies(chief)) == 1
            repeat = _bodies(duty)[1]
            assert repeat["evidence"]["escalation_tier"] == 1 and repeat["msg_type"] == "Update"
            assert repeat["ack_url"] != first[0]["ack_url"]  # each delivery has its own one-time link
            validate_cap(repeat_cap(ops, tr.alert_id))
        finally:
            d.close()

        routes = alert_routes(store, ops=ops, ack_secret=SECRET)
        with ApiServer(store, port, extra_routes=routes) as api:
            url = _bodies(chief)[0]["ack_url"]
            before = _state(ops, tr.alert_id)
            # tampered: one character of the signature changed
            bad = url[:-1] + ("A" if url[-1] != "A" else "B")
            r = requests.post(bad, timeout=10)
            assert r.status_code == 403 and r.json()["error"] == "tampered" and "signature" in r.json()["message"]
            # tampered: a link of this alert replayed against another alert
            other = url.replace(f"/alerts/{tr.alert_id}/", "/alerts/someotheralert/")
            assert requests.post(other, timeout=10).json()["error"] == "tampered"
            # expired: a correctly signed token past its expiry
            old = make_ack_token(
                SECRET, AckClaims(tr.alert_id, "x", "old-delivery", int((T0 - timedelta(hours=1)).timestamp()))
            )
            r = requests.post(f"{api.url}/alerts/{tr.alert_id}/ack", params={"token": old}, timeout=10)
            assert r.status_code == 410 and r.json()["error"] == "expired"
            assert _state(ops, tr.alert_id) == before  # refusals change nothing

            r = requests.post(url, timeout=10)
            assert r.status_code == 200, r.text
            assert r.json()["acknowledged"] is True and r.json()["by"] == "Kepala Gulkarmat"
            status, _v, by, n = _state(ops, tr.alert_id)
            assert (status, by, n) == ("acknowledged", "Kepala Gulkarmat", before[3] + 1)

            # replayed: the same link again
            after = _state(ops, tr.alert_id)
            r = requests.post(url, timeout=10)
            assert r.status_code == 409 and r.json()["error"] == "replayed"
            assert _state(ops, tr.alert_id) == after

        # acknowledged: no further escalation, however long it waits
        assert escalate_due(ops, now=T0 + timedelta(hours=5)) == []


def repeat_cap(ops: OpsDB, alert_id: str) -> bytes:
    with ops.read() as conn:
        xml = (
            conn.execute(
                sa.select(transitions_t.c.cap_xml)
                .where(transitions_t.c.alert_id == alert_id, transitions_t.c.cap_xml.is_not(None))
                .order_by(transitions_t.c.version.desc())
            )
            .scalars()
            .first()
        )
    return xml.encode()


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _check_atom(feed: Any) -> None:
    """RFC 4287's rules for a feed and its entries: exactly one id, title and updated each (RFC 3339 dates, ids
    absolute IRIs, unique per entry), an author for the feed, a link for each entry, nothing but Atom children."""
    a = f"{{{ATOM_NS}}}"
    assert feed.tag == f"{a}feed"

    def one(el: Any, name: str) -> str:
        found = el.findall(f"{a}{name}")
        assert len(found) == 1, (name, len(found))
        return (found[0].text or "").strip()

    def common(el: Any) -> str:
        ident = one(el, "id")
        assert re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", ident), ident  # an absolute IRI
        assert one(el, "title")
        updated = one(el, "updated")
        assert RFC3339.match(updated), updated
        datetime.fromisoformat(updated.replace("Z", "+00:00"))
        return ident

    common(feed)
    assert feed.find(f"{a}author/{a}name") is not None
    ids = []
    for e in feed.findall(f"{a}entry"):
        ids.append(common(e))
        links = e.findall(f"{a}link")
        assert links and all(re.match(r"^https?://", ln.get("href", "")) for ln in links)
    assert len(ids) == len(set(ids))
    allowed = {f"{a}{n}" for n in ("id", "title", "updated", "link", "author", "entry", "subtitle", "category")}
    assert {c.tag for c in feed} <= allowed


def test_feeds_and_map_are_served(ops: OpsDB, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    port = _port()
    base = f"http://127.0.0.1:{port}/"
    fire = open_alert(ops, level="Siaga", at=T0)
    flood = open_alert(ops, camera_id="cam-flood", hazard="flood", level="Awas", at=T0 + timedelta(seconds=5))
    out = publish_cap_and_feed(ops, store, base_url=base, now=T0 + timedelta(minutes=1))
    assert out["active"] == 2
    with ApiServer(store, port, extra_routes=alert_routes(store)) as api:
        r = requests.get(f"{api.url}/alerts/feed.atom", timeout=10)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
        feed = etree.fromstring(r.content)
        a = f"{{{ATOM_NS}}}"
        _check_atom(feed)
        entries = feed.findall(f"{a}entry")
        assert len(entries) == 2
        for e in entries:
            href = e.find(f"{a}link").get("href")
            assert href.startswith(f"{api.url}/alerts/") and href.endswith(".cap.xml")
            cap = requests.get(href, timeout=10)  # every entry links to a served, XSD-valid CAP message
            assert cap.status_code == 200 and cap.headers["content-type"].startswith("application/cap+xml")
            validate_cap(cap.content)
        for t in (fire, flood):
            cap = requests.get(f"{api.url}/alerts/{t.alert_id}.cap.xml", timeout=10)
            validate_cap(cap.content)
            assert t.cap_identifier.encode() in cap.content
        assert requests.get(f"{api.url}/alerts/nope.cap.xml", timeout=10).status_code == 404
        assert requests.get(f"{api.url}/alerts/..%2Fsecret.cap.xml", timeout=10).status_code == 404
        geo = requests.get(f"{api.url}/alerts/active.geojson", timeout=10).json()
        levels = sorted(f["properties"]["level"] for f in geo["features"])
        assert levels == ["Awas", "Siaga"]
        text = json.dumps(geo)
        assert "keyframe" not in text and ".jpg" not in text  # no imagery on the public map
        page = requests.get(f"{api.url}/alerts/map", timeout=10)
        assert page.status_code == 200 and "/alerts/active.geojson" in page.text and "<img" not in page.text
        # acknowledgement is refused clearly when the server has no ops DB / secret configured
        r = requests.post(f"{api.url}/alerts/{fire.alert_id}/ack", params={"token": "x.y"}, timeout=10)
        assert r.status_code == 503 and r.json()["error"] == "unavailable"


@pytest.mark.parametrize("level", ["Siaga", "Waspada"])
def test_each_level_has_its_own_acknowledgement_time(ops: OpsDB, level: str) -> None:
    open_alert(ops, level=level, at=T0)
    limit = EscalationPolicy().ack_within_s[level]
    assert escalate_due(ops, now=T0 + timedelta(seconds=limit - 1)) == []
    assert len(escalate_due(ops, now=T0 + timedelta(seconds=limit + 1))) == 1
