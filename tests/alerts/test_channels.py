from __future__ import annotations

import email
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alerts_testkit import T0, WebhookReceiver, loopback, open_alert

from alerts.cap import validate_cap
from alerts.channels import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ChannelRegistry,
    SmtpConfig,
    WebhookPolicy,
    WebhookVerificationError,
    mqtt_topic,
    sign_webhook,
    validate_webhook_url,
    verify_webhook,
)
from alerts.db import OpsDB
from alerts.outbox import Dispatcher, RetryPolicy, outbox_counts
from alerts.subscriptions import SubscriptionSpec, add_subscription

SECRET = "s3cret-for-tests"
LOOPBACK_ALLOWED = WebhookPolicy(allowed_schemes=("http", "https"), allowlist=("127.0.0.1/32",))


def _headers(body: bytes, ts: int, secret: str = SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign_webhook(body, secret, ts), TIMESTAMP_HEADER: str(ts), IDEMPOTENCY_HEADER: "k1"}


@pytest.mark.parametrize(
    ("case", "ok"),
    [
        ("valid", True),
        ("tampered", False),
        ("wrong_secret", False),
        ("old", False),
        ("future", False),
        ("missing", False),
    ],
)
def test_verify_webhook(case: str, ok: bool) -> None:
    now = 1_800_000_000
    body = b'{"alert_id": "a", "level": "Siaga"}'
    headers = _headers(body, now - 10)
    if case == "tampered":
        body = body.replace(b"Siaga", b"Awas")
    elif case == "wrong_secret":
        headers = _headers(body, now - 10, "other")
    elif case == "old":
        headers = _headers(body, now - 301)  # replay of a request older than the window
    elif case == "future":
        headers = _headers(body, now + 301)
    elif case == "missing":
        headers = {IDEMPOTENCY_HEADER: "k1"}
    if ok:
        assert verify_webhook(headers, body, SECRET, now) == "k1"
    else:
        with pytest.raises(WebhookVerificationError):
            verify_webhook(headers, body, SECRET, now)


def test_verify_webhook_rejects_replay_inside_window() -> None:
    now, body, seen = 1_800_000_000, b"{}", set()
    h = _headers(body, now)
    verify_webhook(h, body, SECRET, now, seen=seen)
    with pytest.raises(WebhookVerificationError, match="replay"):
        verify_webhook(h, body, SECRET, now + 1, seen=seen)


@pytest.mark.parametrize(
    ("url", "policy", "ok"),
    [
        ("https://93.184.216.34/hook", WebhookPolicy(), True),
        ("http://93.184.216.34/hook", WebhookPolicy(), False),  # scheme not allowed
        ("ftp://93.184.216.34/hook", LOOPBACK_ALLOWED, False),
        ("https://127.0.0.1/hook", WebhookPolicy(), False),  # loopback refused
        ("https://localhost/hook", WebhookPolicy(), False),
        ("https://10.1.2.3/hook", WebhookPolicy(), False),  # private
        ("https://192.168.1.10/hook", WebhookPolicy(), False),
        ("https://169.254.169.254/latest/meta-data", WebhookPolicy(), False),  # link-local (cloud metadata)
        ("https://[::1]/hook", WebhookPolicy(), False),
        ("https://user:pw@93.184.216.34/hook", WebhookPolicy(), False),
        ("http://127.0.0.1:8080/hook", LOOPBACK_ALLOWED, True),  # on the allow-list
    ],
)
def test_validate_webhook_url(url: str, policy: WebhookPolicy, ok: bool) -> None:
    if ok:
        validate_webhook_url(url, policy)
    else:
        with pytest.raises(ValueError):
            validate_webhook_url(url, policy)


def _dispatch(ops: OpsDB, **registry_kwargs: Any) -> Any:
    channels = ChannelRegistry.default(webhook_policy=loopback(ops), **registry_kwargs)
    d = Dispatcher(ops, channels, RetryPolicy(max_attempts=3, base_s=0.05), concurrency=2)
    try:
        return d.run_until_idle()
    finally:
        d.close()
        channels.close()


@pytest.mark.parametrize("fmt", ["json", "cap"])
def test_webhook_signed_delivery_verified_by_receiver(ops: OpsDB, fmt: str) -> None:
    with WebhookReceiver(secret=SECRET) as rx:
        add_subscription(
            ops,
            SubscriptionSpec(
                name="Gulkarmat",
                kind="agency",
                hazard="fire",
                channel="webhook",
                target=rx.url,
                format=fmt,
                secret=SECRET,
            ),
            webhook_policy=loopback(ops),
        )
        tr = open_alert(ops)
        stats = _dispatch(ops)
        assert stats.sent == 1 and rx.rejected == []
        ((key, body),) = rx.accepted.items()
        headers, _ = rx.requests[0]
        if fmt == "cap":
            assert headers["Content-Type"] == "application/cap+xml"
            validate_cap(body)
        else:
            payload = json.loads(body)
            assert payload["alert_id"] == tr.alert_id and payload["idempotency_key"] == key
        # a tampered copy and a replayed copy of the same request are rejected by the receiver
        assert rx.handle({**headers, IDEMPOTENCY_HEADER: "x"}, body + b" ") == 401
        old = int(time.time()) - 3600
        assert (
            rx.handle({**headers, TIMESTAMP_HEADER: str(old), SIGNATURE_HEADER: sign_webhook(body, SECRET, old)}, body)
            == 401
        )
        assert len(rx.rejected) == 2


