"""Outbound deliveries as an attacker would abuse them: DNS rebinding, redirects to internal addresses, the admin
allow-list (the only way to a private target),
targets that turn private after they were checked, replayed and tampered webhooks, and secrets that
must never surface in logs, delivery errors or the lake. Real HTTP receivers on loopback addresses,
real SMTP (aiosmtpd), the real dispatcher and export."""

from __future__ import annotations

import http.server
import ipaddress
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from access.audit import query_audit, verify_audit_chain
from access.roles import AccessDenied, Principal, Role
from alerts import channels
from alerts.allowlist import (
    AllowlistError,
    allow_webhook_target,
    disallow_webhook_target,
    list_webhook_allowlist,
    normalise_entry,
    webhook_policy,
)
from alerts.channels import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ChannelRegistry,
    DeliveryError,
    OutboundMessage,
    SmtpConfig,
    WebhookChannel,
    WebhookPolicy,
    WebhookVerificationError,
    sign_webhook,
    verify_webhook,
)
from alerts.db import OpsDB, deliveries_t, sqlite_url
from alerts.outbox import Dispatcher, RetryPolicy, outbox_counts
from alerts.subscriptions import SubscriptionSpec, add_subscription

MSG = OutboundMessage("idem-1", "d-1", {"alert_id": "a1", "version": 1}, b"<alert/>", "s", "t", ("fire",))


class Receiver:
    """A real HTTP server on ``host`` that records requests and answers ``status`` (with ``location``),
    optionally verifying Pantau signatures as a subscriber's endpoint would (the reference receiver)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, status: int = 200, location: str = "", secret: str = ""
    ) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self.seen: set[str] = set()
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                me.requests.append((headers, body))
                code = status
                if secret:
                    try:
                        me.accepted.append(
                            verify_webhook(headers, body, secret, time.time(), window_s=300, seen=me.seen)
                        )
                    except WebhookVerificationError as exc:
                        me.refused.append(str(exc))
                        code = 401
                self.send_response(code)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Scripted DNS for ``*.example``: each lookup pops the next answer (the last one repeats)."""
    answers: list[list[str]] = []
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not str(host).endswith(".example"):
            return real(host, port, *args, **kwargs)
        ips = answers.pop(0) if len(answers) > 1 else answers[0]
        fam = lambda ip: socket.AF_INET6 if ":" in ip else socket.AF_INET  # noqa: E731
        return [(fam(ip), socket.SOCK_STREAM, 6, "", (ip, int(port))) for ip in ips]

    monkeypatch.setattr(channels.socket, "getaddrinfo", fake)
    return answers


def test_dns_rebinding_connects_to_the_checked_address(resolver: list[list[str]]) -> None:
    checked, rebound = Receiver("127.0.0.1"), None
    try:
        rebound = Receiver("127.0.0.2", checked.port)  # where a second lookup would send the request
        resolver += [["127.0.0.1"], ["127.0.0.2"]]
        policy = WebhookPolicy(("http",), allowlist=("127.0.0.1/32",))
        WebhookChannel(policy).send(MSG, f"http://hooks.example:{checked.port}/hook")
        assert len(checked.requests) == 1 and rebound.requests == []
        assert checked.requests[0][0]["Host"] == f"hooks.example:{checked.port}"
        # an answer mixing a public and a private address is refused outright
        resolver[:] = [["93.184.215.14", "10.0.0.7"]]
        with pytest.raises(DeliveryError, match=r"non-public address 10\.0\.0\.7") as info:
            WebhookChannel(WebhookPolicy(("http",))).send(MSG, f"http://hooks.example:{checked.port}/hook")
        assert info.value.permanent
    finally:
        checked.close()
        if rebound:
            rebound.close()


@pytest.mark.parametrize(
    "ip", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "::1", "::ffff:127.0.0.1", "fd00::1", "0.0.0.0"]
)
def test_non_public_answers_are_refused(resolver: list[list[str]], ip: str) -> None:
    resolver.append([ip])
    with pytest.raises(DeliveryError, match="non-public") as info:
        WebhookChannel(WebhookPolicy(("http", "https"))).send(MSG, "https://hooks.example/hook")
    assert info.value.permanent


def test_redirects_are_not_followed() -> None:
    internal = Receiver("127.0.0.2")  # stands for the cloud metadata service or an internal admin API
    redirecting = Receiver("127.0.0.1", status=302, location=f"http://127.0.0.2:{internal.port}/latest/meta-data")
    try:
        policy = WebhookPolicy(("http",), allowlist=("127.0.0.1/32", "127.0.0.2/32"))
        with pytest.raises(DeliveryError, match="redirects are not followed") as info:
            WebhookChannel(policy).send(MSG, f"http://127.0.0.1:{redirecting.port}/hook")
        assert info.value.permanent
        assert len(redirecting.requests) == 1 and internal.requests == []
    finally:
        internal.close()
        redirecting.close()


