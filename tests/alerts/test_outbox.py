from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alerts_testkit import WebhookReceiver, loopback, open_alert

from alerts.channels import ChannelRegistry, WebhookPolicy
from alerts.db import OpsDB, deliveries_t
from alerts.models import utcnow
from alerts.outbox import Dispatcher, RetryPolicy, outbox_counts
from alerts.subscriptions import SubscriptionSpec, add_subscription, list_subscriptions

SECRET = "outbox-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _deliveries(ops: OpsDB) -> list[dict]:
    with ops.read() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(deliveries_t))]


@pytest.mark.parametrize("attempts", [1, 2, 5, 8, 20])
def test_backoff_grows_exponentially_with_jitter_and_is_capped(attempts: int) -> None:
    p = RetryPolicy(base_s=2.0, factor=2.0, max_backoff_s=300.0)
    rng = random.Random(attempts)
    delays = [p.backoff(attempts, rng) for _ in range(200)]
    exp = min(300.0, 2.0 * 2.0 ** (attempts - 1))
    assert all(0.5 * exp <= d <= exp for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered


def test_endpoint_down_retries_then_dead_letter(ops: OpsDB) -> None:
    url = f"http://127.0.0.1:{_free_port()}/hook"  # nothing listens there
    add_subscription(
        ops,
        SubscriptionSpec(name="Gulkarmat", kind="agency", hazard="fire", channel="webhook", target=url),
        webhook_policy=loopback(ops),
    )
    open_alert(ops)
    policy = RetryPolicy(max_attempts=4, base_s=10.0)
    d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=loopback(ops)), policy, seed=1)
    history = []
    clock = utcnow()
    for _ in range(6):
        st = d.run_once(now=clock)
        (row,) = _deliveries(ops)
        history.append((st.claimed, row["state"], row["attempts"]))
        if row["state"] == "failed":
            # not due before its backoff: a claim just before it finds nothing
            assert d.claim(now=row["next_attempt_at"] - timedelta(seconds=0.5)) == []
            clock = row["next_attempt_at"] + timedelta(seconds=0.001)
    d.close()
    assert history[:4] == [(1, "failed", 1), (1, "failed", 2), (1, "failed", 3), (1, "dead", 4)]
    assert history[4:] == [(0, "dead", 4), (0, "dead", 4)]  # dead letters are never claimed again
    (row,) = _deliveries(ops)
    assert "unreachable" in row["last_error"]


def test_flaky_endpoint_delivers_after_retries(ops: OpsDB) -> None:
    with WebhookReceiver(secret=SECRET, fail_first=2) as rx:
        add_subscription(
            ops,
            SubscriptionSpec(
                name="BPBD", kind="agency", hazard="fire", channel="webhook", target=rx.url, secret=SECRET
            ),
            webhook_policy=loopback(ops),
        )
        open_alert(ops)
        d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=loopback(ops)), RetryPolicy(max_attempts=5))
        for i in range(4):
            d.run_once(now=utcnow() + timedelta(hours=i))
        d.close()
    (row,) = _deliveries(ops)
    assert (row["state"], row["attempts"]) == ("sent", 3)
    assert len(rx.accepted) == 1 and rx.rejected == []


def test_permanent_error_goes_straight_to_dead_letter(ops: OpsDB) -> None:
    with WebhookReceiver(fail_first=10, status_when_failing=410) as rx:
        add_subscription(
            ops,
            SubscriptionSpec(name="X", kind="agency", hazard="fire", channel="webhook", target=rx.url),
            webhook_policy=loopback(ops),
        )
        open_alert(ops)
        d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=loopback(ops)))
        d.run_once()
        d.close()
    assert outbox_counts(ops) == {"dead": 1}


def test_refused_target_is_dead_lettered_at_send_time(ops: OpsDB) -> None:
    add_subscription(
        ops,
        SubscriptionSpec(name="X", kind="agency", hazard="fire", channel="webhook", target="http://127.0.0.1:9/hook"),
        webhook_policy=loopback(ops),
    )
    open_alert(ops)
    d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=WebhookPolicy()))  # production policy
    d.run_once()
    d.close()
    (row,) = _deliveries(ops)
    assert row["state"] == "dead" and "not allowed" in row["last_error"]