def test_email_with_cap_attachment(ops: OpsDB) -> None:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        add_subscription(
            ops,
            SubscriptionSpec(
                name="Lurah Gambir",
                area_type="kelurahan",
                area_code="31.71.01.1001",
                channel="email",
                target="lurah.gambir@jakarta.go.id",
            ),
        )
        open_alert(ops)
        stats = _dispatch(ops, smtp=SmtpConfig(host="127.0.0.1", port=port))
        assert stats.sent == 1
    finally:
        ctl.stop()
    (env,) = received
    assert env.rcpt_tos == ["lurah.gambir@jakarta.go.id"]
    msg = email.message_from_bytes(env.content)
    assert "Gambir" in msg["Subject"]
    caps = [p for p in msg.walk() if p.get_content_type() == "application/cap+xml"]
    assert len(caps) == 1 and caps[0].get_filename().endswith(".xml")
    validate_cap(caps[0].get_payload(decode=True))


@pytest.mark.services
def test_mqtt_real_mosquitto_subscriber_receives(ops: OpsDB) -> None:
    import paho.mqtt.client as mqtt

    got: list[mqtt.MQTTMessage] = []
    ready = threading.Event()
    arrived = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="pantau-test-sub")

    def on_connect(client: Any, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        client.subscribe("pantau/alerts/#", qos=1)

    def on_subscribe(*_a: Any) -> None:
        ready.set()

    def on_message(client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        got.append(msg)
        arrived.set()

    sub.on_connect, sub.on_subscribe, sub.on_message = on_connect, on_subscribe, on_message
    try:
        sub.connect("127.0.0.1", 1883)
    except OSError as exc:
        pytest.skip(f"no Mosquitto on 127.0.0.1:1883: {exc}")
    sub.loop_start()
    try:
        assert ready.wait(10)
        add_subscription(
            ops,
            SubscriptionSpec(
                name="BPBD", kind="agency", hazard="flood", channel="mqtt", target="mqtt://127.0.0.1:1883"
            ),
        )
        tr = open_alert(ops, camera_id="cam-flood", hazard="flood")
        assert _dispatch(ops).sent == 1
        assert arrived.wait(10)
    finally:
        sub.loop_stop()
        sub.disconnect()
    msg = got[0]
    assert (
        msg.topic
        == mqtt_topic(("flood", "31.71", "31.71.01", "31.71.01.1001"))
        == "pantau/alerts/flood/31.71/31.71.01/31.71.01.1001"
    )
    assert msg.qos == 1
    assert json.loads(msg.payload)["alert_id"] == tr.alert_id


def test_apprise_url_to_loopback_json_service(ops: OpsDB) -> None:
    with WebhookReceiver() as rx:
        target = rx.url.replace("http://", "json://")
        add_subscription(
            ops,
            SubscriptionSpec(
                name="Warga", area_type="point", lat=-6.176, lon=106.828, radius_m=500, channel="apprise", target=target
            ),
        )
        open_alert(ops)
        assert _dispatch(ops).sent == 1
    body = json.loads(rx.requests[0][1])
    assert "Gambir" in body["title"] and "Siaga" in body["title"]


def test_apprise_failure_is_retried_then_dead(ops: OpsDB) -> None:
    with WebhookReceiver(fail_first=100) as rx:
        add_subscription(
            ops,
            SubscriptionSpec(
                name="Warga",
                area_type="kota",
                area_code="31.71",
                channel="apprise",
                target=rx.url.replace("http://", "json://"),
            ),
        )
        open_alert(ops)
        from datetime import timedelta

        from alerts.models import utcnow

        channels = ChannelRegistry.default(webhook_policy=loopback(ops))
        d = Dispatcher(ops, channels, RetryPolicy(max_attempts=2))
        for i in range(3):
            d.run_once(now=utcnow() + timedelta(hours=i + 1))
        d.close()
    assert outbox_counts(ops) == {"dead": 1}


def test_outbox_folder_channel_is_idempotent(ops: OpsDB, tmp_path: Path) -> None:
    folder = tmp_path / "outbox" / "gulkarmat"
    add_subscription(
        ops, SubscriptionSpec(name="Gulkarmat", kind="agency", hazard="fire", channel="outbox", target=str(folder))
    )
    open_alert(ops)
    assert _dispatch(ops).sent == 1
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 2 and files[0].endswith(".cap.xml") and files[1].endswith(".json")
    validate_cap((folder / files[0]).read_bytes())
    # a redelivery (e.g. after a crash) overwrites the same files instead of adding new ones
    from alerts.channels import OutboxFolderChannel
    from alerts.outbox import _message

    channels = ChannelRegistry.default(webhook_policy=loopback(ops))
    d = Dispatcher(ops, channels)
    from alerts.db import deliveries_t

    with ops.begin() as conn:
        conn.execute(deliveries_t.update().values(state="pending", next_attempt_at=T0))
    rows = d.claim()
    OutboxFolderChannel().send(_message(rows[0]), str(folder))
    assert sorted(p.name for p in folder.iterdir()) == files
    d.close()