def test_allowlist_is_the_way_to_a_private_target(resolver: list[list[str]]) -> None:
    rx = Receiver("127.0.0.1")
    try:
        resolver.append(["127.0.0.1"])
        url = f"http://posko.example:{rx.port}/hook"
        with pytest.raises(DeliveryError, match="non-public"):
            WebhookChannel(WebhookPolicy(("http",))).send(MSG, url)
        for entry in ("127.0.0.0/8", "posko.example"):
            WebhookChannel(WebhookPolicy(("http",), allowlist=(entry,))).send(MSG, url)
        assert len(rx.requests) == 2
        assert WebhookPolicy(allowlist=("127.0.0.0/8",)).allows("x", ipaddress.ip_address("10.0.0.1")) is False
    finally:
        rx.close()


def _ops_with_hook(
    tmp_path: Path, url: str, secret: str, policy: WebhookPolicy, extra: tuple[Any, ...] = ()
) -> tuple[OpsDB, str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
    from alerts_testkit import open_alert

    from alerts.subscriptions import SubscriptionSpec, add_subscription

    ops = OpsDB(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    add_subscription(
        ops,
        SubscriptionSpec(name="Posko", kind="agency", hazard="fire", channel="webhook", target=url, secret=secret),
        webhook_policy=policy,
    )
    for spec in extra:
        add_subscription(ops, spec)
    return ops, open_alert(ops).alert_id


def test_each_delivery_checks_the_target_again(tmp_path: Path, resolver: list[list[str]]) -> None:
    """Public when subscribed, private when delivered (the DNS changed): refused, nothing connects."""
    rx = Receiver("127.0.0.1")
    try:
        resolver += [["93.184.215.14"], ["127.0.0.1"]]
        policy = WebhookPolicy(("http",))
        ops, _ = _ops_with_hook(tmp_path, f"http://hooks.example:{rx.port}/hook", "k" * 32, policy)
        d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=policy), RetryPolicy())
        try:
            stats = d.run_until_idle()
        finally:
            d.close()
        assert stats.dead == 1 and rx.requests == []
        with ops.read() as conn:
            err = conn.execute(sa.select(deliveries_t.c.last_error)).scalar_one()
        assert "non-public address 127.0.0.1" in err
        ops.dispose()
    finally:
        rx.close()


def test_reference_receiver_verifies_signature_timestamp_and_replay() -> None:
    secret = "whsec-" + "a" * 32
    rx = Receiver("127.0.0.1", secret=secret)
    try:
        url = f"http://127.0.0.1:{rx.port}/hook"
        WebhookChannel(WebhookPolicy(("http",), allowlist=("127.0.0.1/32",))).send(MSG, url, secret=secret)
        assert rx.accepted == ["idem-1"] and rx.refused == []
        headers, body = rx.requests[0]
        import requests

        def post(h: dict[str, str], b: bytes) -> int:
            keep = {
                k: v
                for k, v in h.items()
                if k in (SIGNATURE_HEADER, TIMESTAMP_HEADER, IDEMPOTENCY_HEADER, "Content-Type")
            }
            return requests.post(url, data=b, headers=keep, timeout=10).status_code

        assert post(headers, body) == 401 and "replay" in rx.refused[-1]  # the same request again
        assert post(headers, body.replace(b'"a1"', b'"a2"')) == 401 and "signature" in rx.refused[-1]  # tampered
        old = int(time.time()) - 3600
        stale = {**headers, TIMESTAMP_HEADER: str(old), SIGNATURE_HEADER: sign_webhook(body, secret, old)}
        assert post(stale, body) == 401 and "window" in rx.refused[-1]  # an old request, validly signed
        assert (
            post({**headers, SIGNATURE_HEADER: sign_webhook(body, "guess", int(headers[TIMESTAMP_HEADER]))}, body)
            == 401
        )
        assert rx.accepted == ["idem-1"]
    finally:
        rx.close()


