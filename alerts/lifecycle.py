"""Alert lifecycle: open -> update -> resolve | cancel, plus acknowledgement by a recipient.

Every transition is one transaction: the alert row, its transition record (reason, evidence,
CAP 1.2 message) and the outbox rows for every recipient commit together or not at all
(transactional outbox). Idempotency keys are per (alert version, subscriber).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from access.audit import principal_role, record_audit
from access.roles import Permission, Principal, require, system
from alerts.cap import CapMessage, CapSettings, build_cap, cap_identifier, validate_cap
from alerts.db import OpsDB, alerts_t, deliveries_t, escalations_t, rule_state_t, transitions_t
from alerts.models import CameraInfo, Decision, Level, Status, utcnow
from alerts.routing import idempotency_key, subscription_matches
from alerts.rules import RuleState
from alerts.subscriptions import active_subscriptions

log = logging.getLogger(__name__)

GeometryLookup = Callable[[str | None], str | None]
MIN_CANCEL_REASON = 3  # characters: "a cancelled fire alert is a safety incident" - say why


class AlertNotFoundError(KeyError):
    pass


@dataclass(frozen=True)
class TransitionResult:
    alert_id: str
    version: int
    action: str
    status: str
    level: str
    hazard: str
    camera_id: str
    deliveries: int
    cap_identifier: str | None


def dedup_key(camera_id: str, hazard: str) -> str:
    return f"{camera_id}|{hazard}"


class AlertLifecycle:
    def __init__(
        self,
        ops: OpsDB,
        cap_settings: CapSettings = CapSettings(),
        geometry_lookup: GeometryLookup | None = None,
        validate: bool = True,
    ) -> None:
        self.ops = ops
        self.cap = cap_settings
        self.geometry_lookup = geometry_lookup
        self.validate = validate

    # -- rule decisions --------------------------------------------------------------------
    def apply(self, decision: Decision, camera: CameraInfo, conn: Connection | None = None) -> TransitionResult | None:
        """Apply one rule decision (open/update/resolve) inside ``conn`` or a new transaction."""
        if conn is None:
            with self.ops.begin() as c:
                return self.apply(decision, camera, c)
        active = conn.execute(
            sa.select(alerts_t).where(alerts_t.c.dedup_key == dedup_key(decision.camera_id, decision.hazard))
        ).first()
        if decision.action == "open" or (decision.action == "update" and active is None):
            if active is not None:  # de-dup: an alert is already active for this camera+hazard
                if Level.parse(active.level) == decision.level:
                    return None
                return self._transition(
                    conn,
                    dict(active._mapping),
                    Status.UPDATED,
                    decision.level,
                    "Update",
                    decision.reason,
                    decision.evidence,
                    decision.at,
                    "rules",
                )
            return self._open(conn, decision, camera)
        if active is None:
            return None  # resolve of an alert already closed (e.g. cancelled by an operator)
        row = dict(active._mapping)
        if decision.action == "resolve":
            return self._transition(
                conn,
                row,
                Status.RESOLVED,
                Level.parse(row["level"]),
                "Update",
                decision.reason,
                decision.evidence,
                decision.at,
                "rules",
            )
        return self._transition(
            conn,
            row,
            Status.UPDATED,
            decision.level,
            "Update",
            decision.reason,
            decision.evidence,
            decision.at,
            "rules",
        )

    def _open(self, conn: Connection, d: Decision, camera: CameraInfo) -> TransitionResult:
        alert_id = uuid.uuid4().hex[:20]
        row = {
            "alert_id": alert_id,
            "version": 0,
            "camera_id": d.camera_id,
            "hazard": d.hazard,
            "level": d.level.label,
            "status": Status.OPEN,
            "dedup_key": dedup_key(d.camera_id, d.hazard),
            "kelurahan_code": camera.kelurahan_code,
            "kecamatan_code": camera.kecamatan_code,
            "kota_code": camera.kota_code,
            "lat": camera.lat,
            "lon": camera.lon,
            "reason": d.reason,
            "evidence": json.dumps(d.evidence, default=str),
            "camera": json.dumps(asdict(camera)),
            "opened_at": d.at,
            "updated_at": d.at,
        }
        conn.execute(sa.insert(alerts_t).values(**row))
        return self._transition(conn, row, Status.OPEN, d.level, "Alert", d.reason, d.evidence, d.at, "rules")

    # -- operator / recipient actions ------------------------------------------------------
    def cancel(
        self,
        alert_id: str,
        reason: str,
        actor: str = "",
        at: datetime | None = None,
        *,
        by: Principal | None = None,
        source: str = "",
    ) -> TransitionResult:
        """Cancel an active alert (false alarm): a CAP Cancel goes to everyone who got it.

        ``by`` is the signed-in principal (an operator or admin); without it the call is an internal
        one, audited as role ``system`` under ``actor``. A reason is mandatory.
        """
        who = by or system(actor)
        require(who.role, Permission.CANCEL_ALERT, who.name)
        reason = (reason or "").strip()
        if len(reason) < MIN_CANCEL_REASON:
            raise ValueError(f"a cancellation needs a reason (at least {MIN_CANCEL_REASON} characters)")
        at = at or utcnow()
        with self.ops.begin() as conn:
            row = self._active(conn, alert_id)
            res = self._transition(
                conn, row, Status.CANCELLED, Level.parse(row["level"]), "Cancel", reason, {}, at, who.name
            )
            _audit(conn, who, "alert.cancel", row, res, reason, source, at)
            # the rules must not reopen or update it right away: reset their state, start cooldown
            st_row = conn.execute(
                sa.select(rule_state_t.c.state).where(
                    rule_state_t.c.camera_id == row["camera_id"], rule_state_t.c.hazard == row["hazard"]
                )
            ).scalar_one_or_none()
            st = RuleState.from_json(st_row)
            st.active, st.streak_dir, st.streak_frames, st.streak_level, st.streak_since = 0, 0, 0, 0, None
            st.last_resolved_at = at.isoformat()
            save_rule_state(conn, row["camera_id"], row["hazard"], st, at)
            return res

    def acknowledge(
        self,
        alert_id: str,
        actor: str = "",
        note: str = "",
        at: datetime | None = None,
        *,
        by: Principal | None = None,
        source: str = "",
    ) -> TransitionResult:
        """A recipient confirms they handle it (recorded, not broadcast).

        ``by`` is the signed-in principal (operator or admin); ``actor`` may name the officer who
        handles it when it differs from the account. Without ``by`` the call is internal (role ``system``).
        """
        who = by or system(actor)
        require(who.role, Permission.ACK_ALERT, who.name)
        handler = (actor or "").strip() or who.name
        at = at or utcnow()
        with self.ops.begin() as conn:
            return self.acknowledge_in(conn, alert_id, who, handler, note, at, source)

    def acknowledge_in(
        self, conn: Connection, alert_id: str, who: Principal, handler: str, note: str, at: datetime, source: str = ""
    ) -> TransitionResult:
        """:meth:`acknowledge` inside the caller's transaction (e.g. with a one-time link recorded beside it);
        the caller has checked ``who``'s permission."""
        row = self._active(conn, alert_id)
        res = self._transition(
            conn,
            row,
            Status.ACKNOWLEDGED,
            Level.parse(row["level"]),
            None,
            note or f"acknowledged by {handler}",
            {},
            at,
            handler,
        )
        _audit(conn, who, "alert.acknowledge", row, res, note, source, at, handler=handler)
        return res

    def escalate(self, conn: Connection, alert_id: str, tier: int, reason: str, at: datetime) -> TransitionResult:
        """Re-broadcast an unacknowledged alert (CAP Update, same level) to every recipient up to ``tier``."""
        row = self._active(conn, alert_id)
        conn.execute(
            sa.insert(escalations_t).values(
                alert_id=alert_id, tier=tier, at=at, version=int(row["version"]) + 1, reason=reason
            )
        )
        return self._transition(
            conn,
            row,
            row["status"],
            Level.parse(row["level"]),
            "Update",
            reason,
            {"escalation_tier": tier},
            at,
            "escalation",
        )

    def _active(self, conn: Connection, alert_id: str) -> dict[str, Any]:
        q = sa.select(alerts_t).where(alerts_t.c.alert_id == alert_id)
        if self.ops.is_postgres:
            q = q.with_for_update()
        row = conn.execute(q).first()
        if row is None:
            raise AlertNotFoundError(alert_id)
        if row.status not in Status.ACTIVE:
            raise ValueError(f"alert {alert_id} is {row.status}, not active")
        return dict(row._mapping)

    # -- the one place a transition is written ---------------------------------------------
    def _transition(
        self,
        conn: Connection,
        row: dict[str, Any],
        status: str,
        level: Level,
        msg_type: str | None,
        reason: str,
        evidence: Mapping[str, Any],
        at: datetime,
        actor: str,
    ) -> TransitionResult:
        alert_id = row["alert_id"]
        version = int(row["version"]) + 1
        camera = json.loads(row["camera"]) if row.get("camera") else {"camera_id": row["camera_id"]}
        ident = cap_xml = cap_uri = None
        payload: dict[str, Any] = {
            "alert_id": alert_id,
            "version": version,
            "hazard": row["hazard"],
            "level": level.label,
            "status": status,
            "msg_type": msg_type,
            "reason": reason,
            "evidence": dict(evidence),
            "camera": camera,
            "kelurahan_code": row.get("kelurahan_code"),
            "opened_at": _iso(row["opened_at"]),
            "at": _iso(at),
            "actor": actor,
        }
        if msg_type is not None:
            prior = conn.execute(
                sa.select(transitions_t.c.cap_identifier, transitions_t.c.at)
                .where(transitions_t.c.alert_id == alert_id, transitions_t.c.cap_identifier.is_not(None))
                .order_by(transitions_t.c.version)
            ).all()
            geometry = self.geometry_lookup(row.get("kelurahan_code")) if self.geometry_lookup else None
            msg = CapMessage(
                alert_id=alert_id,
                version=version,
                hazard=row["hazard"],
                level=level,
                msg_type=msg_type,
                status=status,
                sent=at,
                camera=camera,
                reason=reason,
                evidence=evidence,
                references=[(self.cap.sender, p.cap_identifier, p.at) for p in prior],
                kelurahan_geometry=geometry,
            )
            xml = build_cap(msg, self.cap)
            if self.validate:
                validate_cap(xml)
            ident = cap_identifier(alert_id, version)
            cap_xml = xml.decode()
            cap_uri = f"{self.cap.cap_key_prefix}{ident}.xml"
            payload.update(cap_identifier=ident, cap_xml_uri=cap_uri)
        closed = status in Status.CLOSED
        values: dict[str, Any] = {
            "version": version,
            "status": status,
            "level": level.label,
            "reason": reason,
            "updated_at": at,
            "dedup_key": None if closed else row.get("dedup_key") or dedup_key(row["camera_id"], row["hazard"]),
        }
        if evidence:
            values["evidence"] = json.dumps(dict(evidence), default=str)
        if cap_uri:
            values["cap_xml_uri"] = cap_uri
        if status == Status.ACKNOWLEDGED:
            values["acknowledged_by"] = actor
        n = conn.execute(
            sa.update(alerts_t)
            .where(alerts_t.c.alert_id == alert_id, alerts_t.c.version == row["version"])
            .values(**values)
        ).rowcount
        if n != 1:
            raise RuntimeError(f"concurrent change to alert {alert_id} (expected version {row['version']})")
        conn.execute(
            sa.insert(transitions_t).values(
                alert_id=alert_id,
                version=version,
                status=status,
                level=level.label,
                msg_type=msg_type,
                reason=reason,
                evidence=json.dumps(dict(evidence), default=str),
                actor=actor,
                at=at,
                cap_identifier=ident,
                cap_xml=cap_xml,
                cap_xml_uri=cap_uri,
                payload=json.dumps(payload, default=str),
            )
        )
        n_deliveries = 0
        if msg_type is not None:
            n_deliveries = self._enqueue(conn, alert_id, version, row["hazard"], level, camera, status, at)
        log.info(
            "alert %s v%d %s %s %s -> %d deliveries",
            alert_id,
            version,
            row["hazard"],
            status,
            level.label,
            n_deliveries,
        )
        return TransitionResult(
            alert_id, version, "transition", status, level.label, row["hazard"], row["camera_id"], n_deliveries, ident
        )

    def _enqueue(
        self,
        conn: Connection,
        alert_id: str,
        version: int,
        hazard: str,
        level: Level,
        camera: Mapping[str, Any],
        status: str,
        at: datetime,
    ) -> int:
        cam = CameraInfo(**{k: camera.get(k) for k in CameraInfo.__dataclass_fields__ if k in camera})  # type: ignore[arg-type]
        previous = set(
            conn.execute(
                sa.select(deliveries_t.c.subscriber_id).where(deliveries_t.c.alert_id == alert_id).distinct()
            ).scalars()
        )
        tier = current_tier(conn, alert_id)
        subs = [
            s
            for s in active_subscriptions(conn, hazard)
            if s["subscription_id"] in previous
            or (
                status not in Status.CLOSED
                and int(s.get("escalation_tier") or 0) <= tier
                and subscription_matches(s, hazard, level, cam)
            )
        ]
        rows = [
            {
                "delivery_id": uuid.uuid4().hex,
                "alert_id": alert_id,
                "version": version,
                "subscriber_id": s["subscription_id"],
                "channel": s["channel"],
                "idempotency_key": idempotency_key(alert_id, version, s["subscription_id"]),
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": at if at <= utcnow() else utcnow(),
                "created_at": utcnow(),
            }
            for s in subs
        ]
        if rows:
            conn.execute(sa.insert(deliveries_t), rows)
        return len(rows)


