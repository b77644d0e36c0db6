"""Escalation: an alert nobody acknowledged within its level's time goes to the next recipient tier, again.

Each sensor tick calls :func:`escalate_due`. An active alert that has no acknowledgement and whose last broadcast
(its first delivery, or its last escalation) is older than ``ack_within_s[level]`` is escalated one tier: a CAP Update with
the same level goes to every recipient it reached before (a repeat delivery, each with a fresh acknowledgement
link) and to the subscriptions of the new tier (``escalation_tier``). This repeats, tier after tier, until someone
acknowledges or ``max_tier`` is reached.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from alerts.cap import CapSettings
from alerts.db import OpsDB, alerts_t, deliveries_t, escalations_t, transitions_t
from alerts.lifecycle import AlertLifecycle, GeometryLookup, TransitionResult
from alerts.models import Status, as_utc, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EscalationPolicy:
    #: seconds an alert of each level may stay unacknowledged before the next tier hears about it
    ack_within_s: Mapping[str, float] = field(
        default_factory=lambda: {"Awas": 300.0, "Siaga": 900.0, "Waspada": 1800.0}
    )
    max_tier: int = 3
    #: hazards that escalate (camera-health alerts stay with the operators)
    hazards: tuple[str, ...] = ("fire", "smoke", "flood", "crowd", "panic")


def escalate_due(
    ops: OpsDB,
    *,
    now: datetime | None = None,
    policy: EscalationPolicy = EscalationPolicy(),
    cap_settings: CapSettings = CapSettings(),
    geometry_lookup: GeometryLookup | None = None,
) -> list[TransitionResult]:
    """Escalate every alert that is overdue for acknowledgement; returns the escalation transitions."""
    now = as_utc(now or utcnow())
    lc = AlertLifecycle(ops, cap_settings, geometry_lookup=geometry_lookup)
    acked = sa.select(transitions_t.c.alert_id).where(transitions_t.c.status == Status.ACKNOWLEDGED)
    out: list[TransitionResult] = []
    with ops.begin() as conn:
        rows = conn.execute(
            sa.select(alerts_t.c.alert_id, alerts_t.c.level, alerts_t.c.opened_at, alerts_t.c.hazard).where(
                alerts_t.c.status.in_((Status.OPEN, Status.UPDATED)),
                alerts_t.c.hazard.in_(policy.hazards),
                alerts_t.c.alert_id.not_in(acked),
            )
        ).all()
        for r in rows:
            limit = policy.ack_within_s.get(r.level)
            if limit is None:
                continue
            last = conn.execute(
                sa.select(escalations_t.c.tier, escalations_t.c.at)
                .where(escalations_t.c.alert_id == r.alert_id)
                .order_by(escalations_t.c.tier.desc())
                .limit(1)
            ).first()
            tier, since = (int(last.tier), as_utc(last.at)) if last else (0, as_utc(r.opened_at))
            # the clock starts when recipients were told (a backfilled alert is not overdue the moment it appears)
            told = conn.execute(
                sa.select(sa.func.min(deliveries_t.c.created_at)).where(deliveries_t.c.alert_id == r.alert_id)
            ).scalar()
            if told is not None and tier == 0:
                since = max(since, as_utc(told))
            if tier >= policy.max_tier or now - since < timedelta(seconds=limit):
                continue
            reason = f"{r.hazard} {r.level} not acknowledged within {limit:.0f} s: escalated to tier {tier + 1}"
            out.append(lc.escalate(conn, r.alert_id, tier + 1, reason, now))
            log.warning("alert %s: %s", r.alert_id, reason)
    return out