def test_planted_secrets_never_reach_logs_errors_or_the_lake(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Webhook key, a token in a webhook URL, SMTP and MQTT passwords, all planted, all deliveries failing."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from alerts.export import export_alerts_to_lake
    from alerts.subscriptions import SubscriptionSpec
    from warehouse.lake import Lake, LakeConfig
    from warehouse.migrations import migrate

    planted = {
        "webhook_secret": "PLANTED-whsec-7f3a9c",
        "url_token": "PLANTED-token-51d2",
        "smtp_password": "PLANTED-smtp-pw-88e1",
        "mqtt_password": "PLANTED-mqtt-pw-c0de",
    }

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        smtp_port = free.getsockname()[1]
    smtp = Controller(
        Handler(), hostname="127.0.0.1", port=smtp_port, auth_require_tls=False,
        authenticator=lambda *a: AuthResult(success=False), auth_exclude_mechanism=["CRAM-MD5"],
    )  # fmt: skip
    smtp.start()
    failing = Receiver("127.0.0.1", status=500)
    caplog.set_level(logging.DEBUG)
    try:
        policy = WebhookPolicy(("http",), allowlist=("127.0.0.1/32",))
        extra = (
            SubscriptionSpec(name="Lurah", kind="agency", hazard="fire", channel="email", target="lurah@kel.example"),
            SubscriptionSpec(
                name="Broker", kind="agency", hazard="fire", channel="mqtt",
                target=f"mqtt://pantau:{planted['mqtt_password']}@127.0.0.1:1",
            ),
        )  # fmt: skip
        url = f"http://127.0.0.1:{failing.port}/hook?token={planted['url_token']}"
        ops, alert_id = _ops_with_hook(tmp_path, url, planted["webhook_secret"], policy, extra)
        from alerts.lifecycle import AlertLifecycle

        AlertLifecycle(ops).cancel(alert_id, "false alarm: test")  # a second round of deliveries to everyone
        registry = ChannelRegistry.default(
            webhook_policy=policy,
            smtp=SmtpConfig(host="127.0.0.1", port=smtp.port, username="pantau", password=planted["smtp_password"]),
            outbox_dir=tmp_path / "outbox",
        )
        d = Dispatcher(ops, registry, RetryPolicy(max_attempts=2, base_s=0.0, max_backoff_s=0.0))
        try:
            d.run_until_idle()
        finally:
            d.close()
            registry.close()
        with ops.read() as conn:
            errors = [tuple(r) for r in conn.execute(sa.select(deliveries_t.c.channel, deliveries_t.c.last_error))]
        assert {c for c, e in errors if e} >= {"webhook", "email", "mqtt"}, errors  # every planted path failed
        lake = Lake(LakeConfig(root=tmp_path / "lake-root"))
        try:
            migrate(lake)
            export_alerts_to_lake(ops, lake)
        finally:
            lake.close()
        from access.audit import query_audit

        audit = json.dumps(query_audit(ops))
        ops.dispose()
    finally:
        smtp.stop()
        failing.close()
    out, err = capfd.readouterr()
    texts = {"log": caplog.text, "stdout": out, "stderr": err, "errors": json.dumps(errors), "audit": audit}
    lake_bytes = b"".join(p.read_bytes() for p in (tmp_path / "lake-root").rglob("*") if p.is_file())
    for name, value in planted.items():
        for where, text in texts.items():
            assert value not in text, f"{name} found in {where}"
        assert value.encode() not in lake_bytes, f"{name} found in the lake"
    assert "PLANTED" not in caplog.text


# -- the admin allow-list: the only way to a private target ------------------------------------------------

ADMIN = Principal("ani", Role.ADMIN, "local")
OPERATOR = Principal("budi", Role.OPERATOR, "local")


@pytest.mark.parametrize(
    ("entry", "stored"),
    [
        ("127.0.0.1", "127.0.0.1/32"),
        ("10.20.3.4/16", "10.20.0.0/16"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("fd00:1::/64", "fd00:1::/64"),
        ("Hooks.BPBD.internal.", "hooks.bpbd.internal"),
        ("0.0.0.0/0", None),  # the whole address space: a switch, not an exception
        ("10.0.0.0/7", None),
        ("::/0", None),
        ("169.254.0.0/16", None),  # holds the cloud metadata address
        ("169.254.169.254/32", None),
        ("fd00:ec2::/64", None),
        ("", None),
        ("http://10.0.0.1/", None),
        ("a b", None),
        ("1.2.3", None),
    ],
)
def test_entries_are_bounded(entry: str, stored: str | None) -> None:
    if stored is None:
        with pytest.raises(AllowlistError):
            normalise_entry(entry)
    else:
        assert normalise_entry(entry) == stored


def test_only_admins_change_it_with_a_reason_and_every_change_is_audited(tmp_path: Path) -> None:
    ops = OpsDB(sqlite_url(str(tmp_path)))
    try:
        with pytest.raises(AccessDenied):
            allow_webhook_target(ops, "10.20.0.0/16", by=OPERATOR, reason="agency LAN")
        with pytest.raises(AllowlistError, match="why"):
            allow_webhook_target(ops, "10.20.0.0/16", by=ADMIN, reason="  ")
        assert list_webhook_allowlist(ops) == [] and query_audit(ops) == []

        allow_webhook_target(ops, "10.20.0.0/16", by=ADMIN, reason="BPBD posko LAN", source="dashboard")
        allow_webhook_target(ops, "10.20.0.0/16", by=ADMIN, reason="again")  # already there: no second row
        with pytest.raises(AccessDenied):
            disallow_webhook_target(ops, "10.20.0.0/16", by=OPERATOR)
        assert disallow_webhook_target(ops, "10.20.0.0/16", by=ADMIN, reason="posko moved")
        assert not disallow_webhook_target(ops, "10.20.0.0/16", by=ADMIN)
        rows = query_audit(ops, target_type="webhook_allowlist")
        assert [(r["action"], r["actor"], r["role"], r["reason"]) for r in rows] == [
            ("webhook_allowlist.remove", "ani", "admin", "posko moved"),
            ("webhook_allowlist.add", "ani", "admin", "BPBD posko LAN"),
        ]
        assert json.loads(rows[1]["after"])["entry"] == "10.20.0.0/16" and rows[1]["source"] == "dashboard"
        assert verify_audit_chain(ops) == 2
    finally:
        ops.dispose()


def test_a_removed_entry_stops_deliveries_at_once(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
    from alerts_testkit import open_alert

    ops = OpsDB(sqlite_url(str(tmp_path)))
    rx = Receiver("127.0.0.1")
    try:
        policy = webhook_policy(ops, allow_http=True)
        hook = SubscriptionSpec(
            name="Posko", kind="agency", hazard="fire", channel="webhook", target=f"http://127.0.0.1:{rx.port}/hook"
        )
        with pytest.raises(ValueError, match="non-public"):
            add_subscription(ops, hook, by=ADMIN, webhook_policy=policy)
        allow_webhook_target(ops, "127.0.0.1/32", by=ADMIN, reason="posko receiver on this host")
        add_subscription(ops, hook, by=ADMIN, webhook_policy=policy)
        channels = ChannelRegistry.default(webhook_policy=policy)  # built once, as a long-lived dispatcher's
        d = Dispatcher(ops, channels, RetryPolicy(max_attempts=1))
        open_alert(ops, camera_id="cam-1")
        assert d.run_until_idle().sent == 1 and len(rx.requests) == 1
        disallow_webhook_target(ops, "127.0.0.1/32", by=ADMIN, reason="posko closed")
        open_alert(ops, camera_id="cam-2")
        d.run_until_idle()
        d.close()
        assert len(rx.requests) == 1
        assert outbox_counts(ops) == {"sent": 1, "dead": 1}
    finally:
        rx.close()
        ops.dispose()


def _pantau(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "PANTAU_DATA_DIR": str(data), "COLUMNS": "200", **env}
    e.pop("PANTAU_OPS_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], env=e, capture_output=True, text=True, timeout=300
    )


def test_no_setting_opens_private_targets_only_the_audited_allowlist(tmp_path: Path) -> None:
    data = tmp_path / "pantau-data"
    rx = Receiver("127.0.0.1")
    try:
        # the removed development switch (and a settings allow-list) are not read: loopback stays refused
        env = {"PANTAU_ALLOW_PRIVATE_WEBHOOKS": "true", "PANTAU_WEBHOOK_ALLOWLIST": '["127.0.0.0/8"]'}
        sub = (
            "subscribe",
            "add",
            "--name",
            "Posko",
            "--channel",
            "webhook",
            "--target",
            f"http://127.0.0.1:{rx.port}/hook",
            "--kind",
            "agency",
        )
        refused = _pantau(data, *sub, PANTAU_ALLOW_HTTP_WEBHOOKS="true", **env)
        assert refused.returncode == 1 and "non-public address 127.0.0.1" in refused.stdout, refused.stdout
        wide = _pantau(data, "webhooks", "allow", "0.0.0.0/0", "--reason", "everything", "--by", "mallory")
        assert wide.returncode == 1 and "wider than /8" in wide.stdout
        allowed = _pantau(data, "webhooks", "allow", "127.0.0.1", "--reason", "posko on loopback", "--by", "ani")
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
        assert _pantau(data, *sub, PANTAU_ALLOW_HTTP_WEBHOOKS="true").returncode == 0
        listed = _pantau(data, "webhooks", "list").stdout
        assert "127.0.0.1/32" in listed and "posko on loopback" in listed
        audit = json.loads(_pantau(data, "audit", "--format", "json").stdout)
        assert [r["action"] for r in audit] == ["subscription.add", "webhook_allowlist.add"]
        assert audit[1]["actor"] == "ani" and audit[1]["target_id"] == "127.0.0.1/32"
        assert audit[1]["reason"] == "posko on loopback" and audit[1]["role"] == "admin"
    finally:
        rx.close()
