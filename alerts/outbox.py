"""The delivery outbox dispatcher: claim due rows, send, record the outcome.

At-least-once: a row is claimed with a lease (``next_attempt_at`` pushed forward and
``claimed_by`` set) in a short transaction, sent outside any transaction, then marked sent. A
dispatcher that dies after sending leaves the row to be re-claimed when its lease expires, so
the message may arrive twice — with the same idempotency key, which receivers de-duplicate on.
Failures back off exponentially with jitter; after ``max_attempts`` (or a permanent error)
the row is dead-lettered. PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` so many
dispatchers can share the outbox; SQLite serialises claims (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from alerts.ack import AckLinks
from alerts.channels import ChannelRegistry, DeliveryError, OutboundMessage
from alerts.db import OpsDB, deliveries_t, subscriptions_t, transitions_t
from alerts.models import utcnow

log = logging.getLogger(__name__)

DUE_STATES = ("pending", "failed")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 2.0
    factor: float = 2.0
    max_backoff_s: float = 900.0
    claim_lease_s: float = 120.0

    def backoff(self, attempts: int, rng: random.Random | None = None) -> float:
        """Delay before attempt ``attempts + 1``: exponential, capped, with 50-100 % jitter."""
        exp = min(self.max_backoff_s, self.base_s * self.factor ** max(0, attempts - 1))
        return exp * (0.5 + 0.5 * (rng or random).random())


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    lost_lease: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DispatchStats) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.lost_lease += other.lost_lease
        self.errors.extend(other.errors[:20])


def _message(row: Mapping[str, Any], ack_links: AckLinks | None = None) -> OutboundMessage:
    payload = json.loads(row["payload"] or "{}")
    closed = payload.get("status") in ("resolved", "cancelled")
    if ack_links is not None and not closed:
        # a signed, expiring, one-time link for this recipient and this delivery (alerts/ack.py)
        payload["ack_url"] = ack_links.url(str(row["alert_id"]), str(row["subscriber_id"]), str(row["delivery_id"]))
    cam = payload.get("camera") or {}
    place = cam.get("kelurahan") or cam.get("kecamatan") or cam.get("camera_id") or ""
    status = payload.get("status")
    verb = {"resolved": "SELESAI", "cancelled": "DIBATALKAN"}.get(str(status), str(payload.get("level")))
    subject = f"[Pantau] {verb} {payload.get('hazard')} - {place}".strip()
    text = (
        f"{subject}\n"
        f"Status: {status}, level: {payload.get('level')}, versi/version {payload.get('version')}\n"
        f"{payload.get('reason')}\n"
        f"Kamera/camera: {cam.get('camera_id')} {cam.get('name') or ''}\n"
        f"Lokasi/location: {cam.get('kelurahan') or ''}, {cam.get('kecamatan') or ''}, {cam.get('kota') or ''}\n"
        f"CAP: {payload.get('cap_identifier')}\n"
    )
    if payload.get("ack_url"):
        text += f"Konfirmasi penanganan/acknowledge (POST): {payload['ack_url']}\n"
    return OutboundMessage(
        idempotency_key=row["idempotency_key"],
        delivery_id=row["delivery_id"],
        alert=payload,
        cap_xml=(row["cap_xml"] or "").encode(),
        subject=subject,
        text=text,
        topic_parts=(
            str(payload.get("hazard")),
            str(cam.get("kota_code") or "unknown"),
            str(cam.get("kecamatan_code") or "unknown"),
            str(cam.get("kelurahan_code") or "unknown"),
        ),
    )


class Dispatcher:
    def __init__(
        self,
        ops: OpsDB,
        channels: ChannelRegistry,
        policy: RetryPolicy = RetryPolicy(),
        *,
        worker_id: str | None = None,
        concurrency: int = 4,
        seed: int | None = None,
        ack_links: AckLinks | None = None,
    ) -> None:
        self.ops = ops
        self.ack_links = ack_links
        self.channels = channels
        self.policy = policy
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self.concurrency = max(1, concurrency)
        self._rng = random.Random(seed)
        self._pool = (
            ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="pantau-deliver")
            if self.concurrency > 1
            else None
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    # -- claim -------------------------------------------------------------------------
    def claim(self, limit: int = 100, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        d, t, s = deliveries_t, transitions_t, subscriptions_t
        with self.ops.begin() as conn:
            q = (
                sa.select(d.c.delivery_id)
                .where(d.c.state.in_(DUE_STATES), d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at, d.c.created_at)
                .limit(limit)
            )
            if self.ops.is_postgres:
                q = q.with_for_update(skip_locked=True)
            ids = list(conn.execute(q).scalars())
            if not ids:
                return []
            lease = now + timedelta(seconds=self.policy.claim_lease_s)
            conn.execute(
                sa.update(d).where(d.c.delivery_id.in_(ids)).values(claimed_by=self.worker_id, next_attempt_at=lease)
            )
            rows = conn.execute(
                sa.select(
                    d,
                    t.c.payload,
                    t.c.cap_xml,
                    s.c.target,
                    s.c.format,
                    s.c.secret,
                    s.c.active.label("subscription_active"),
                )
                .join(t, sa.and_(t.c.alert_id == d.c.alert_id, t.c.version == d.c.version))
                .join(s, s.c.subscription_id == d.c.subscriber_id)
                .where(d.c.delivery_id.in_(ids))
            ).all()
        return [dict(r._mapping) for r in rows]

    # -- send --------------------------------------------------------------------------
    def _send(self, row: Mapping[str, Any]) -> tuple[str, str | None, bool]:
        """Returns (delivery_id, error or None, permanent)."""
        if not row["subscription_active"]:
            return row["delivery_id"], "subscription removed", True
        try:
            self.channels.get(row["channel"]).send(
                _message(row, self.ack_links), row["target"], fmt=row["format"] or "json", secret=row["secret"]
            )
            return row["delivery_id"], None, False
        except DeliveryError as exc:
            return row["delivery_id"], str(exc)[:1000], exc.permanent
        except Exception as exc:  # a channel bug must not kill the dispatcher loop
            log.exception("channel %s crashed", row["channel"])
            return row["delivery_id"], f"{exc.__class__.__name__}: {exc}"[:1000], False

    def run_once(self, limit: int = 100, now: datetime | None = None) -> DispatchStats:
        """Claim up to ``limit`` due deliveries, send them, record outcomes."""
        rows = self.claim(limit, now)
        stats = DispatchStats(claimed=len(rows))
        if not rows:
            return stats
        by_id = {r["delivery_id"]: r for r in rows}
        results = list(self._pool.map(self._send, rows)) if self._pool else [self._send(r) for r in rows]
        done = utcnow()
        d = deliveries_t
        with self.ops.begin() as conn:
            for delivery_id, error, permanent in results:
                attempts = int(by_id[delivery_id]["attempts"]) + 1
                mine = sa.and_(
                    d.c.delivery_id == delivery_id, d.c.claimed_by == self.worker_id, d.c.state.in_(DUE_STATES)
                )
                if error is None:
                    values: dict[str, Any] = {
                        "state": "sent",
                        "sent_at": done,
                        "attempts": attempts,
                        "claimed_by": None,
                        "last_error": None,
                    }
                    stats.sent += 1
                elif permanent or attempts >= self.policy.max_attempts:
                    values = {"state": "dead", "attempts": attempts, "claimed_by": None, "last_error": error}
                    stats.dead += 1
                    stats.errors.append(error)
                    log.warning("delivery %s dead after %d attempts: %s", delivery_id, attempts, error)
                else:
                    delay = self.policy.backoff(attempts, self._rng)
                    values = {
                        "state": "failed",
                        "attempts": attempts,
                        "claimed_by": None,
                        "last_error": error,
                        "next_attempt_at": done + timedelta(seconds=delay),
                    }
                    stats.failed += 1
                    stats.errors.append(error)
                if conn.execute(sa.update(d).where(mine).values(**values)).rowcount != 1:
                    stats.lost_lease += 1  # another dispatcher re-claimed it after our lease ran out
        return stats

    def run_until_idle(self, limit: int = 100, max_rounds: int = 1000) -> DispatchStats:
        """Deliver everything due now (retries scheduled later are left for later)."""
        total = DispatchStats()
        for _ in range(max_rounds):
            st = self.run_once(limit)
            total.add(st)
            if st.claimed == 0:
                break
        return total

    def run_forever(self, stop: threading.Event, *, poll_s: float = 0.5, limit: int = 100) -> DispatchStats:
        total = DispatchStats()
        while not stop.is_set():
            st = self.run_once(limit)
            total.add(st)
            if st.claimed == 0:
                stop.wait(poll_s)
        return total


def next_due_in(ops: OpsDB, now: datetime | None = None) -> float | None:
    """Seconds until the next pending/failed delivery is due (None when the outbox is drained)."""
    now = now or utcnow()
    with ops.read() as conn:
        nxt = conn.execute(
            sa.select(sa.func.min(deliveries_t.c.next_attempt_at)).where(deliveries_t.c.state.in_(DUE_STATES))
        ).scalar()
    if nxt is None:
        return None
    if nxt.tzinfo is None:
        from datetime import UTC

        nxt = nxt.replace(tzinfo=UTC)
    return max(0.0, (nxt - now).total_seconds())


def outbox_counts(ops: OpsDB) -> dict[str, int]:
    with ops.read() as conn:
        rows = conn.execute(sa.select(deliveries_t.c.state, sa.func.count()).group_by(deliveries_t.c.state)).all()
    return {str(s): int(n) for s, n in rows}


def wait_until_delivered(ops: OpsDB, dispatcher: Dispatcher, timeout_s: float = 30.0) -> DispatchStats:
    """Keep dispatching (including retries) until nothing is pending or failed, or the timeout."""
    total = DispatchStats()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        total.add(dispatcher.run_once())
        nxt = next_due_in(ops)
        if nxt is None:
            break
        time.sleep(min(nxt, 0.2, max(0.0, deadline - time.monotonic())))
    return total
