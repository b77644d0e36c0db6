"""Signed, expiring, one-time acknowledgement links carried by every delivery.

A token is ``<payload>.<signature>``: the payload is base64url JSON ``{"a": alert_id, "s": subscriber_id,
"d": delivery_id, "exp": unix seconds}`` and the signature is HMAC-SHA256 over the payload with the platform's
acknowledgement secret. The API serves ``POST /alerts/{alert_id}/ack?token=...``; :func:`acknowledge_with_token`
is the whole server-side path (a small function an API layer may wrap with authentication, roles or audit):

* a token whose payload or signature was changed, or that names another alert, is refused (``tampered``);
* a token past ``exp`` is refused (``expired``);
* a token already used is refused (``replayed``): its delivery id is recorded in ``alert_ack_tokens`` in the same
  transaction as the acknowledgement, so a second use — even a concurrent one — changes nothing;
* a closed alert is refused (``closed``).

A refusal changes nothing in the ops DB. An acceptance records the acknowledgement transition with who (the
subscription's name) and when.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import sqlalchemy as sa

from access.roles import Permission, Principal, Role, require
from alerts.db import OpsDB, ack_tokens_t, subscriptions_t
from alerts.lifecycle import AlertLifecycle, AlertNotFoundError
from alerts.models import utcnow

#: where an acknowledgement through a link comes from (audit log ``source``)
ACK_LINK_SOURCE = "ack-link"


class AckRefusedError(ValueError):
    """A token the API must refuse; ``reason`` is one of tampered, expired, replayed, closed, unknown_alert."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class AckResult:
    alert_id: str
    version: int
    by: str
    at: datetime


@dataclass(frozen=True)
class AckClaims:
    alert_id: str
    subscriber_id: str
    delivery_id: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def make_ack_token(secret: str, claims: AckClaims) -> str:
    body = {"a": claims.alert_id, "s": claims.subscriber_id, "d": claims.delivery_id, "exp": int(claims.expires_at)}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(secret, payload)}"


def verify_ack_token(secret: str, token: str, alert_id: str, now: datetime | None = None) -> AckClaims:
    """The token's claims, or :class:`AckRefusedError` (tampered / expired). Does not check replay."""
    if not secret:
        raise ValueError("no acknowledgement secret configured")
    payload, _, sig = (token or "").partition(".")
    if not payload or not sig or not hmac.compare_digest(_sign(secret, payload), sig):
        raise AckRefusedError("tampered", "acknowledgement token signature is invalid (tampered or not ours)")
    try:
        body = json.loads(_unb64(payload))
        claims = AckClaims(str(body["a"]), str(body["s"]), str(body["d"]), int(body["exp"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise AckRefusedError("tampered", "acknowledgement token payload is unreadable") from exc
    if claims.alert_id != alert_id:
        raise AckRefusedError("tampered", "acknowledgement token belongs to another alert")
    now = now or utcnow()
    if now.timestamp() > claims.expires_at:
        raise AckRefusedError("expired", f"acknowledgement link expired at {datetime.fromtimestamp(claims.expires_at)}")
    return claims


@dataclass(frozen=True)
class AckLinks:
    """Builds the acknowledgement link of one delivery: ``<base_url>/alerts/<id>/ack?token=...``."""

    secret: str
    base_url: str
    ttl: timedelta = timedelta(hours=24)

    def url(self, alert_id: str, subscriber_id: str, delivery_id: str, now: datetime | None = None) -> str:
        exp = int(((now or utcnow()) + self.ttl).timestamp())
        token = make_ack_token(self.secret, AckClaims(alert_id, subscriber_id, delivery_id, exp))
        return f"{self.base_url.rstrip('/')}/alerts/{quote(alert_id, safe='')}/ack?token={token}"


def acknowledge_with_token(
    ops: OpsDB, alert_id: str, token: str, secret: str, *, now: datetime | None = None, note: str = ""
) -> AckResult:
    """Verify ``token`` for ``alert_id`` and record the acknowledgement (who: the token's subscription; when: now).

    Raises :class:`AckRefusedError` and changes nothing when the token is tampered, expired or replayed, or the
    alert is closed or unknown.
    """
    now = now or utcnow()
    claims = verify_ack_token(secret, token, alert_id, now)
    lc = AlertLifecycle(ops, validate=False)
    try:
        return _acknowledge(ops, lc, alert_id, claims, now, note)
    except sa.exc.IntegrityError as exc:  # the same link used concurrently: the other use won
        raise AckRefusedError("replayed", "acknowledgement link already used") from exc


def _acknowledge(
    ops: OpsDB, lc: AlertLifecycle, alert_id: str, claims: AckClaims, now: datetime, note: str
) -> AckResult:
    with ops.begin() as conn:
        used = conn.execute(
            sa.select(ack_tokens_t.c.used_at).where(ack_tokens_t.c.token_id == claims.delivery_id)
        ).scalar_one_or_none()
        if used is not None:
            raise AckRefusedError("replayed", f"acknowledgement link already used at {used.isoformat()}")
        name = conn.execute(
            sa.select(subscriptions_t.c.name).where(subscriptions_t.c.subscription_id == claims.subscriber_id)
        ).scalar_one_or_none()
        handler = str(name or claims.subscriber_id)
        # the link's holder acts as the recipient it was sent to, for this one alert (audited as such)
        who = Principal(handler, Role.OPERATOR, ACK_LINK_SOURCE)
        require(who.role, Permission.ACK_ALERT, who.name)
        try:
            res = lc.acknowledge_in(
                conn, alert_id, who, handler, note or f"acknowledged by {handler} (link)", now, ACK_LINK_SOURCE
            )
        except AlertNotFoundError as exc:
            raise AckRefusedError("unknown_alert", f"no alert {alert_id}") from exc
        except ValueError as exc:  # closed
            raise AckRefusedError("closed", str(exc)) from exc
        # inserted last, in the same transaction: a concurrent second use fails on the primary key and rolls back
        conn.execute(
            sa.insert(ack_tokens_t).values(
                token_id=claims.delivery_id,
                alert_id=alert_id,
                subscriber_id=claims.subscriber_id,
                used_at=now,
                version=res.version,
            )
        )
    return AckResult(alert_id, res.version, handler, now)