def _audit(
    conn: Connection,
    who: Principal,
    action: str,
    row: Mapping[str, Any],
    res: TransitionResult,
    reason: str,
    source: str,
    at: datetime,
    handler: str | None = None,
) -> None:
    before = {k: row.get(k) for k in ("status", "level", "version", "acknowledged_by", "reason")}
    after: dict[str, Any] = {"status": res.status, "level": res.level, "version": res.version}
    if handler is not None:
        after["acknowledged_by"] = handler
    record_audit(
        conn, actor=who.name, role=principal_role(who), action=action, target_type="alert", target_id=res.alert_id,
        before=before, after=after, reason=reason, source=source or who.source, at=at,
    )  # fmt: skip


def current_tier(conn: Connection, alert_id: str) -> int:
    """The escalation tier an alert reached (0: not escalated)."""
    return int(
        conn.execute(sa.select(sa.func.max(escalations_t.c.tier)).where(escalations_t.c.alert_id == alert_id)).scalar()
        or 0
    )


def save_rule_state(conn: Connection, camera_id: str, hazard: str, state: RuleState, at: datetime) -> None:
    n = conn.execute(
        sa.update(rule_state_t)
        .where(rule_state_t.c.camera_id == camera_id, rule_state_t.c.hazard == hazard)
        .values(state=state.to_json(), updated_at=at)
    ).rowcount
    if not n:
        conn.execute(
            sa.insert(rule_state_t).values(camera_id=camera_id, hazard=hazard, state=state.to_json(), updated_at=at)
        )


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value is not None else None)


def get_alert(ops: OpsDB, alert_id: str) -> dict[str, Any]:
    with ops.read() as conn:
        row = conn.execute(sa.select(alerts_t).where(alerts_t.c.alert_id == alert_id)).first()
    if row is None:
        raise AlertNotFoundError(alert_id)
    return dict(row._mapping)


def list_alerts(ops: OpsDB, *, active_only: bool = False) -> list[dict[str, Any]]:
    q = sa.select(alerts_t).order_by(alerts_t.c.updated_at.desc())
    if active_only:
        q = q.where(alerts_t.c.status.in_(Status.ACTIVE))
    with ops.read() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def transitions(ops: OpsDB, alert_id: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(transitions_t).order_by(transitions_t.c.at, transitions_t.c.alert_id, transitions_t.c.version)
    if alert_id:
        q = q.where(transitions_t.c.alert_id == alert_id)
    with ops.read() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