DISPATCH_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from alerts.allowlist import webhook_policy
    from alerts.channels import ChannelRegistry
    from alerts.db import OpsDB
    from alerts.outbox import Dispatcher, RetryPolicy
    ops = OpsDB(sys.argv[1])
    d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=webhook_policy(ops, allow_http=True)),
                   RetryPolicy(claim_lease_s=3600), worker_id="doomed", concurrency=1)
    print("started", flush=True)
    d.run_forever(threading.Event(), poll_s=0.05, limit=5)
    """
)


def test_restart_during_delivery_delivers_everything_once_per_key(ops: OpsDB, tmp_path: Path) -> None:
    n_subs, n_alerts = 5, 6
    with WebhookReceiver(secret=SECRET, delay_s=0.03) as rx:
        for i in range(n_subs):
            add_subscription(
                ops,
                SubscriptionSpec(
                    name=f"sub{i}", kind="agency", hazard="fire", channel="webhook", target=rx.url, secret=SECRET
                ),
                webhook_policy=loopback(ops),
            )
        for i in range(n_alerts):
            open_alert(ops, camera_id=f"cam-{i}")
        keys = {r["idempotency_key"] for r in _deliveries(ops)}
        assert len(keys) == n_subs * n_alerts
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.Popen(
            [sys.executable, "-c", DISPATCH_SCRIPT, ops.url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 60
            while len(rx.accepted) < 8 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)  # crash mid-delivery: no chance to record anything
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        delivered_before = len(rx.accepted)
        assert 0 < delivered_before < len(keys)
        states = outbox_counts(ops)
        assert states.get("sent", 0) < len(keys)  # some rows were sent but not yet recorded, or unsent
        # restart: a new dispatcher; rows claimed by the dead one come back once their lease expires
        d = Dispatcher(
            ops, ChannelRegistry.default(webhook_policy=loopback(ops)), RetryPolicy(claim_lease_s=60), worker_id="fresh"
        )
        d.run_until_idle(limit=50)
        assert outbox_counts(ops).get("sent", 0) < len(keys)  # the doomed worker's leased rows still wait
        d.run_once(now=utcnow() + timedelta(hours=2), limit=100)  # ... until its lease (1 h) has run out
        d.close()
    assert outbox_counts(ops) == {"sent": len(keys)}
    assert set(rx.accepted) == keys  # every delivery happened
    assert rx.rejected == []
    dupes = {k: c for k, c in rx.raw_keys.items() if c > 1}
    # at-least-once: only rows in flight at the crash (claim batch of 5) can arrive twice, same key
    assert len(dupes) <= 5 and all(c == 2 for c in dupes.values())


def test_concurrent_subscription_writers_sqlite(ops: OpsDB) -> None:
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            db = OpsDB(ops.url)
            for j in range(10):
                add_subscription(
                    db,
                    SubscriptionSpec(
                        name=f"w{i}-{j}", area_type="kota", area_code="31.71", channel="outbox", target="x"
                    ),
                )
            db.dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list_subscriptions(ops)) == 40


@pytest.mark.services
def test_postgres_dispatchers_share_outbox_with_skip_locked(pg_url: str) -> None:
    ops = OpsDB(pg_url)
    try:
        with WebhookReceiver(secret=SECRET, delay_s=0.005) as rx:
            for i in range(4):
                add_subscription(
                    ops,
                    SubscriptionSpec(
                        name=f"s{i}", kind="agency", hazard="fire", channel="webhook", target=rx.url, secret=SECRET
                    ),
                    webhook_policy=loopback(ops),
                )
            for i in range(10):
                open_alert(ops, camera_id=f"pg-cam-{i}")
            stats = []

            def run(worker: str) -> None:
                db = OpsDB(pg_url, create=False)
                d = Dispatcher(
                    db, ChannelRegistry.default(webhook_policy=loopback(db)), worker_id=worker, concurrency=2
                )
                stats.append(d.run_until_idle(limit=3))
                d.close()
                db.dispose()

            threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert outbox_counts(ops) == {"sent": 40}
        assert len(rx.accepted) == 40 and max(rx.raw_keys.values()) == 1  # never claimed twice
        assert sum(s.sent for s in stats) == 40 and sum(1 for s in stats if s.sent > 0) >= 2  # shared work
    finally:
        ops.dispose()


@pytest.mark.services
def test_postgres_lifecycle_dedup_under_concurrent_writers(pg_url: str) -> None:
    """Two writers racing to open the same camera+hazard: the unique dedup key keeps one alert."""
    from alerts.lifecycle import list_alerts

    ops = OpsDB(pg_url)
    results: list[object] = []

    def opener() -> None:
        db = OpsDB(pg_url, create=False)
        try:
            results.append(open_alert(db, camera_id="race"))
        except sa.exc.IntegrityError as exc:
            results.append(exc)
        db.dispose()

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([a for a in list_alerts(ops) if a["camera_id"] == "race"]) == 1
    ops.dispose()
