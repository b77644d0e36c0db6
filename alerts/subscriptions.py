"""Subscriptions: agencies by hazard and anyone by area, stored transactionally in the ops DB."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from access.audit import principal_role, record_audit
from access.roles import SYSTEM, Permission, Principal, require
from alerts.allowlist import webhook_policy as allowlist_policy
from alerts.channels import CHANNELS, WebhookPolicy, validate_webhook_url
from alerts.db import OpsDB, subscriptions_t
from alerts.models import AGENCIES, HAZARDS, Level, utcnow

AREA_TYPES = ("kelurahan", "kecamatan", "kota", "point")


@dataclass(frozen=True)
class SubscriptionSpec:
    name: str
    channel: str
    target: str
    kind: str = "area"  # agency | area
    hazard: str | None = None
    area_type: str | None = None
    area_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    min_level: str = "Waspada"
    format: str = "json"
    secret: str | None = None
    #: 0: every matching alert; N >= 1: only alerts left unacknowledged until they escalated to tier N
    escalation_tier: int = 0

    def validate(self, webhook_policy: WebhookPolicy = WebhookPolicy()) -> None:
        if not self.name.strip():
            raise ValueError("a subscription needs a name")
        if self.kind not in ("agency", "area"):
            raise ValueError(f"kind must be agency or area, not {self.kind!r}")
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {self.channel!r}")
        if self.hazard is not None and self.hazard not in HAZARDS:
            raise ValueError(f"hazard must be one of {', '.join(HAZARDS)}, not {self.hazard!r}")
        Level.parse(self.min_level)
        if self.escalation_tier < 0:
            raise ValueError("escalation_tier must be >= 0")
        if self.format not in ("json", "cap"):
            raise ValueError("format must be json or cap")
        if self.area_type is not None and self.area_type not in AREA_TYPES:
            raise ValueError(f"area_type must be one of {', '.join(AREA_TYPES)}")
        if self.kind == "area" and self.area_type is None:
            raise ValueError("an area subscription needs an area (kelurahan, kecamatan, kota or point)")
        if self.area_type == "point":
            if self.lat is None or self.lon is None or not self.radius_m or self.radius_m <= 0:
                raise ValueError("a point subscription needs lat, lon and a positive radius_m")
            if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
                raise ValueError("lat/lon out of range")
        elif self.area_type is not None and not self.area_code:
            raise ValueError(f"a {self.area_type} subscription needs an area code")
        if self.channel == "webhook":
            validate_webhook_url(self.target, webhook_policy)
        if self.channel == "email" and "@" not in self.target:
            raise ValueError("email target must be an address")


def add_subscription(
    ops: OpsDB,
    spec: SubscriptionSpec,
    *,
    webhook_policy: WebhookPolicy | None = None,
    by: Principal = SYSTEM,
    source: str = "",
) -> dict[str, Any]:
    """Validate and store a subscription (admins only), audited in the same transaction.

    ``by`` is the signed-in principal; the default is an internal caller (set-up, demo), audited
    as role ``system``. The webhook secret is never written to the audit log. Without a
    ``webhook_policy`` a webhook target must be https and public or on the admin allow-list.
    """
    require(by.role, Permission.MANAGE_SUBSCRIPTIONS, by.name)
    spec.validate(webhook_policy or allowlist_policy(ops))
    row = asdict(spec)
    row["min_level"] = Level.parse(spec.min_level).label
    if spec.channel == "webhook" and not row["secret"]:
        row["secret"] = secrets.token_urlsafe(32)
    row.update(subscription_id=uuid.uuid4().hex[:16], active=True, created_at=utcnow())
    with ops.begin() as conn:
        conn.execute(sa.insert(subscriptions_t).values(**row))
        record_audit(
            conn, actor=by.name, role=principal_role(by), action="subscription.add", target_type="subscription",
            target_id=row["subscription_id"], after=row, source=source or by.source,
        )  # fmt: skip
    return row


def list_subscriptions(
    ops: OpsDB, *, include_inactive: bool = False, hazard: str | None = None
) -> list[dict[str, Any]]:
    q = sa.select(subscriptions_t).order_by(subscriptions_t.c.created_at, subscriptions_t.c.subscription_id)
    if not include_inactive:
        q = q.where(subscriptions_t.c.active.is_(True))
    if hazard:
        q = q.where(sa.or_(subscriptions_t.c.hazard.is_(None), subscriptions_t.c.hazard == hazard))
    with ops.read() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def remove_subscription(ops: OpsDB, subscription_id: str, *, by: Principal = SYSTEM, source: str = "") -> bool:
    """Deactivate (kept for the delivery history); returns False if no such active subscription."""
    require(by.role, Permission.MANAGE_SUBSCRIPTIONS, by.name)
    with ops.begin() as conn:
        old = conn.execute(
            sa.select(subscriptions_t).where(
                subscriptions_t.c.subscription_id == subscription_id, subscriptions_t.c.active.is_(True)
            )
        ).first()
        if old is None:
            return False
        conn.execute(
            sa.update(subscriptions_t).where(subscriptions_t.c.subscription_id == subscription_id).values(active=False)
        )
        before = dict(old._mapping)
        record_audit(
            conn, actor=by.name, role=principal_role(by), action="subscription.remove", target_type="subscription",
            target_id=subscription_id, before=before, after={**before, "active": False}, source=source or by.source,
        )  # fmt: skip
    return True


def ensure_agency_subscriptions(
    ops: OpsDB, targets: dict[str, tuple[str, str]], *, webhook_policy: WebhookPolicy | None = None
) -> list[dict[str, Any]]:
    """Make sure each agency (code -> (channel, target)) has an active subscription for its hazards.

    Idempotent: an agency that already has an active subscription with the same channel and
    target for a hazard is left alone.
    """
    made: list[dict[str, Any]] = []
    existing = {(s["name"], s["hazard"], s["channel"], s["target"]) for s in list_subscriptions(ops)}
    for agency in AGENCIES:
        if agency.code not in targets:
            continue
        channel, target = targets[agency.code]
        for hazard in agency.hazards:
            if (agency.name, hazard, channel, target) in existing:
                continue
            made.append(
                add_subscription(
                    ops,
                    SubscriptionSpec(name=agency.name, kind="agency", hazard=hazard, channel=channel, target=target),
                    webhook_policy=webhook_policy,
                )
            )
    return made


def active_subscriptions(conn: sa.Connection, hazard: str) -> Sequence[dict[str, Any]]:
    q = sa.select(subscriptions_t).where(
        subscriptions_t.c.active.is_(True),
        sa.or_(subscriptions_t.c.hazard.is_(None), subscriptions_t.c.hazard == hazard),
    )
    return [dict(r._mapping) for r in conn.execute(q)]
